/**
 * The slice of the Web-standard WebSocket API the upstream side uses, so the
 * same code runs over `ws` on Node and the platform's WebSocket on Workers,
 * and the pieces both upstream protocols share: what a protocol driver gets
 * from the connection, and how a close is classified.
 */
import type { FormattedExecutionResult } from 'graphql-ws';
import type { GraphQLFormattedError } from 'graphql';

/** The subprotocol of graphql-ws (the library): `graphql-transport-ws`. */
export const TRANSPORT_WS = 'graphql-transport-ws';
/** The subprotocol of the legacy subscriptions-transport-ws library, confusingly named `graphql-ws`. */
export const LEGACY_WS = 'graphql-ws';

/** `readyState` values of the WebSocket API. */
export const CONNECTING = 0;
export const OPEN = 1;

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' when none). */
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: CloseEventLike) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** How an upstream subscription ended, from the client's point of view. */
export type UpstreamEnd =
  /** The upstream completed the operation. */
  | { kind: 'complete' }
  /** The upstream refused or failed the operation: the errors go to the client, then `complete`. */
  | { kind: 'errors'; errors: readonly GraphQLFormattedError[] }
  /** The connection failed in a way a later attempt may not: report it, then `complete`. */
  | { kind: 'fatal'; message: string; closeCode?: number }
  /** The connection failed in a way a later attempt may fix: the client should reconnect later. */
  | { kind: 'transient'; message: string; closeCode?: number };

export type ExecutionResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** What a subscribe message carries: the operation, never the `connection_init` payload. */
export interface OperationPayload {
  query: string;
  variables: Record<string, unknown>;
  operationName: string;
}

/**
 * What the connection gives a protocol driver: the open socket (with the
 * driver's subprotocol selected) and the ways to report. Operations are named
 * by the ids the connection gave them; a message for an id the connection
 * does not know (an operation it ended already) is ignored by the connection.
 */
export interface DriverHost {
  readonly socket: WebSocketLike;
  /** The `connection_init` payload, if any. */
  readonly connectionParams: Record<string, unknown> | undefined;
  /** The upstream acknowledged the connection: subscribe what waits. */
  acked(): void;
  /** One result of operation `id`: its JSON text, without raw line breaks. */
  next(id: string, json: string): void;
  /** The upstream ended operation `id` (`complete` or `errors`). */
  ended(id: string, end: UpstreamEnd): void;
  /** The connection as a whole failed (a bad message, a refused connection): every operation on it ends. */
  fail(end: UpstreamEnd): void;
  /** The upstream is taken for dead (it missed its liveness deadline): the socket is dropped without a close handshake. */
  dead(message: string): void;
  /** Runs `fn` after `ms` milliseconds (the connection's timers; `closing` must cancel what is pending). */
  later(fn: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

/** One upstream protocol spoken over one open socket, for any number of operations. */
export interface ProtocolDriver {
  /** A text message from the upstream (size already checked). */
  message(data: string): void;
  /** Starts operation `id` (only after `acked`). */
  subscribe(id: string, payload: OperationPayload): void;
  /** Ends a running operation upstream (`complete` / `stop`). */
  unsubscribe(id: string): void;
  /** The connection is about to close the socket: say goodbye where the protocol has a word for it, stop timers. */
  closing(): void;
}

/** The code graphql-ws closes with on a message it cannot read; reused for the legacy protocol. */
export const BAD_RESPONSE = 4004;

/**
 * WebSocket close codes that a retry will not fix: the upstream refused this
 * client or this request (graphql-ws's 44xx, except its own init timeout), or
 * the two sides do not speak the same protocol.
 */
function isFatalClose(code: number): boolean {
  if (code >= 4400 && code < 4500) return code !== 4408;
  return code === 1002 || code === 1003 || code === 1007 || code === 1008 || code === 1009 || code === BAD_RESPONSE || code === 4005;
}

export function classifyClose(event: CloseEventLike, maxMessageBytes: number): UpstreamEnd {
  const { code, reason } = event;
  if (code === 1009) return tooBig(maxMessageBytes);
  const message = `Upstream closed the connection (${code}${reason ? `: ${reason}` : ''})`;
  return isFatalClose(code) ? { kind: 'fatal', message, closeCode: code } : { kind: 'transient', message, closeCode: code };
}

export const tooBig = (maxMessageBytes: number): UpstreamEnd => ({
  kind: 'fatal',
  message: `An upstream message exceeded the size limit of ${maxMessageBytes} bytes`,
  closeCode: 1009,
});

export const badMessage = (protocol: string): UpstreamEnd => ({
  kind: 'fatal',
  message: `The upstream sent a message that is not valid ${protocol}`,
  closeCode: BAD_RESPONSE,
});

/**
 * The size of a message in bytes (UTF-8 for text), or `Infinity` once it is
 * known to exceed `limit`: the exact count is only computed for text whose
 * length alone does not decide.
 */
export function messageSize(data: unknown, limit: number): number {
  if (typeof data === 'string') {
    if (data.length > limit) return Infinity;
    if (data.length * 3 <= limit) return data.length;
    let bytes = 0;
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < data.length) {
        bytes += 4;
        i++;
      } else bytes += 3;
    }
    return bytes;
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return 0;
}
