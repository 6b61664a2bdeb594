/**
 * The docs hold together: every relative link of README.md and docs/*.md
 * names a file that exists and, with a `#fragment`, a heading of that file
 * (GitHub's anchor rules: lower case, punctuation dropped, spaces to dashes,
 * `-1`, `-2` for repeats). The README stays a first screen.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

async function docFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join('docs', f));
  return ['README.md', ...docs];
}

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  // Headings outside fenced code blocks.
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe('the docs', () => {
  it('link only to files and headings that exist', async () => {
    const broken: string[] = [];
    for (const file of await docFiles()) {
      const text = (await readFile(join(ROOT, file), 'utf8')).replace(/^```[\s\S]*?^```/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, fragment] = target!.split('#') as [string, string | undefined];
        const resolved = path ? normalize(join(dirname(join(ROOT, file)), path)) : join(ROOT, file);
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (fragment && resolved.endsWith('.md') && !anchorsOf(await readFile(resolved, 'utf8')).has(fragment)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('name the packages as they are published: no `subway/client` or `subway/react` left in docs, sources or the demo', async () => {
    const stale: string[] = [];
    const walk = async (dir: string): Promise<string[]> => {
      const out: string[] = [];
      for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!['node_modules', 'dist'].includes(entry.name)) out.push(...(await walk(path)));
        } else if (/\.(ts|tsx|md)$/.test(entry.name)) out.push(path);
      }
      return out;
    };
    for (const file of [...(await docFiles()), ...(await walk('src')), ...(await walk('demo')), ...(await walk('test'))]) {
      if (file === 'test/docs.test.ts') continue;
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const name of ['subway/client', 'subway/react']) if (new RegExp(`['"\`]${name}['"\`]`).test(text)) stale.push(`${file}: ${name}`);
    }
    expect(stale).toEqual([]);
  });

  it('keep the README a first screen', async () => {
    const lines = (await readFile(join(ROOT, 'README.md'), 'utf8')).split('\n').length;
    expect(lines).toBeLessThanOrEqual(180);
  });
});
