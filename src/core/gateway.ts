/**
 * The gateway core: a persisted operation in, one upstream graphql-ws
 * subscription out, server-sent events back. It speaks only Web standards
 * (Request, Response, ReadableStream, an injected WebSocket), so each runtime
 * adapter is a thin layer over `gateway.fetch`.
 */
import { Hono, type Context } from 'hono';
import { NEVER_FORWARDED, pickHeaders } from './auth/forward.ts';
import { SubwayError, toSubwayError } from './errors.ts';
import { acceptsEventStream } from './http/accept.ts';
import { createCors, type CorsOptions } from './http/cors.ts';
import { describeOperations } from './http/operations.ts';
import { checkHost } from './http/host.ts';
import { readOperationRequest, type OperationRequest } from './http/params.ts';
import { readPostRequest } from './http/post.ts';
import { clientAddress } from './limits/client.ts';
import { createQueueBudget } from './limits/queue-budget.ts';
import { checkJsonDepth, checkQueryString, checkVariablesSize, type RequestSizeLimits } from './limits/request-size.ts';
import { createSubscriptionLimits, type SubscriptionLimitOptions } from './limits/subscriptions.ts';
import type { Instrumentation, StreamEndReason, StreamInfo } from './observability/instrumentation.ts';
import type { Registry } from './operations/registry.ts';
import { resolveOperation } from './operations/safelist.ts';
import { checkVariables } from './operations/variables.ts';
import { createEventStream, defaultTimers, type EndReason, type Timers } from './sse/stream.ts';
import { createUpstreamHealth, type RetryPolicy } from './upstream/health.ts';
import { errorPolicy, safeErrors, safeResult } from './upstream/safe-result.ts';
import { subscribeUpstream, type UpstreamOptions } from './upstream/subscribe.ts';
import { DEFAULTS } from './defaults.ts';

/** The upstream side as the gateway sees it. */
export interface GatewayUpstreamOptions extends UpstreamOptions {
  /**
   * Returns a WebSocket constructor that sends these headers on the upgrade
   * request. Supplied by runtimes whose WebSocket can (Node's `ws`); where it
   * is absent, forwarded headers travel only in `connection_init`.
   * @default undefined
   */
  webSocketWithHeaders?: (headers: Record<string, string>) => unknown;
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
   * upstream connection; return `undefined` for no payload.
   * @default undefined (the forwarded headers, if any)
   */
  connectionParams?: (
    request: Request,
    forwarded: Record<string, string>,
  ) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
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
   * Most bytes held for a client that does not read, in bytes, before its
   * stream ends with a `SLOW_CONSUMER` error.
   * @default 65536
   */
  maxQueuedBytes?: number;
  /**
   * Most bytes held, in bytes, for all clients that do not read together (every
   * stream's queue, and what their connections hold unsent); past it, the
   * streams holding the most end with `SLOW_CONSUMER` first.
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
   * @default [] (only `code`)
   */
  upstreamErrorExtensions?: readonly string[];
  /** Lifecycle hooks for metrics and logs. @default none */
  instrumentation?: Instrumentation;
  /** Serves `GET /metrics` when set (prom-client on Node). @default undefined (no /metrics route) */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Timer functions. @default the global setInterval/clearInterval */
  timers?: Timers;
  /** The clock, in milliseconds, for stream durations. @default Date.now */
  now?: () => number;
  /** Source of randomness for retry jitter. @default Math.random */
  random?: () => number;
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
}

export interface GatewayStats {
  /** SSE streams open now. */
  streams: number;
  /** Upstream sockets that completed the graphql-ws handshake and are open now. */
  upstreamConnections: number;
}

export interface Gateway extends AsyncDisposable {
  /** The Web-standard handler: every runtime adapter calls this. */
  fetch(request: Request, context?: RequestContext): Response | Promise<Response>;
  stats(): GatewayStats;
  /** Serves a new allow-list from now on (a reloaded manifest); open streams keep their operation. */
  setRegistry(registry: Registry): void;
  /** Ends every open stream with a reconnection hint, closes every upstream socket, refuses new streams. */
  dispose(): Promise<void>;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/** A 405 whose `Allow` names the methods the route serves (`"GET, POST"`). */
function methodNotAllowed(route: string, allow: string): SubwayError {
  return new SubwayError('METHOD_NOT_ALLOWED', 405, `Only ${allow.replace(', ', ' and ')} are served on ${route}.`, { headers: { allow } });
}

/** Wraps each hook so a throwing hook is reported, never breaking a stream. */
function guard(instrumentation: Instrumentation | undefined, onError: (err: unknown) => void): Required<Instrumentation> {
  const wrap = <K extends keyof Instrumentation>(key: K) =>
    ((...args: unknown[]) => {
      const fn = instrumentation?.[key] as ((...a: unknown[]) => void) | undefined;
      if (!fn) return;
      try {
        fn.apply(instrumentation, args);
      } catch (err) {
        onError(err);
      }
    }) as NonNullable<Instrumentation[K]>;
  return {
    onStreamStart: wrap('onStreamStart'),
    onStreamEnd: wrap('onStreamEnd'),
    onEvent: wrap('onEvent'),
    onRejection: wrap('onRejection'),
    onUpstreamOpen: wrap('onUpstreamOpen'),
    onUpstreamClose: wrap('onUpstreamClose'),
    onUpstreamError: wrap('onUpstreamError'),
    onOperationSource: wrap('onOperationSource'),
  };
}

export function createGateway(options: GatewayOptions): Gateway {
  // One protocol memory per gateway, kept across the per-request copies of the options.
  const upstream: GatewayUpstreamOptions = { ...options.upstream, protocolMemory: options.upstream.protocolMemory ?? new Map() };
  let registry = options.registry;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
  const path = options.path ?? DEFAULTS.path;
  const timers = options.timers ?? defaultTimers;
  const now = options.now ?? Date.now;
  const onInternalError = options.onInternalError ?? ((err: unknown) => console.error('[subway] internal error', err));
  const health = createUpstreamHealth(options, options.random);
  const limits = createSubscriptionLimits(options);
  const forwardHeaders = (options.forwardHeaders ?? []).map((h) => h.toLowerCase()).filter((h) => !NEVER_FORWARDED.has(h));
  // A preflight names only the headers that are really forwarded.
  const cors = createCors({ ...options.cors, allowHeaders: [...(options.cors?.allowHeaders ?? []), ...forwardHeaders] });
  const errors = errorPolicy(options.upstreamErrorExtensions ?? DEFAULTS.upstreamErrorExtensions);
  const budget = createQueueBudget(
    options.maxQueuedBytesTotal ?? Math.floor((options.heapLimitBytes ?? DEFAULTS.heapLimitBytes) * DEFAULTS.queueBudgetHeapShare),
    onInternalError,
  );
  const ipv6Prefix = options.clientIpv6Prefix ?? DEFAULTS.clientIpv6Prefix;
  const hooks = guard(options.instrumentation, onInternalError);
  /** Ends each open stream; called on dispose. */
  const open = new Set<(reason: string, retryMs: number, why: EndReason) => void>();
  let upstreamConnections = 0;
  let streamIds = 0;
  let disposed = false;

  const app = new Hono<{ Bindings: RequestContext }>();

  app.use('*', async (c, next) => {
    // Before any route: a malformed Host is refused, never read.
    checkHost(c.req.raw.headers);
    await next();
    for (const [k, v] of Object.entries(cors.headers(c.req.raw))) c.res.headers.set(k, v);
  });

  const shuttingDown = () => new SubwayError('SHUTTING_DOWN', 503, 'The gateway is shutting down.', { headers: { 'retry-after': '1' } });
  const admit = (c: Context<{ Bindings: RequestContext }>) => {
    if (disposed) throw shuttingDown();
    cors.check(c.req.raw);
    if (!acceptsEventStream(c.req.header('accept'))) {
      throw new SubwayError('NOT_ACCEPTABLE', 406, 'This endpoint serves text/event-stream; send "Accept: text/event-stream".');
    }
  };

  const GRAPHQL_METHODS = 'GET, POST';
  app.get(path, (c) => {
    // Hono answers HEAD with the GET route: a HEAD must not open an upstream subscription.
    if (c.req.method === 'HEAD') throw methodNotAllowed(path, GRAPHQL_METHODS);
    checkQueryString(c.req.url, options);
    admit(c);
    const params = new URL(c.req.url).searchParams;
    // Size, then depth, on the text: before anything parses it.
    for (const raw of params.getAll('variables')) {
      checkVariablesSize(raw, options);
      checkJsonDepth(raw, options, 'The "variables" parameter', { extensions: { parameter: 'variables' } });
    }
    for (const raw of params.getAll('extensions')) checkJsonDepth(raw, options, 'The "extensions" parameter', { extensions: { parameter: 'extensions' } });
    return serve(c, readOperationRequest(params), 'GET');
  });
  app.post(path, async (c) => {
    admit(c);
    const request = await readPostRequest(c.req.raw, maxBodyBytes, options);
    checkVariablesSize(JSON.stringify(request.variables), options);
    return serve(c, request, 'POST');
  });

  const serve = async (c: Context<{ Bindings: RequestContext }>, request: OperationRequest, method: 'GET' | 'POST') => {
    const current = registry;
    const op = await resolveOperation(current, request);
    if (op.type === 'mutation' && method === 'GET') {
      throw new SubwayError('METHOD_NOT_ALLOWED', 405, `Operation "${op.name}" is a mutation; mutations are not served over GET.`, {
        headers: { allow: 'POST' },
      });
    }
    const variables = checkVariables(current, op, request.variables);
    // Reading a POST body and hashing text are asynchronous: the gateway may have begun to stop meanwhile.
    if (disposed) throw shuttingDown();

    const address = clientAddress(c.req.raw.headers, c.env?.clientAddress, options.trustProxyHeader, ipv6Prefix);
    const client = options.clientKey ? (options.clientKey(c.req.raw, address) ?? address) : address;
    const release = limits.acquire(client);
    let upstreamOptions: UpstreamOptions = upstream;
    let payloadParams: Record<string, unknown> | undefined;
    try {
      const forwarded = pickHeaders(c.req.raw.headers, forwardHeaders);
      const connectionParams = options.connectionParams
        ? await options.connectionParams(c.req.raw, forwarded)
        : Object.keys(forwarded).length > 0
          ? { headers: forwarded }
          : undefined;
      // The gateway may have begun to stop while the hook ran (a client that left meanwhile is noticed by its stream).
      if (disposed) throw shuttingDown();
      if (upstream.webSocketWithHeaders && Object.keys(forwarded).length > 0) {
        upstreamOptions = { ...upstream, webSocketImpl: upstream.webSocketWithHeaders(forwarded) };
      }
      payloadParams = connectionParams;
    } catch (err) {
      release();
      throw err;
    }

    const info: StreamInfo = { id: ++streamIds, operation: op.name, client, variables: request.variables };
    const started = now();
    let reason: StreamEndReason | undefined;
    hooks.onStreamStart(info);
    const body = createEventStream(
      {
        heartbeatMs,
        timers,
        signals: [c.req.raw.signal, c.env?.signal],
        maxQueuedEvents: options.maxQueuedEvents,
        maxQueuedBytes: options.maxQueuedBytes,
        budget,
        // The slot is held until nothing of the stream is: a client that stopped
        // reading keeps its queued bytes, so it keeps counting against the limits.
        onReleased: release,
        onEnd(why, totals) {
          const end: StreamEndReason = why === 'client-gone' || why === 'shutdown' || why === 'slow-consumer' ? why : (reason ?? 'complete');
          hooks.onStreamEnd({ ...info, reason: end, durationMs: now() - started, events: totals.events, bytes: totals.bytes });
        },
      },
      (sink) => {
        let connected = false;
        const stop = (text: string, retryMs: number, why: EndReason) => sink.retry(text, retryMs, why);
        open.add(stop);
        const sub = subscribeUpstream(upstreamOptions, { query: op.body, variables, operationName: op.name, connectionParams: payloadParams }, {
          onConnected() {
            connected = true;
            upstreamConnections++;
            hooks.onUpstreamOpen();
            health.succeeded();
          },
          next: (result) => {
            const bytes = sink.next(JSON.stringify(safeResult(result, errors)));
            if (bytes > 0) hooks.onEvent(op.name, bytes);
          },
          end(end) {
            switch (end.kind) {
              case 'complete':
                reason = 'complete';
                return sink.complete();
              case 'errors':
                reason = 'upstream-errors';
                sink.next(JSON.stringify({ errors: safeErrors(end.errors, errors) }));
                return sink.complete();
              case 'fatal':
                reason = 'upstream-fatal';
                hooks.onUpstreamError('fatal', end.closeCode);
                sink.next(JSON.stringify({ errors: [{ message: end.message, extensions: { code: 'UPSTREAM_ERROR', closeCode: end.closeCode } }] }));
                return sink.complete();
              case 'transient':
                reason = 'upstream-unavailable';
                hooks.onUpstreamError('transient', end.closeCode);
                return sink.retry('upstream unavailable', health.failed());
            }
          },
        });
        return () => {
          open.delete(stop);
          if (connected) {
            upstreamConnections--;
            hooks.onUpstreamClose();
          }
          sub.dispose();
          c.env?.waitUntil?.(sub.closed);
        };
      },
    );
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  };

  app.options('*', (c) => cors.preflight(c.req.raw));
  app.all(path, () => {
    throw methodNotAllowed(path, GRAPHQL_METHODS);
  });
  /** A read-only route: GET (and HEAD, which Hono answers with it); any other method is a 405. */
  const readOnly = (route: string, handler: (c: Context<{ Bindings: RequestContext }>) => Response | Promise<Response>) => {
    app.get(route, handler);
    app.all(route, () => {
      throw methodNotAllowed(route, 'GET, HEAD');
    });
  };
  if (options.listOperations ?? DEFAULTS.listOperations) readOnly('/operations', (c) => c.json(describeOperations(registry)));
  readOnly('/healthz', (c) => c.json({ status: disposed ? 'shutting-down' : 'ok' }, disposed ? 503 : 200));
  readOnly('/readyz', (c) => {
    // Not ready while stopping, or while full (a load balancer should send new clients elsewhere).
    const status = disposed ? 'shutting-down' : limits.full ? 'full' : 'ready';
    return c.json({ status, streams: open.size, upstreamFailures: health.failures }, status === 'ready' ? 200 : 503);
  });
  if (options.metrics) {
    const metrics = options.metrics;
    readOnly('/metrics', async () => {
      const { contentType, body } = await metrics();
      return new Response(body, { headers: { 'content-type': contentType } });
    });
  }
  app.notFound((c) => {
    hooks.onRejection('NOT_FOUND', 404);
    return new SubwayError('NOT_FOUND', 404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`).toResponse();
  });
  app.onError((err) => {
    const error = toSubwayError(err);
    if (error.code === 'INTERNAL_SERVER_ERROR') onInternalError(error.cause ?? err);
    hooks.onRejection(error.code, error.status);
    return error.toResponse();
  });

  const dispose = async () => {
    disposed = true;
    for (const stop of [...open]) stop('gateway shutting down', health.failed(), 'shutdown');
  };
  return {
    fetch: (request, context) => app.fetch(request, context ?? {}),
    stats: () => ({ streams: open.size, upstreamConnections }),
    setRegistry: (next) => {
      registry = next;
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
