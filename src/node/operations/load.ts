/**
 * Loads the generated operation files from disk at start (Node), refusing to
 * start when they are missing or stale against the `.graphql` sources.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPANION_FILE, MANIFEST_FILE, checkCompanion, checkManifest, type OperationBundle } from '../../core/operations/manifest.ts';
import { readSources } from './source.ts';

/** A start-up failure whose message tells the operator what to do. */
export class OperationsError extends Error {
  override readonly name = 'OperationsError';
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OperationsError(`${path} is missing: run \`subway register\` to generate it.`);
    }
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OperationsError(`${path} is not valid JSON (${(err as Error).message}): run \`subway register\` again.`);
  }
}

/** Lists how the generated files differ from the sources; empty when they are fresh. */
export async function findStaleness(dir: string, files: Record<string, string>): Promise<string[]> {
  const sources = await readSources(dir);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    seen.add(source.file);
    const registered = files[source.file];
    if (registered === undefined) problems.push(`${source.file} is not registered`);
    else if (registered !== source.id) problems.push(`${source.file} changed since it was registered`);
  }
  for (const file of Object.keys(files)) if (!seen.has(file)) problems.push(`${file} was registered but no longer exists`);
  return problems;
}

export async function loadOperations(dir: string): Promise<OperationBundle> {
  let manifest, companion;
  try {
    manifest = checkManifest(await readJson(join(dir, MANIFEST_FILE)), join(dir, MANIFEST_FILE));
    companion = checkCompanion(await readJson(join(dir, COMPANION_FILE)), join(dir, COMPANION_FILE));
  } catch (err) {
    if (err instanceof OperationsError) throw err;
    throw new OperationsError((err as Error).message);
  }
  const stale = await findStaleness(dir, companion.files);
  if (stale.length > 0) {
    throw new OperationsError(`The persisted operations in ${dir} are stale: ${stale.join('; ')}. Run \`subway register\`.`);
  }
  const ids = new Set(manifest.operations.map((o) => o.id));
  for (const [file, id] of Object.entries(companion.files)) {
    if (!ids.has(id)) throw new OperationsError(`${file} (${id}) is missing from ${MANIFEST_FILE}. Run \`subway register\`.`);
  }
  return { manifest, companion };
}
