/**
 * Aliases: ids other tools gave an operation (Relay's MD5, GraphQL Code
 * Generator's SHA-1, a custom key), each pointing at the canonical SHA-256 id.
 * They are stored in `subway.json` and resolved by the registry like any id.
 */

/** How an alias was verified: the hash of the body it matched, or `custom` (taken on trust, with `--allow-custom-ids`). */
export type AliasKind = 'sha256' | 'sha1' | 'md5' | 'custom';

export interface Alias {
  /** The canonical id (SHA-256 hex of the exact body) the alias stands for. */
  id: string;
  /** What the alias is: the hash algorithm it was verified with, or `custom`. */
  hash: AliasKind;
}

/** Foreign id → canonical operation. */
export type Aliases = Record<string, Alias>;

const KINDS = new Set<string>(['sha256', 'sha1', 'md5', 'custom']);
const HEX64 = /^[0-9a-f]{64}$/;

/** Checks the `aliases` object of `subway.json`; returns the problem, or undefined. */
export function aliasesProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '"aliases" must be an object';
  for (const [key, alias] of Object.entries(value)) {
    const a = alias as Partial<Alias> | null;
    if (key === '') return 'an alias must not be empty';
    if (typeof a !== 'object' || a === null || typeof a.id !== 'string' || !HEX64.test(a.id)) return `alias "${key}" must point at a 64-hex-digit id`;
    if (typeof a.hash !== 'string' || !KINDS.has(a.hash)) return `alias "${key}" has an unknown kind "${String(a.hash)}"`;
  }
  return undefined;
}

/** A foreign id without a `sha256:` / `sha1:` / `md5:` prefix, lower-cased when it is hex. */
export function bareHash(id: string): string {
  const bare = id.replace(/^(sha256|sha1|md5):/i, '');
  return /^[0-9a-f]+$/i.test(bare) ? bare.toLowerCase() : bare;
}
