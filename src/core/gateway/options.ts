/**
 * The gateway's options, the per-request context a runtime adapter passes,
 * and the gateway's interface: what src/core/gateway.ts assembles.
 */
import type { AdmittedSubscription, Delegate } from './admitted.ts';
import type { ConnectionParamsResult } from '../auth/expiry.ts';
import type { ResumeStats } from '../hub/hubs.ts';
import type { CorsOptions } from '../http/cors.ts';
import type { RequestSizeLimits } from '../limits/request-size.ts';
import type { SubscriptionLimitOptions } from '../limits/subscriptions.ts';
import type { Instrumentation } from '../observability/instrumentation.ts';
import type { Registry } from '../operations/registry.ts';
import type { EventStream } from '../sse/stream.ts';
import type { Timers } from '../timers.ts';
import type { RetryPolicy } from '../upstream/health.ts';
import type { UpstreamOptions } from '../upstream/options.ts';
import type { SharingMode } from '../upstream/pool.ts';

/** The upstream side as the gateway sees it. */
export interface GatewayUpstreamOptions extends UpstreamOptions {
  /**
   * Returns a WebSocket constructor that sends these headers on the upgrade
   * request. Supplied by runtimes whose WebSocket can (Node's `ws`); where it
   * is absent, forwarded headers travel only in `connection_init`.
   * @default undefined
   */
  webSocketWithHeaders?: (headers: Record<string, string>) => unknown;
  /**
   * How much of the upstream side subscriptions share (docs/sharing.md):
   * `off`, a socket per subscription; `connection`, one socket for the
   * subscriptions of the same `connection_init` payload; `subscription`, on
   * top of that one upstream subscription for identical subscriptions.
   * @default "off"
   */
  sharing?: SharingMode;
  /**
   * Most subscriptions on one shared upstream socket (`connection` and `subscription` modes); then a new socket.
   * @default 100
   */
  maxSubscriptionsPerSocket?: number;
  /**
   * How long a shared upstream socket with no subscription left stays open, in milliseconds.
   * @default 1000
   */
  idleMs?: number;
  /**
   * Most upstream sockets open at once; a subscription that would need one more gets 429. `0` is no limit.
   * @default 0
   */
  maxSockets?: number;
}

export interface GatewayOptions extends RetryPolicy, SubscriptionLimitOptions, RequestSizeLimits {
  /** The allow-list of operations. */
  registry: Registry;
  /** Where and how to reach the upstream graphql-ws server. */
  upstream: GatewayUpstreamOptions;
  /**
   * Interval of SSE heartbeat comments, in milliseconds; `0` disables them.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * The path the operations are served on.
   * @default "/graphql"
   */
  path?: string;
  /**
   * Largest `POST` body read, in bytes; larger gets 413.
   * @default 102400
   */
  maxBodyBytes?: number;
  /**
   * Serve `GET /operations`, the list of registered operations.
   * @default true
   */
  listOperations?: boolean;
  /**
   * Request headers (lower-case names) passed upstream: in the `connection_init`
   * payload as `{"headers": {...}}`, and on the upgrade request where the runtime
   * allows. Nothing else of the client's request reaches the upstream.
   * @default []
   */
  forwardHeaders?: readonly string[];
  /**
   * Computes the `connection_init` payload from the client's request (verify a
   * JWT, map a cookie to a token), in place of `{"headers": forwarded}`. Throw a
   * `SubwayError` (e.g. `UNAUTHENTICATED`, 401) to refuse the request before any
   * upstream connection; return `undefined` for no payload. Return
   * `expiring(payload, { expiresAt, subject })` when the credential expires:
   * the stream then ends at `expiresAt` with a short `retry:`, and the hook
   * runs again on the reconnect (docs/resume.md#credential-rotation).
   * @default undefined (the forwarded headers, if any)
   */
  connectionParams?: (request: Request, forwarded: Record<string, string>) => ConnectionParamsResult | Promise<ConnectionParamsResult>;
  /** Cross-origin access. @default no cross-origin access */
  cors?: CorsOptions;
  /**
   * Names the request header that carries the client's address, set by a proxy
   * you trust (e.g. `x-forwarded-for`: its last value is used). Unset, the peer
   * address is used; never set it when clients can reach the gateway directly.
   * @default undefined
   */
  trustProxyHeader?: string;
  /**
   * The key the per-client limit counts by (a user id from a verified token,
   * say); `undefined` falls back to the client's address.
   * @default the client's address
   */
  clientKey?: (request: Request, address: string | undefined) => string | undefined;
  /**
   * How many leading bits of an IPv6 client address make one client for the
   * per-client limit (a subscriber is usually handed a whole /64); 128 counts
   * each address on its own.
   * @default 64
   */
  clientIpv6Prefix?: number;
  /**
   * Most `next` events held for a client that does not read before its stream
   * ends with a `SLOW_CONSUMER` error.
   * @default 4096
   */
  maxQueuedEvents?: number;
  /**
   * Most `next` events one response carries; the one that reaches it is
   * followed by a short `retry:` and the end of the response, so the client
   * reconnects at once (with resume on, after its last event: nothing is
   * lost). For runtimes that bound the CPU of one request (a Cloudflare
   * Worker's stream accumulates CPU event by event: docs/workers.md). 0: no bound.
   * @default 0
   */
  maxStreamEvents?: number;
  /**
   * Most bytes held for a client that does not read, in bytes, before its
   * stream ends with a `SLOW_CONSUMER` error.
   * @default 65536
   */
  maxQueuedBytes?: number;
  /**
   * Most bytes held, in bytes, for all clients that do not read together (every
   * stream's queue, and what their connections hold unsent); past it, the
   * streams holding the most end with `SLOW_CONSUMER` first. A frame several
   * streams share counts once per stream that holds it.
   * @default a quarter of `heapLimitBytes`
   */
  maxQueuedBytesTotal?: number;
  /**
   * The JS heap the gateway runs in, in bytes, which sizes the default queue
   * budget; runtime adapters pass theirs (Node: V8's `heap_size_limit`).
   * @default 134217728 (a Cloudflare Worker isolate's 128 MiB)
   */
  heapLimitBytes?: number;
  /**
   * Keys of upstream errors' `extensions` passed to clients besides `code`
   * (which always is); `["*"]` passes every extension as the upstream sent it.
   * The rest (a development server's `stacktrace`, `exception`) is dropped.
   * Applied to each upstream result once, before it is encoded (so once for
   * all the subscribers of a shared subscription).
   * @default [] (only `code`)
   */
  upstreamErrorExtensions?: readonly string[];
  /**
   * How long a client that went away keeps its place, in milliseconds
   * (docs/resume.md): its upstream subscription (or its place in a shared
   * one) and what arrives meanwhile, so a reconnect with `Last-Event-ID`
   * gets every event it missed. `0` turns resume off: no `id:` lines, nothing
   * kept, nothing lingers.
   * @default 0
   */
  resumeWindowMs?: number;
  /**
   * Most events each upstream subscription keeps for resuming clients; a client that missed more gets a gap.
   * @default 1000
   */
  resumeMaxEvents?: number;
  /**
   * Most bytes each upstream subscription keeps for resuming clients (SSE frames' UTF-8 sizes); a client that missed more gets a gap.
   * @default 1048576
   */
  resumeMaxBytes?: number;
  /** Lifecycle hooks for metrics and logs. @default none */
  instrumentation?: Instrumentation;
  /** Serves `GET /metrics` when set (prom-client on Node). @default undefined (no /metrics route) */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /**
   * Set by runtimes that bind timers and I/O to the request that made them
   * (Workers: a timer set while serving one request may not write to another
   * request's stream): each stream then keeps its own heartbeat timer, and
   * the upstream side shares nothing between requests.
   * @default false
   */
  isolateRequests?: boolean;
  /**
   * Serves admitted subscriptions somewhere else, or declines one by
   * returning `undefined` (the gateway serves it itself). A Worker hands the
   * ones it may share to the Durable Object of their key (src/worker/), whose
   * gateway opens their streams with `serveAdmitted`. The keys of the
   * `upstream.sharing` mode are computed for it even with `isolateRequests`.
   * @default undefined (every stream is served here)
   */
  delegate?: Delegate;
  /** Timer functions. @default the global setTimeout/clearTimeout/setInterval/clearInterval */
  timers?: Timers;
  /** The clock, in milliseconds, for stream durations. @default Date.now */
  now?: () => number;
  /** Source of randomness for retry jitter. @default Math.random */
  random?: () => number;
  /** Random bytes for resume's unguessable ids. @default Web Crypto's crypto.getRandomValues */
  randomBytes?: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array;
  /** Called for unexpected internal errors (never shown to clients). @default console.error */
  onInternalError?: (err: unknown) => void;
}

/** Per-request context a runtime adapter may pass. */
export interface RequestContext {
  /** Aborts when the client went away, where the runtime's `request.signal` does not say so. */
  signal?: AbortSignal;
  /** The peer's address, as the runtime saw it. */
  clientAddress?: string;
  /**
   * Keeps the runtime running a promise after the response ended (workerd's
   * `ctx.waitUntil`): the gateway hands it each upstream socket's closing, so
   * `complete` and the close frame are sent even after the client left.
   */
  waitUntil?(promise: Promise<unknown>): void;
  /**
   * Offered each event stream the gateway answers with, before the response
   * is made. A runtime that writes to its sockets itself (Node) takes it by
   * returning true, then writes it through `stream.attach(writer)` (and calls
   * `drained()` and `cancel()`); the response then has no body. Without it,
   * or when it returns false, the response's body is `stream.readable()`.
   */
  takeEventStream?(stream: EventStream): boolean;
}

export interface GatewayStats {
  /** SSE streams open now. */
  streams: number;
  /** Upstream sockets that completed the graphql-ws handshake and are open now. */
  upstreamConnections: number;
}

/** What sharing looks like right now (docs/sharing.md), for `/metrics` and the demo. */
export interface SharingStats {
  mode: SharingMode;
  /** Upstream sockets open or opening. */
  upstreamSockets: number;
  /** Upstream subscriptions running (one per stream, except identical ones in `subscription` mode). */
  upstreamSubscriptions: number;
  /** Streams attached to an upstream subscription. */
  subscribers: number;
  /** Frames encoded from upstream results, since the start. */
  framesEncoded: number;
  /** Frames handed to streams (one per stream per frame), since the start. */
  framesWritten: number;
  /** Subscribers of each shared upstream subscription (`subscription` mode), one number per subscription. */
  subscribersPerSubscription: number[];
}

export interface Gateway extends AsyncDisposable {
  /** What resume keeps now (docs/resume.md); all zero when it is off. */
  resumeStats(): ResumeStats;
  /** The Web-standard handler: every runtime adapter calls this. */
  fetch(request: Request, context?: RequestContext): Response | Promise<Response>;
  stats(): GatewayStats;
  sharingStats(): SharingStats;
  /**
   * Opens the stream of a subscription admitted by another gateway of the
   * same deployment (its `delegate`): a Durable Object answers the Worker's
   * hand-off with it. Counts in this gateway's limits; a refusal (the socket
   * cap, shutting down) is its JSON error response.
   */
  serveAdmitted(subscription: AdmittedSubscription, context?: RequestContext): Response;
  /** Serves a new allow-list from now on (a reloaded manifest); open streams keep their operation. */
  setRegistry(registry: Registry): void;
  /** Ends every open stream with a reconnection hint, closes every upstream socket, refuses new streams. */
  dispose(): Promise<void>;
}
