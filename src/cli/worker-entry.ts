/**
 * The Worker's entry module for one folder of operations, written for wrangler
 * by `subway worker dev|build|deploy` (and by the tests' Worker fixture).
 *
 * It imports exactly that folder's two generated files, by absolute path, and
 * hands them to `createWorkerHandler`, and exports the Durable Object class
 * of the shared modes (`SubwayHub`); wrangler gets it as the Worker's
 * script, so `dev`, `build` and `deploy` bundle the same operations. (A
 * wrangler `[alias]` would do it in fewer lines, but `wrangler dev` ignores
 * `--alias` when wrangler.toml has an `[alias]` table, and then silently
 * served the default folder.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPANION_FILE, MANIFEST_FILE } from '../core/operations/manifest.ts';

/** The Worker adapter next to this module: the TypeScript source here, the built JavaScript in the package. */
const ADAPTER = fileURLToPath(new URL(`../worker/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** A path as an import specifier esbuild reads on every platform. */
const specifier = (path: string) => JSON.stringify(path.split(sep).join('/'));

/** The module's text for the operations in `dir`. */
export function workerEntrySource(dir: string): string {
  const folder = resolve(dir);
  return [
    `// Written by \`subway worker\`: the gateway with the operations of ${folder}.`,
    `import manifest from ${specifier(join(folder, MANIFEST_FILE))};`,
    `import companion from ${specifier(join(folder, COMPANION_FILE))};`,
    `import { createWorkerHandler } from ${specifier(ADAPTER)};`,
    '',
    'export default createWorkerHandler({ manifest, companion });',
    '// The Durable Object the shared modes hand subscriptions to (bound as SUBWAY_HUB in wrangler.toml).',
    `export { SubwayHub } from ${specifier(ADAPTER)};`,
    '',
  ].join('\n');
}

export interface WorkerEntry extends AsyncDisposable {
  /** The entry module, `entry.js` in a folder of its own (wrangler names the bundle after it). */
  readonly path: string;
  dispose(): Promise<void>;
}

/** Writes the entry for `dir` into a temporary folder, removed by `dispose`. */
export async function writeWorkerEntry(dir: string): Promise<WorkerEntry> {
  const folder = await mkdtemp(join(tmpdir(), 'subway-worker-'));
  const path = join(folder, 'entry.js');
  await writeFile(path, workerEntrySource(dir));
  const dispose = () => rm(folder, { recursive: true, force: true });
  return { path, dispose, [Symbol.asyncDispose]: dispose };
}
