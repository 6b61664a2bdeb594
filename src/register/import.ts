/**
 * `register --import`: reads the persisted-operation files other tools write,
 * checks every entry, and plans the `.graphql` files and aliases to add.
 *
 * Formats:
 * - Apollo's persisted-query manifest (`{format, version, operations: [{id, name, type, body}]}`);
 * - a flat `{id: document}` map (GraphQL Code Generator's client preset
 *   `persisted-documents.json`, Relay's `persistConfig` file, Yoga/Hive stores);
 * - Relay's `[[id, text], ...]` query map.
 *
 * Node-only (MD5 and SHA-1 are not in Web Crypto); the gateway never imports this.
 */
import { createHash } from 'node:crypto';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { bareHash, type AliasKind, type Aliases } from '../core/operations/aliases.ts';
import type { SourceFile } from '../node/operations/source.ts';

export type ImportFormat = 'apollo-manifest' | 'flat-map' | 'relay-query-map';

export interface ImportEntry {
  /** The id the other tool gave the document. */
  id: string;
  body: string;
  /** Where the entry is in the file, for messages: `operations[2]`, `"<key>"`, `[3]`. */
  at: string;
  /** The name Apollo's manifest gives the operation (checked against the body). */
  name?: string;
}

export interface ImportFile {
  format: ImportFormat;
  entries: ImportEntry[];
}

/** Recognises the format of a parsed import file; throws a message naming what is wrong. */
export function readImportFile(value: unknown): ImportFile {
  if (Array.isArray(value)) {
    const entries = value.map((pair, i): ImportEntry => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`[${i}] must be an [id, text] pair of strings (Relay's query map)`);
      }
      return { id: pair[0], body: pair[1], at: `[${i}]` };
    });
    return { format: 'relay-query-map', entries };
  }
  if (typeof value !== 'object' || value === null) throw new Error('expected an Apollo manifest, a {id: document} map or an [[id, text]] list');
  const object = value as Record<string, unknown>;
  if ('format' in object || 'operations' in object) {
    if (object.format !== 'apollo-persisted-query-manifest' || object.version !== 1 || !Array.isArray(object.operations)) {
      throw new Error('an Apollo manifest has "format": "apollo-persisted-query-manifest", "version": 1 and an "operations" array');
    }
    const entries = object.operations.map((op: unknown, i: number): ImportEntry => {
      const o = op as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || typeof o.body !== 'string' || typeof o.name !== 'string') {
        throw new Error(`operations[${i}] must have string "id", "name" and "body"`);
      }
      return { id: o.id, body: o.body, name: o.name, at: `operations[${i}]` };
    });
    return { format: 'apollo-manifest', entries };
  }
  const entries = Object.entries(object).map(([id, body]): ImportEntry => {
    if (typeof body !== 'string') throw new Error(`"${id}" must map to the document text (a string)`);
    return { id, body, at: `"${id}"` };
  });
  return { format: 'flat-map', entries };
}

const digest = (algorithm: string, body: string) => createHash(algorithm).update(body, 'utf8').digest('hex');

/** Which hash of the body the foreign id is, if any. */
export function verifyId(id: string, body: string): Exclude<AliasKind, 'custom'> | undefined {
  const bare = bareHash(id);
  const prefix = /^(sha256|sha1|md5):/i.exec(id)?.[1]?.toLowerCase();
  for (const algorithm of ['sha256', 'sha1', 'md5'] as const) {
    if (prefix && prefix !== algorithm) continue;
    if (bare === digest(algorithm, body)) return algorithm;
  }
  return undefined;
}

export interface ImportOptions {
  /** Accept ids that are no hash of their body, as unverified (`custom`) aliases. @default false */
  allowCustomIds?: boolean;
}

export interface ImportPlan {
  /** `.graphql` files to write (bodies verbatim), named after their operation. */
  files: SourceFile[];
  /** The aliases after the import: the existing ones plus the new. */
  aliases: Aliases;
  /** One line per imported entry, for the report. */
  report: string[];
  /** Refusals; nothing may be written when there are any. */
  problems: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks every entry against the folder's operations and aliases: one named
 * operation per document, no name or id collisions, ids verified by hash.
 */
export function planImport(file: string, entries: readonly ImportEntry[], existing: readonly SourceFile[], aliases: Aliases, options: ImportOptions = {}): ImportPlan {
  const problems: string[] = [];
  const report: string[] = [];
  const files: SourceFile[] = [];
  const next: Aliases = { ...aliases };
  const byName = new Map<string, { id: string; from: string }>();
  for (const source of existing) byName.set(source.file.replace(/\.graphql$/, ''), { id: source.id, from: source.file });
  const names = new Set(byName.keys());

  for (const entry of entries) {
    const where = `${file} ${entry.at}`;
    let operations: OperationDefinitionNode[];
    try {
      operations = parse(entry.body, { noLocation: true }).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    } catch (err) {
      problems.push(`${where}: the document does not parse: ${(err as Error).message}`);
      continue;
    }
    if (operations.length !== 1) {
      problems.push(`${where}: holds ${operations.length} operations; a persisted document holds exactly one`);
      continue;
    }
    const name = operations[0]!.name?.value;
    if (!name) {
      problems.push(`${where}: the operation is anonymous; subway names each operation (its file is <Name>.graphql)`);
      continue;
    }
    if (entry.name !== undefined && entry.name !== name) {
      problems.push(`${where}: named "${entry.name}" in the file but "${name}" in its body`);
      continue;
    }
    const id = digest('sha256', entry.body);
    const same = byName.get(name);
    if (same && same.id !== id) {
      problems.push(`${where}: operation "${name}" already exists (${same.from}) with different text`);
      continue;
    }
    const aliased = next[name];
    if (aliased && aliased.id !== id) {
      problems.push(`${where}: operation name "${name}" is already an id of another operation (${aliased.id})`);
      continue;
    }
    const kind = verifyId(entry.id, entry.body);
    if (!kind && !options.allowCustomIds) {
      problems.push(`${where}: the id "${entry.id}" is not the SHA-256, SHA-1 or MD5 of its body; pass --allow-custom-ids to accept it unverified`);
      continue;
    }
    const bare = bareHash(entry.id);
    if (!kind && (HEX64.test(bare) || /^sha256:/i.test(entry.id))) {
      problems.push(`${where}: the id "${entry.id}" looks like a SHA-256 id but is not the hash of its body`);
      continue;
    }
    const key = kind ? bare : entry.id;
    if (names.has(key) && key !== name) {
      problems.push(`${where}: the id "${entry.id}" is the name of another operation`);
      continue;
    }
    const taken = next[key];
    if (taken && taken.id !== id) {
      problems.push(`${where}: the id "${entry.id}" already stands for another operation (${taken.id})`);
      continue;
    }
    if (!same) {
      files.push({ file: `${name}.graphql`, id, body: entry.body });
      byName.set(name, { id, from: where });
      names.add(name);
    }
    // A SHA-256 id is the canonical id itself: no alias needed.
    if (kind !== 'sha256' && key !== name) next[key] = { id, hash: kind ?? 'custom' };
    report.push(`${name}: ${kind === 'sha256' ? `id ${id}` : `${kind ? `verified ${kind.toUpperCase()}` : 'custom'} alias ${key} → ${id}`}${same ? ' (operation already registered)' : ''}`);
  }
  return { files, aliases: next, report, problems };
}
