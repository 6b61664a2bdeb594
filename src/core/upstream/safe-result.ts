/**
 * What of an upstream's GraphQL errors reaches clients. A development-mode
 * server adds a `stacktrace`, an `exception` or a `stack` to its errors'
 * `extensions` (Apollo Server, Yoga with masking off, Hasura's `internal`);
 * passed verbatim they would show clients file paths and internals. As Apollo
 * Server and Router do by default, errors keep `message`, `locations`, `path`
 * and, of their `extensions`, `code` plus what the operator allow-lists.
 *
 * Pure and allocation-free for a result without errors (every ordinary
 * event): it is called on every result that goes to a client, `next` payloads
 * and final errors alike.
 */
import type { GraphQLFormattedError } from 'graphql';

/** Which `extensions` of upstream errors pass: `"all"`, or these keys (`code` always does). */
export interface ErrorPolicy {
  readonly extensions: 'all' | ReadonlySet<string>;
}

/** The policy of an allow-list as the settings give it: `["*"]` passes everything; `code` is always kept. */
export function errorPolicy(allow: readonly string[] = []): ErrorPolicy {
  if (allow.includes('*')) return { extensions: 'all' };
  return { extensions: new Set(['code', ...allow]) };
}

/** The default policy: `code` only. */
export const DEFAULT_ERROR_POLICY: ErrorPolicy = errorPolicy();

const FALLBACK_MESSAGE = 'The upstream failed the operation';

function safeError(error: unknown, keys: ReadonlySet<string>): GraphQLFormattedError {
  const { message, locations, path, extensions } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const safe: { -readonly [K in keyof GraphQLFormattedError]: GraphQLFormattedError[K] } = {
    message: typeof message === 'string' ? message : FALLBACK_MESSAGE,
  };
  if (Array.isArray(locations)) safe.locations = locations as GraphQLFormattedError['locations'];
  if (Array.isArray(path)) safe.path = path as GraphQLFormattedError['path'];
  if (typeof extensions === 'object' && extensions !== null && !Array.isArray(extensions)) {
    let kept: Record<string, unknown> | undefined;
    for (const key of keys) {
      if (Object.hasOwn(extensions, key)) (kept ??= {})[key] = (extensions as Record<string, unknown>)[key];
    }
    if (kept) safe.extensions = kept;
  }
  return safe;
}

/** Upstream errors as clients may see them under `policy`. */
export function safeErrors(errors: readonly unknown[], policy: ErrorPolicy = DEFAULT_ERROR_POLICY): GraphQLFormattedError[] {
  if (policy.extensions === 'all') return errors as GraphQLFormattedError[];
  const keys = policy.extensions;
  return errors.map((e) => safeError(e, keys));
}

/**
 * An upstream execution result as clients may see it under `policy`: the same
 * object when it carries no errors (or the policy passes everything), else a
 * copy whose errors are filtered.
 */
export function safeResult<T extends object>(result: T, policy: ErrorPolicy = DEFAULT_ERROR_POLICY): T {
  const errors = (result as { errors?: unknown }).errors;
  if (errors === undefined || policy.extensions === 'all') return result;
  // Not a list (not the GraphQL shape): nothing of it is known to be safe.
  return { ...result, errors: Array.isArray(errors) ? safeErrors(errors, policy) : [{ message: FALLBACK_MESSAGE }] };
}

/**
 * `safeResult` on a result's JSON text, as the gateway forwards it (each
 * result is encoded once, whatever the number of its subscribers): parsed
 * only when it may carry errors, otherwise passed as it is.
 */
export function safeResultText(json: string, policy: ErrorPolicy = DEFAULT_ERROR_POLICY): string {
  if (policy.extensions === 'all' || !json.includes('"errors"')) return json;
  return JSON.stringify(safeResult(JSON.parse(json) as object, policy));
}
