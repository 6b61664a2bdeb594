/**
 * The operations bundle: one self-contained JSON file that carries an app's
 * registered operations to a gateway from anywhere (a URL, Workers KV),
 * without the `.graphql` files or the upstream. `subway register` writes it
 * as `subway-bundle.json` beside the manifest (see docs/operation-sources.md
 * for the format, field by field).
 *
 * ```json
 * {
 *   "format": "subway-operations-bundle",
 *   "version": 1,
 *   "operations": [{ "id": "<sha256 hex of body>", "name": "Ticks", "type": "subscription", "body": "subscription Ticks …" }],
 *   "aliases": { "<foreign id>": { "id": "<sha256 hex>", "hash": "md5" } },
 *   "inputSchema": "<SDL of the input types the variables reach>",
 *   "signature": { "algorithm": "Ed25519", "keyId": "<16 hex>", "value": "<base64>" }
 * }
 * ```
 *
 * `signature` is optional; when present it signs the canonical JSON (RFC 8785,
 * JCS) of every other field (see signature.ts).
 */
import { SubwayError } from '../errors.ts';
import { aliasesProblem, type Aliases } from './aliases.ts';
import { checkManifest, type ManifestOperation, type OperationBundle } from './manifest.ts';

export const BUNDLE_FILE = 'subway-bundle.json';
export const BUNDLE_FORMAT = 'subway-operations-bundle';
/** The newest bundle version this gateway reads (and the one `register` writes). */
export const BUNDLE_VERSION = 1;

export interface BundleSignature {
  algorithm: 'Ed25519';
  /** The first 16 hex digits of the SHA-256 of the signing key's raw 32-byte public key. */
  keyId: string;
  /** The 64-byte Ed25519 signature, base64. */
  value: string;
}

/** The bundle file, as JSON. */
export interface SubwayBundle {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  /** Apollo persisted-query-manifest entries: `id` is the SHA-256 hex of the exact bytes of `body`. */
  operations: ManifestOperation[];
  /** Foreign ids (`register --import`) → canonical id. */
  aliases: Aliases;
  /** SDL of the input types (scalars, enums, input objects) the operations' variables reach. */
  inputSchema: string;
  signature?: BundleSignature;
}

function invalid(source: string, detail: string): never {
  throw new SubwayError('INTERNAL_SERVER_ERROR', 500, `${source}: ${detail}`);
}

const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Checks the shape of a parsed bundle; throws a message naming `source` and the bad field. */
export function checkBundle(value: unknown, source: string): SubwayBundle {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(source, 'not a JSON object');
  const b = value as Record<string, unknown>;
  if (b.format !== BUNDLE_FORMAT) invalid(source, `"format" must be "${BUNDLE_FORMAT}", got ${JSON.stringify(b.format)}`);
  if (typeof b.version !== 'number' || !Number.isInteger(b.version) || b.version < 1) invalid(source, '"version" must be a positive whole number');
  if (b.version > BUNDLE_VERSION) invalid(source, `bundle version ${b.version} is newer than this gateway reads (${BUNDLE_VERSION}): upgrade subway`);
  if (typeof b.inputSchema !== 'string') invalid(source, '"inputSchema" must be a string');
  const aliases = aliasesProblem(b.aliases ?? {});
  if (aliases) invalid(source, aliases);
  try {
    checkManifest({ format: 'apollo-persisted-query-manifest', version: 1, operations: b.operations }, source);
  } catch (err) {
    invalid(source, (err as Error).message.replace(`Invalid ${source}: `, ''));
  }
  if (b.signature !== undefined) {
    const s = b.signature as Partial<BundleSignature> | null;
    if (typeof s !== 'object' || s === null) invalid(source, '"signature" must be an object');
    if (s.algorithm !== 'Ed25519') invalid(source, `"signature.algorithm" must be "Ed25519", got ${JSON.stringify(s.algorithm)}`);
    if (typeof s.keyId !== 'string' || !KEY_ID.test(s.keyId)) invalid(source, '"signature.keyId" must be 16 lowercase hex digits');
    if (typeof s.value !== 'string' || !BASE64.test(s.value)) invalid(source, '"signature.value" must be base64');
  }
  return { ...(value as SubwayBundle), aliases: (b.aliases as Aliases | undefined) ?? {} };
}

/** The bundle of the two generated files (unsigned). */
export function toBundle({ manifest, companion }: OperationBundle): SubwayBundle {
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    operations: manifest.operations.map(({ id, name, type, body }) => ({ id, name, type, body })),
    aliases: companion.aliases ?? {},
    inputSchema: companion.inputSchema,
  };
}

/** The pair the registry is built from. A bundle names no source files: there is nothing to be stale against. */
export function fromBundle(bundle: SubwayBundle): OperationBundle {
  const aliases = Object.keys(bundle.aliases).length > 0 ? bundle.aliases : undefined;
  return {
    manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: bundle.operations },
    companion: { format: 'subway-operations', version: 1, inputSchema: bundle.inputSchema, files: {}, ...(aliases ? { aliases } : {}) },
  };
}

/**
 * Canonical JSON (RFC 8785, JCS) of a value parsed from JSON: object keys
 * sorted by UTF-16 code units, no whitespace; strings and numbers as
 * `JSON.stringify` writes them, which is what JCS specifies. Written here
 * because it is a dozen lines and the signature must not depend on a
 * serialiser's whitespace or key order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * The bytes a signature covers: the canonical JSON of every field but
 * `signature`, UTF-8. Computed from the bundle as parsed (not as normalised),
 * so what is verified is exactly what is served.
 */
export function signedBytes(bundle: object): Uint8Array<ArrayBuffer> {
  const { signature: _, ...rest } = bundle as Record<string, unknown>;
  return new TextEncoder().encode(canonicalJson(rest));
}
