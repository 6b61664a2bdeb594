/**
 * The files `subway register` writes and the gateway loads.
 *
 * - `persisted-query-manifest.json`: Apollo's persisted-query-manifest format,
 *   byte-compatible so Apollo Router and Hive Router can read the same file.
 * - `subway.json`: what the gateway needs beyond it: the input types the
 *   operations' variables use (so variables are checked without the upstream),
 *   and the file each operation came from (so a stale manifest is caught at start).
 */
import { SubwayError } from '../errors.ts';
import { aliasesProblem, type Aliases } from './aliases.ts';

export const MANIFEST_FILE = 'persisted-query-manifest.json';
export const COMPANION_FILE = 'subway.json';

export type OperationType = 'query' | 'mutation' | 'subscription';

/** One entry of Apollo's persisted-query manifest. */
export interface ManifestOperation {
  /** SHA-256 hex of the exact bytes of `body`. */
  id: string;
  name: string;
  type: OperationType;
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export interface Companion {
  format: 'subway-operations';
  version: 1;
  /** SDL of the input types (scalars, enums, input objects) reachable from the operations' variables. */
  inputSchema: string;
  /** Source file name (relative to the operations folder) → operation id. */
  files: Record<string, string>;
  /** Ids other tools gave the operations (`register --import`), each pointing at a canonical id. Absent when there are none. */
  aliases?: Aliases;
}

/** The generated pair, as the gateway consumes it. */
export interface OperationBundle {
  manifest: PersistedQueryManifest;
  companion: Companion;
}

const HEX64 = /^[0-9a-f]{64}$/;
const TYPES = new Set<string>(['query', 'mutation', 'subscription']);

function invalid(what: string, detail: string): never {
  throw new SubwayError('INTERNAL_SERVER_ERROR', 500, `Invalid ${what}: ${detail}`);
}

/** Checks the shape of a parsed manifest; throws a message naming the bad entry. */
export function checkManifest(value: unknown, source = MANIFEST_FILE): PersistedQueryManifest {
  if (typeof value !== 'object' || value === null) invalid(source, 'not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== 'apollo-persisted-query-manifest') invalid(source, `"format" must be "apollo-persisted-query-manifest"`);
  if (m.version !== 1) invalid(source, `"version" must be 1`);
  if (!Array.isArray(m.operations)) invalid(source, `"operations" must be an array`);
  m.operations.forEach((op: unknown, i: number) => {
    const o = op as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) invalid(source, `operations[${i}] is not an object`);
    if (typeof o.id !== 'string' || !HEX64.test(o.id)) invalid(source, `operations[${i}].id must be 64 lowercase hex digits`);
    if (typeof o.name !== 'string' || o.name === '') invalid(source, `operations[${i}].name must be a non-empty string`);
    if (typeof o.type !== 'string' || !TYPES.has(o.type)) invalid(source, `operations[${i}].type must be query, mutation or subscription`);
    if (typeof o.body !== 'string') invalid(source, `operations[${i}].body must be a string`);
  });
  return value as PersistedQueryManifest;
}

export function checkCompanion(value: unknown, source = COMPANION_FILE): Companion {
  if (typeof value !== 'object' || value === null) invalid(source, 'not a JSON object');
  const c = value as Record<string, unknown>;
  if (c.format !== 'subway-operations' || c.version !== 1) invalid(source, `unknown format; run \`subway register\` again`);
  if (typeof c.inputSchema !== 'string') invalid(source, `"inputSchema" must be a string`);
  if (typeof c.files !== 'object' || c.files === null) invalid(source, `"files" must be an object`);
  const aliases = aliasesProblem(c.aliases);
  if (aliases) invalid(source, aliases);
  return value as Companion;
}

/** Serialises a manifest the way Apollo's tooling does: two-space JSON and a final newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
