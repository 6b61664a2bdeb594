/**
 * The rooms of src/ and what each may import. A folder says where its code
 * runs; this test keeps it true:
 *
 * - src/core/      runtime-neutral (Web APIs only): what the Worker bundles
 * - src/node/      the Node side (http, http2, ws, the filesystem)
 * - src/worker/    the Cloudflare Workers side
 * - src/register/  the build-time register tool (the only user of GraphQL Code Generator)
 * - src/client/    the browser client and React hook: nothing outside itself
 * - src/example/   the embedded example upstream (Node)
 * - src/cli/       the `subway` command: may use any room but the browser's
 *
 * Outside src/, only this repository's own Worker entry (src/worker/entry.ts)
 * imports something: the JSON files of persisted-operations/ it bundles.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

type Room = 'core' | 'node' | 'worker' | 'register' | 'client' | 'example' | 'cli';

/** Rooms each room may import from (relative imports). */
const MAY_IMPORT: Record<Room, readonly Room[]> = {
  core: ['core'],
  worker: ['worker', 'core'],
  client: ['client'],
  node: ['node', 'core', 'example'],
  register: ['register', 'node', 'core'],
  example: ['example'],
  cli: ['cli', 'core', 'node', 'worker', 'register', 'example'],
};

/** Packages each room may import (bare specifiers, and their subpaths); `*` allows any. */
const PACKAGES: Record<Room, readonly string[] | '*'> = {
  core: ['hono', 'graphql', 'graphql-ws'],
  worker: ['hono', 'graphql', 'graphql-ws', 'cloudflare:workers'],
  client: ['react'],
  node: '*',
  register: '*',
  example: '*',
  cli: '*',
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...(await sourceFiles(path)));
    } else if (/\.(ts|tsx|mts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Every module specifier a file imports or re-exports, statically or dynamically. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1]!);
  return found;
}

const roomOf = (file: string): Room => relative(SRC, file).split('/')[0] as Room;
const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

describe('the layout', () => {
  it('every file of src/ is in a known room', async () => {
    const rooms = new Set(Object.keys(MAY_IMPORT));
    const strays = (await sourceFiles(SRC)).map((f) => relative(SRC, f)).filter((f) => !rooms.has(f.split('/')[0]!));
    expect(strays).toEqual([]);
  });

  it('each room imports only what runs where it runs', async () => {
    const problems: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const room = roomOf(file);
      // Comments may show imports by way of example.
      const code = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
      for (const spec of specifiers(code)) {
        const shown = `${relative(SRC, file)} imports ${spec}`;
        if (spec.startsWith('.')) {
          const resolved = resolve(dirname(file), spec);
          if (relative(SRC, resolved).startsWith('..')) {
            const bundled = relative(SRC, file) === 'worker/entry.ts' && relative(resolve(SRC, '..'), resolved).startsWith('persisted-operations/') && spec.endsWith('.json');
            if (!bundled) problems.push(`${shown} (outside src/)`);
            continue;
          }
          const target = roomOf(resolved);
          if (!MAY_IMPORT[room].includes(target)) problems.push(`${shown} (src/${room} may not import src/${target})`);
        } else if (spec.startsWith('node:')) {
          if (PACKAGES[room] !== '*') problems.push(`${shown} (src/${room} runs where Node's built-ins do not)`);
        } else {
          const allowed = PACKAGES[room];
          if (allowed !== '*' && !allowed.includes(packageName(spec)) && !allowed.includes(spec)) problems.push(`${shown} (not a dependency src/${room} may use)`);
        }
      }
      if (PACKAGES[room] !== '*') {
        // Node's globals are not Web APIs either.
        for (const global of ['Buffer', 'process', '__dirname', 'require']) {
          if (new RegExp(`\\b${global}\\b\\s*[.(]`).test(code)) problems.push(`${relative(SRC, file)} uses Node's ${global}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
