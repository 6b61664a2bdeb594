/**
 * Options of the upstream side: where the upstream is, which protocol to
 * speak, and the timeouts and limits every upstream connection keeps.
 */
import type { Timers } from '../timers.ts';
import { DEFAULTS } from '../defaults.ts';

/**
 * Which upstream protocol to speak. `auto` offers both on one upgrade and
 * speaks the one the server selects.
 */
export type UpstreamProtocol = 'auto' | 'graphql-transport-ws' | 'subscriptions-transport-ws';

export const UPSTREAM_PROTOCOLS: readonly UpstreamProtocol[] = ['auto', 'graphql-transport-ws', 'subscriptions-transport-ws'];

/** Timer functions of the upstream side. */
export type UpstreamTimers = Pick<Timers, 'setTimeout' | 'clearTimeout'>;

/** Options of the upstream side. */
export interface UpstreamOptions {
  /** The upstream WebSocket endpoint, `ws://` or `wss://`. */
  url: string;
  /**
   * The WebSocket constructor to use; injected by the runtime adapter
   * (the `ws` package on Node, the platform's own on Workers). Only the
   * Web-standard API is used.
   */
  webSocketImpl: unknown;
  /**
   * The upstream protocol: `auto` offers `graphql-transport-ws` and the legacy
   * `graphql-ws` on the same upgrade and speaks the one the server selects;
   * the other values offer only that one.
   * @default "auto"
   */
  protocol?: UpstreamProtocol;
  /**
   * How long the WebSocket upgrade may take before the upstream is taken for unavailable, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How long to wait for the upstream's `connection_ack` after the socket opens, in milliseconds.
   * @default 10000
   */
  connectionAckWaitTimeoutMs?: number;
  /**
   * Interval of graphql-transport-ws `ping` messages to the upstream, in milliseconds; `0` disables them.
   * Pings notice a dead upstream or a silent load balancer.
   * @default 12000
   */
  keepAliveMs?: number;
  /**
   * How long a `pong` may take after a `ping`, in milliseconds, before the upstream is taken for dead.
   * On the legacy protocol (no client pings) it is the grace period added to the server's own `ka`
   * rhythm. `0` disables the check.
   * @default 5000
   */
  pongTimeoutMs?: number;
  /**
   * The largest upstream message accepted, in bytes (UTF-8); a larger one ends its subscription with an error.
   * @default 16777216 (16 MiB)
   */
  maxMessageBytes?: number;
  /** Timer functions. @default the global setTimeout/clearTimeout */
  timers?: UpstreamTimers;
  /** The clock, in milliseconds (the legacy protocol's keep-alive rhythm). @default Date.now */
  now?: () => number;
  /**
   * What `auto` learned about the upstream's protocol, shared by every
   * connection that passes the same map (the gateway passes one of its own,
   * so a new gateway starts afresh).
   * @default one map per options object
   */
  protocolMemory?: Map<string, string>;
  /** Called for unexpected errors inside the upstream side (never shown to clients). @default console.error */
  onInternalError?: (err: unknown) => void;
}

/** Every upstream option with its default applied: what a connection reads. */
export interface UpstreamSettings {
  readonly url: string;
  readonly protocol: UpstreamProtocol;
  readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly pongTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly timers: UpstreamTimers;
  readonly now: () => number;
  readonly memory: Map<string, string>;
  readonly onInternalError: (err: unknown) => void;
}

const defaultUpstreamTimers: UpstreamTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Without `protocolMemory`, what `auto` learns is kept per options object. */
const memories = new WeakMap<UpstreamOptions, Map<string, string>>();

export function upstreamSettings(options: UpstreamOptions): UpstreamSettings {
  let memory = options.protocolMemory ?? memories.get(options);
  if (!memory) memories.set(options, (memory = new Map()));
  return {
    url: options.url,
    protocol: options.protocol ?? DEFAULTS.upstreamProtocol,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.upstreamConnectTimeoutMs,
    ackTimeoutMs: options.connectionAckWaitTimeoutMs ?? DEFAULTS.upstreamAckTimeoutMs,
    keepAliveMs: options.keepAliveMs ?? DEFAULTS.upstreamKeepAliveMs,
    pongTimeoutMs: options.pongTimeoutMs ?? DEFAULTS.upstreamPongTimeoutMs,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULTS.upstreamMaxMessageBytes,
    timers: options.timers ?? defaultUpstreamTimers,
    now: options.now ?? Date.now,
    memory,
    onInternalError: options.onInternalError ?? ((err: unknown) => console.error('[subway] upstream client error', err)),
  };
}
