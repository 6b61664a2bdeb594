/**
 * An operation source: somewhere a list of operations comes from (a folder,
 * a URL, a Workers KV key, the list bundled into a Worker), loaded whole and
 * validated whole. Sources hold no state of their own: the version the
 * gateway serves is handed back to `load`, so a version the gateway refused
 * (a conflict with another source) is never mistaken for the served one.
 */
import { SubwayError } from '../errors.ts';
import type { Registry } from './registry.ts';

/** Why a source failed, as logs and the `reason` label of the failure counter say. */
export type SourceFailureReason =
  /** It could not be read: connection refused, timeout, an HTTP error status, a missing key or file. */
  | 'unreachable'
  /** It was read but is not a valid list: not JSON, unknown format or version, a wrong id, a schema that does not build. */
  | 'invalid'
  /** `PERSISTED_OPERATIONS_PUBLIC_KEY` is set and the bundle is unsigned, signed by another key, or altered. */
  | 'signature'
  /** Valid alone, but a name or id means another document in another source. */
  | 'conflict';

/** One loaded version of a source. */
export interface SourceVersion {
  readonly registry: Registry;
  /** The response's `ETag`, sent back as `If-None-Match`. */
  readonly etag?: string;
  /** The response's `Last-Modified`, sent back as `If-Modified-Since`. */
  readonly lastModified?: string;
  /** The text it was built from: the same text again is no new version. */
  readonly text?: string;
}

export interface OperationSource {
  /** How messages, logs and metrics name it: a folder, a URL without its query string, `kv:BINDING/key`. */
  readonly name: string;
  /** Whether it is polled (URL, KV); folders are watched instead, a Worker's bundled list never changes. */
  readonly polled: boolean;
  /**
   * Loads the current version. Resolves `undefined` when it is `served`, the
   * version the gateway serves now (HTTP 304), or a copy of `served` with the
   * same registry and new validators (the same text again). Throws on any
   * failure, with a message that says what is wrong.
   */
  load(served: SourceVersion | undefined, signal: AbortSignal): Promise<SourceVersion | undefined>;
}

/** A failure of a source with its reason; the message is what the log line says. */
export function sourceFailure(reason: SourceFailureReason, message: string, cause?: unknown): SubwayError {
  return new SubwayError('INTERNAL_SERVER_ERROR', 500, message, { extensions: { reason }, cause });
}

const REASONS = new Set<string>(['unreachable', 'invalid', 'signature', 'conflict']);

/** The reason of a failure; anything not made by `sourceFailure` (a registry that does not build) is `invalid`. */
export function failureReason(err: unknown): SourceFailureReason {
  const reason = err instanceof SubwayError ? err.extensions.reason : undefined;
  return typeof reason === 'string' && REASONS.has(reason) ? (reason as SourceFailureReason) : 'invalid';
}

/**
 * A URL as messages show it: no user, no password, no query string (a
 * pre-signed URL carries its credentials there).
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}
