/**
 * The one error type of subway. Every refusal a client can see is a
 * `SubwayError`: a stable `code` clients can switch on, the HTTP `status` it
 * is sent with, and a message safe to show (never a stack, never internals).
 */

/** Codes a client may receive, in `errors[0].extensions.code`. */
export type ErrorCode =
  /** The id names no registered operation. */
  | 'PERSISTED_QUERY_NOT_IN_LIST'
  /** The request carries no operation id. */
  | 'PERSISTED_QUERY_ID_REQUIRED'
  /** Variables or parameters are malformed, of the wrong type, missing or undeclared. */
  | 'BAD_USER_INPUT'
  /** The operation cannot be run over this method (mutations over GET). */
  | 'METHOD_NOT_ALLOWED'
  /** The query string is over the configured limit: send the request as POST. */
  | 'URI_TOO_LONG'
  /** The request body is over the configured limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** A POST body that is not JSON. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** The client does not accept `text/event-stream`. */
  | 'NOT_ACCEPTABLE'
  /** No such route. */
  | 'NOT_FOUND'
  /** The request itself is malformed (its `Host` header, its target), before any route is chosen. */
  | 'BAD_REQUEST'
  /** The request body did not arrive in time (408); the connection is closed. */
  | 'REQUEST_TIMEOUT'
  /** The gateway is shutting down and takes no new streams. */
  | 'SHUTTING_DOWN'
  /** The upstream GraphQL server refused or failed the operation. */
  | 'UPSTREAM_ERROR'
  /** The variables are larger than the gateway accepts (413). */
  | 'VARIABLES_TOO_LARGE'
  /** The gateway serves as many subscriptions as it is allowed to (429, `Retry-After`). */
  | 'SUBSCRIPTION_LIMIT'
  /** This client has as many subscriptions open as it is allowed to (429, `Retry-After`). */
  | 'CLIENT_SUBSCRIPTION_LIMIT'
  /** The gateway has as many upstream sockets open as it is allowed to, and none it may share has room (429, `Retry-After`). */
  | 'UPSTREAM_SOCKET_LIMIT'
  /** The request's `Origin` is not in the gateway's CORS allow-list (403). */
  | 'ORIGIN_NOT_ALLOWED'
  /** The client stopped reading; its stream was ended (a final `next`, never an HTTP status). */
  | 'SLOW_CONSUMER'
  /** A `connectionParams` hook refused the request: no or bad credentials (401). */
  | 'UNAUTHENTICATED'
  /** A `connectionParams` hook refused the request: credentials without the right (403). */
  | 'FORBIDDEN'
  /** Something unexpected went wrong inside the gateway. */
  | 'INTERNAL_SERVER_ERROR';

/** The JSON body of every error response, GraphQL-style. */
export interface ErrorBody {
  errors: { message: string; extensions: { code: ErrorCode } & Record<string, unknown> }[];
}

export class SubwayError extends Error {
  override readonly name = 'SubwayError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra, client-safe fields for `extensions` (e.g. the variable's name). */
  readonly extensions: Record<string, unknown>;
  /** Extra response headers (e.g. `Allow`, `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toJSON(): ErrorBody {
    return { errors: [{ message: this.message, extensions: { ...this.extensions, code: this.code } }] };
  }

  /** The error as an HTTP response: JSON body, status, and its headers. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...this.headers },
    });
  }
}

/** Wraps anything thrown into a client-safe `SubwayError`; the original is kept as `cause` for logs. */
export function toSubwayError(err: unknown): SubwayError {
  if (err instanceof SubwayError) return err;
  return new SubwayError('INTERNAL_SERVER_ERROR', 500, 'Internal server error', { cause: err });
}

export const badInput = (message: string, extensions?: Record<string, unknown>): SubwayError =>
  new SubwayError('BAD_USER_INPUT', 400, message, { extensions });
