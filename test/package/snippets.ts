/**
 * The code blocks of the docs that claim to compile: a fenced `ts`/`tsx`
 * block right after a `<!-- compile: <kind> -->` line. The kind names the
 * program it is checked in (test/package/app.test.ts writes one tsconfig per
 * kind): `app` a browser app (DOM, JSX, bundler resolution), `node` Node
 * (NodeNext, Node's types), `worker` a Cloudflare Worker (bundler resolution,
 * Web APIs).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const KINDS = ['app', 'node', 'worker'] as const;
export type SnippetKind = (typeof KINDS)[number];

export interface Snippet {
  /** e.g. `docs/node.md` */
  doc: string;
  /** 1-based line of the fence in the doc. */
  line: number;
  kind: SnippetKind;
  lang: 'ts' | 'tsx';
  code: string;
}

/** The markdown files whose blocks are compiled: README.md, docs/*.md, and the client package's README. */
export async function docFiles(root: string): Promise<string[]> {
  const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`), 'src/client/README.md'];
}

export async function extractSnippets(root: string): Promise<{ snippets: Snippet[]; problems: string[] }> {
  const snippets: Snippet[] = [];
  const problems: string[] = [];
  for (const doc of await docFiles(root)) {
    const lines = (await readFile(join(root, doc), 'utf8')).split('\n');
    lines.forEach((text, i) => {
      const marker = /^<!-- compile: (\S+) -->$/.exec(text.trim());
      if (!marker) return;
      const kind = marker[1] as SnippetKind;
      const fence = /^```(ts|tsx)$/.exec(lines[i + 1] ?? '');
      if (!KINDS.includes(kind)) problems.push(`${doc}:${i + 1}: unknown kind "${marker[1]}" (${KINDS.join(', ')})`);
      else if (!fence) problems.push(`${doc}:${i + 1}: the marker is not followed by a \`\`\`ts or \`\`\`tsx block`);
      else {
        const end = lines.findIndex((l, j) => j > i + 1 && l === '```');
        if (end < 0) problems.push(`${doc}:${i + 2}: the block never ends`);
        else snippets.push({ doc, line: i + 2, kind, lang: fence[1] as 'ts' | 'tsx', code: `${lines.slice(i + 2, end).join('\n')}\n` });
      }
    });
  }
  return { snippets, problems };
}

/** A file name that says where the block came from: `docs-node.md-60.ts`. */
export const snippetFile = (s: Snippet) => `${s.doc.replace(/\//g, '-')}-${s.line}.${s.lang}`;
