/**
 * One upstream graphql-ws connection for one subscription: opened lazily,
 * never retried silently (a retry could duplicate or lose events), and
 * disposed as a unit: `complete` is sent upstream and the socket closed.
 */
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import type { GraphQLFormattedError } from 'graphql';

/** Options of the upstream side. */
export interface UpstreamOptions {
  /** The upstream graphql-ws endpoint, `ws://` or `wss://`. */
  url: string;
  /**
   * The WebSocket constructor to use; injected by the runtime adapter
   * (the `ws` package on Node, the platform's own on Workers).
   */
  webSocketImpl: unknown;
  /**
   * How long to wait for the upstream's `connection_ack` after the socket opens, in milliseconds.
   * @default 10000
   */
  connectionAckWaitTimeoutMs?: number;
  /**
   * Interval of graphql-ws `ping` messages to the upstream, in milliseconds; `0` disables them.
   * Pings notice a dead upstream or a silent load balancer.
   * @default 12000
   */
  keepAliveMs?: number;
  /**
   * The `connection_init` payload (e.g. `{"headers": {"authorization": "…"}}`).
   * Set per subscription by the gateway from `FORWARD_HEADERS` or its `connectionParams` hook.
   * @default undefined (no payload)
   */
  connectionParams?: Record<string, unknown>;
}

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

export interface UpstreamHandlers {
  /** Called once the upstream acknowledged the connection. */
  onConnected?(): void;
  next(result: FormattedExecutionResult<Record<string, unknown>, unknown>): void;
  /** Called exactly once, unless the subscription was disposed first. */
  end(end: UpstreamEnd): void;
}

export interface UpstreamSubscription extends Disposable {
  /** Sends `complete` upstream (if still running) and closes the socket. Idempotent. */
  dispose(): void;
}

/**
 * WebSocket close codes that a retry will not fix: the upstream refused this
 * client or this request (graphql-ws's 44xx, except its own init timeout), or
 * the two sides do not speak the same protocol.
 */
function isFatalClose(code: number): boolean {
  if (code >= 4400 && code < 4500) return code !== 4408;
  return code === 1002 || code === 1003 || code === 1007 || code === 1008 || code === 1009 || code === 4004 || code === 4005;
}

function classify(err: unknown): UpstreamEnd {
  if (Array.isArray(err)) return { kind: 'errors', errors: err as GraphQLFormattedError[] };
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number') {
    const { code, reason } = err as { code: number; reason?: string };
    const message = `Upstream closed the connection (${code}${reason ? `: ${reason}` : ''})`;
    return isFatalClose(code) ? { kind: 'fatal', message, closeCode: code } : { kind: 'transient', message, closeCode: code };
  }
  if (err instanceof Error) return { kind: 'transient', message: `Upstream connection failed: ${err.message}` };
  return { kind: 'transient', message: 'Upstream connection failed' };
}

export function subscribeUpstream(
  options: UpstreamOptions,
  payload: { query: string; variables: Record<string, unknown>; operationName: string },
  handlers: UpstreamHandlers,
): UpstreamSubscription {
  let disposed = false;
  let ended = false;
  const end = (e: UpstreamEnd) => {
    if (ended || disposed) return;
    ended = true;
    handlers.end(e);
  };
  const client: Client = createClient({
    url: options.url,
    webSocketImpl: options.webSocketImpl,
    lazy: true,
    connectionParams: options.connectionParams,
    lazyCloseTimeout: 0,
    retryAttempts: 0,
    shouldRetry: () => false,
    keepAlive: options.keepAliveMs ?? 12_000,
    connectionAckWaitTimeout: options.connectionAckWaitTimeoutMs ?? 10_000,
    on: {
      connected: () => {
        if (!disposed) handlers.onConnected?.();
      },
    },
  });
  const unsubscribe = client.subscribe(payload, {
    next: (result) => {
      if (!ended && !disposed) handlers.next(result);
    },
    error: (err) => end(classify(err)),
    complete: () => end({ kind: 'complete' }),
  });
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    // Sends `complete` for a running operation; with lazyCloseTimeout 0 the
    // lazy client then closes the socket (1000) as its last subscriber left.
    unsubscribe();
    // dispose() awaits a connection still being made and rejects if that
    // attempt fails; the subscription is gone, so that failure has no one to
    // tell, but left unhandled it would crash the process.
    Promise.resolve(client.dispose()).catch(() => {});
  };
  return { dispose, [Symbol.dispose]: dispose };
}
