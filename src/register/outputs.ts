/**
 * Everything `npm run register` generates from the folder, as file name →
 * exact text, so the same function serves writing, `--check` and `--watch`.
 * Node-only.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import type { Aliases } from '../core/operations/aliases.ts';
import { BUNDLE_FILE, toBundle } from '../core/operations/bundle.ts';
import { signBundle, type SigningKey } from '../core/operations/signature.ts';
import { COMPANION_FILE, MANIFEST_FILE, checkCompanion, formatJson, type PersistedQueryManifest } from '../core/operations/manifest.ts';
import { verifyId } from './import.ts';
import { compileOperations } from './compile.ts';
import type { SourceFile } from '../node/operations/source.ts';
import { TYPES_FILE, generateTypes } from './types.ts';

/** The flat `{sha256 hex: body}` map `--emit-map` writes (the shape Yoga/Hive stores and codegen's client preset use). */
export const MAP_FILE = 'persisted-documents.json';

export interface BuildOptions {
  /** The folder as shown in messages. @default "" (file names alone) */
  displayDir?: string;
  /** Aliases to keep (from `subway.json` and imports). @default {} */
  aliases?: Aliases;
  /** Also generate the `{hash: body}` map. @default false */
  emitMap?: boolean;
  /** Sign the bundle with this key (`--sign`). @default unsigned */
  signingKey?: SigningKey;
}

export interface Outputs {
  /** Generated file name → its exact text. Empty when there are problems. */
  files: Map<string, string>;
  manifest: PersistedQueryManifest;
  problems: string[];
  notices: string[];
}

export async function buildOutputs(sources: readonly SourceFile[], schema: GraphQLSchema, options: BuildOptions = {}): Promise<Outputs> {
  const { bundle, problems, notices } = compileOperations(sources, schema, options.displayDir ?? '', options.aliases ?? {});
  // A verified alias must still be the hash it claims (subway.json may have been edited by hand).
  for (const [key, alias] of Object.entries(bundle.companion.aliases ?? {})) {
    if (alias.hash === 'custom') continue;
    const op = bundle.manifest.operations.find((o) => o.id === alias.id);
    if (op && verifyId(`${alias.hash}:${key}`, op.body) !== alias.hash) {
      problems.push(`${COMPANION_FILE}: alias ${key} is recorded as the ${alias.hash.toUpperCase()} of ${op.name}, but it is not`);
    }
  }
  const files = new Map<string, string>();
  if (problems.length > 0) return { files, manifest: bundle.manifest, problems, notices };
  files.set(MANIFEST_FILE, formatJson(bundle.manifest));
  files.set(COMPANION_FILE, formatJson(bundle.companion));
  files.set(TYPES_FILE, await generateTypes(schema, bundle.manifest.operations, bundle.companion.aliases));
  // The one self-contained file a gateway can load from anywhere (a URL, Workers KV).
  const unsigned = toBundle(bundle);
  files.set(BUNDLE_FILE, formatJson(options.signingKey ? await signBundle(unsigned, options.signingKey) : unsigned));
  if (options.emitMap) files.set(MAP_FILE, formatJson(Object.fromEntries(bundle.manifest.operations.map((o) => [o.id, o.body]))));
  return { files, manifest: bundle.manifest, problems, notices };
}

/** Reads a file, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The aliases recorded in the folder's `subway.json` (none when it does not exist yet). */
export async function readAliases(dir: string): Promise<Aliases> {
  const text = await readIfExists(join(dir, COMPANION_FILE));
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${join(dir, COMPANION_FILE)} is not valid JSON (${(err as Error).message}); its aliases would be lost: fix it or delete it.`);
  }
  return checkCompanion(value, join(dir, COMPANION_FILE)).aliases ?? {};
}

/** Writes each changed file through a temporary name and a rename, so a watching gateway never reads half a file. */
export async function writeAtomically(dir: string, files: Iterable<[string, string]>): Promise<void> {
  for (const [name, text] of files) {
    // Unchanged files are left alone: no needless reload of a watching gateway, no mtime churn.
    if ((await readIfExists(join(dir, name))) === text) continue;
    const temporary = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(temporary, text);
    await rename(temporary, join(dir, name));
  }
}

/** A bundle's text without its signature, or the text itself when it is not JSON. */
function withoutSignature(text: string): string {
  try {
    const { signature: _, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return JSON.stringify(rest);
  } catch {
    return text;
  }
}

/**
 * `--check`: how the files on disk differ from what `register` would write,
 * one line per difference, naming the operation where there is one.
 */
export async function findStaleOutputs(dir: string, outputs: Outputs, displayDir: string): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, text] of outputs.files) {
    const onDisk = await readIfExists(join(dir, name));
    const shown = `${displayDir}/${name}`;
    if (onDisk === undefined) {
      stale.push(`${shown} is missing`);
      continue;
    }
    if (onDisk === text) continue;
    // Whether the bundle is signed is the publishing step's business (`register --sign` in CI): compare its content.
    if (name === BUNDLE_FILE && withoutSignature(onDisk) === withoutSignature(text)) continue;
    if (name !== MANIFEST_FILE) {
      stale.push(`${shown} is out of date`);
      continue;
    }
    let old: PersistedQueryManifest | undefined;
    try {
      old = JSON.parse(onDisk) as PersistedQueryManifest;
    } catch {
      // Not JSON: reported as a whole below.
    }
    const before = new Map((Array.isArray(old?.operations) ? old.operations : []).map((o) => [o.name, o]));
    const lines: string[] = [];
    for (const op of outputs.manifest.operations) {
      const was = before.get(op.name);
      before.delete(op.name);
      if (!was) lines.push(`${shown}: operation ${op.name} is not registered`);
      else if (was.id !== op.id || was.body !== op.body || was.type !== op.type) lines.push(`${shown}: operation ${op.name} changed since it was registered`);
    }
    for (const name of before.keys()) lines.push(`${shown}: operation ${name} was registered but no longer exists`);
    stale.push(...(lines.length > 0 ? lines : [`${shown} is out of date`]));
  }
  return stale;
}
