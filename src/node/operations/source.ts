/**
 * Reads the source of truth: `<dir>/<Name>.graphql`, one named operation per
 * file. Node-only (filesystem); the hash is of the exact file bytes.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SourceFile {
  /** File name relative to the folder, e.g. `Ticks.graphql`. */
  file: string;
  /** SHA-256 hex of the exact bytes. */
  id: string;
  /** The bytes decoded as UTF-8 (refused when they are not valid UTF-8). */
  body: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readSources(dir: string): Promise<SourceFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`Cannot read the operations folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const files = names.filter((n) => n.endsWith('.graphql')).sort();
  return Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(join(dir, file));
      let body: string;
      try {
        body = decoder.decode(bytes);
      } catch {
        throw new Error(`${join(dir, file)}: not valid UTF-8`);
      }
      return { file, id: sha256Hex(bytes), body };
    }),
  );
}
