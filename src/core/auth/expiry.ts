/**
 * A credential that expires, as the `connectionParams` hook says it
 * (docs/resume.md#credential-rotation): the hook returns `expiring(params,
 * { expiresAt, subject })` in place of the bare `connection_init` payload.
 * At `expiresAt` the gateway ends the stream with a short `retry:`, so
 * EventSource comes back with the refreshed cookie and the hook runs again;
 * with resume on, the `subject` (who the credential names, stable across its
 * rotations) lets the new stream continue after the last event although the
 * payload changed.
 */

const BRAND = Symbol.for('subway.expiring');

/** When the credential behind a `connection_init` payload expires, and whom it names. */
export interface Expiry {
  /** When the credential expires: milliseconds since the epoch (a JWT's `exp * 1000`), or a `Date`. */
  expiresAt: number | Date;
  /**
   * Who the credential identifies, stable across its rotations (a JWT's
   * `sub`, a user id), with anything else that scopes what the upstream
   * sends this caller (a tenant). With resume on, a stream resumed with a
   * rotated credential of the same subject continues after its last event;
   * without one, the payload itself must match, so a new token is a gap.
   */
  subject?: string;
}

/** What `expiring` returns: a `connection_init` payload and its credential's expiry. */
export interface ExpiringParams {
  /** The `connection_init` payload, as the hook would return it bare. */
  readonly params: Record<string, unknown> | undefined;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly subject: string | undefined;
  readonly [BRAND]: true;
}

/** What the `connectionParams` hook may return. */
export type ConnectionParamsResult = Record<string, unknown> | ExpiringParams | undefined;

/**
 * Returns from the `connectionParams` hook a payload whose credential expires.
 *
 * ```ts
 * connectionParams: async (request) => {
 *   const session = await verifySession(request); // throws SubwayError 401 when missing, invalid or expired
 *   return expiring({ headers: { authorization: `Bearer ${session.token}` } }, { expiresAt: session.exp * 1000, subject: session.userId });
 * }
 * ```
 */
export function expiring(params: Record<string, unknown> | undefined, expiry: Expiry): ExpiringParams {
  const expiresAt = expiry.expiresAt instanceof Date ? expiry.expiresAt.getTime() : expiry.expiresAt;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new TypeError('expiring(): expiresAt must be a finite number of milliseconds since the epoch, or a valid Date.');
  if (expiry.subject !== undefined && (typeof expiry.subject !== 'string' || expiry.subject === '')) throw new TypeError('expiring(): subject must be a non-empty string.');
  return { params, expiresAt, subject: expiry.subject, [BRAND]: true };
}

/** The hook's result taken apart: the payload, and the expiry and subject if it said them. */
export function readConnectionParams(result: ConnectionParamsResult): { params: Record<string, unknown> | undefined; expiresAt: number | undefined; subject: string | undefined } {
  if (result !== undefined && result !== null && (result as Partial<ExpiringParams>)[BRAND] === true) {
    const { params, expiresAt, subject } = result as ExpiringParams;
    return { params, expiresAt, subject };
  }
  return { params: result as Record<string, unknown> | undefined, expiresAt: undefined, subject: undefined };
}
