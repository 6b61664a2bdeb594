/**
 * The gateway core: a persisted operation in, one upstream graphql-ws
 * subscription out, server-sent events back. It speaks only Web standards
 * (Request, Response, ReadableStream, an injected WebSocket), so each runtime
 * adapter is a thin layer over `gateway.fetch`.
 */
import { Hono, type Context } from 'hono';
import { SubwayError, toSubwayError } from './errors.ts';
import { checkQueryStringLength, readOperationRequest, type OperationRequest } from './http/params.ts';
import { acceptsEventStream } from './http/accept.ts';
import { describeOperations } from './http/operations.ts';
import { readPostRequest } from './http/post.ts';
import type { Registry } from './operations/registry.ts';
import { resolveOperation } from './operations/safelist.ts';
import { checkVariables } from './operations/variables.ts';
import { createEventStream, defaultTimers, type EndReason, type Timers } from './sse/stream.ts';
import { createUpstreamHealth, type RetryPolicy } from './upstream/health.ts';
import { subscribeUpstream, type UpstreamOptions } from './upstream/subscribe.ts';

export interface GatewayOptions extends RetryPolicy {
  /** The allow-list of operations. */
  registry: Registry;
  /** Where and how to reach the upstream graphql-ws server. */
  upstream: UpstreamOptions;
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
   * Longest query string served on GET, in bytes; longer gets 414 (send POST instead).
   * @default 8192
   */
  maxQueryStringBytes?: number;
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
  /** Timer functions. @default the global setInterval/clearInterval */
  timers?: Timers;
  /** Source of randomness for retry jitter. @default Math.random */
  random?: () => number;
  /** Called for unexpected internal errors (never shown to clients). @default console.error */
  onInternalError?: (err: unknown) => void;
}

/** Per-request context a runtime adapter may pass. */
export interface RequestContext {
  /** Aborts when the client went away, where the runtime's `request.signal` does not say so. */
  signal?: AbortSignal;
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

export function createGateway(options: GatewayOptions): Gateway {
  const { upstream } = options;
  let registry = options.registry;
  const maxQueryStringBytes = options.maxQueryStringBytes ?? 8192;
  const maxBodyBytes = options.maxBodyBytes ?? 102_400;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const path = options.path ?? '/graphql';
  const timers = options.timers ?? defaultTimers;
  const onInternalError = options.onInternalError ?? ((err: unknown) => console.error('[subway] internal error', err));
  const health = createUpstreamHealth(options, options.random);
  /** Ends each open stream; called on dispose. */
  const open = new Set<(reason: string, retryMs: number, why: EndReason) => void>();
  let upstreamConnections = 0;
  let disposed = false;

  const app = new Hono<{ Bindings: RequestContext }>();

  const shuttingDown = () => new SubwayError('SHUTTING_DOWN', 503, 'The gateway is shutting down.', { headers: { 'retry-after': '1' } });
  const admit = (c: Context<{ Bindings: RequestContext }>) => {
    if (disposed) throw shuttingDown();
    if (!acceptsEventStream(c.req.header('accept'))) {
      throw new SubwayError('NOT_ACCEPTABLE', 406, 'This endpoint serves text/event-stream; send "Accept: text/event-stream".');
    }
  };

  app.get(path, (c) => {
    admit(c);
    checkQueryStringLength(c.req.url, maxQueryStringBytes);
    return serve(c, readOperationRequest(new URL(c.req.url).searchParams), 'GET');
  });
  app.post(path, async (c) => {
    admit(c);
    return serve(c, await readPostRequest(c.req.raw, maxBodyBytes), 'POST');
  });

  const serve = async (c: Context<{ Bindings: RequestContext }>, request: OperationRequest, method: 'GET' | 'POST') => {
    const current = registry;
    const op = await resolveOperation(current, request);
    if (op.type === 'mutation' && method === 'GET') {
      throw new SubwayError('METHOD_NOT_ALLOWED', 405, `Operation "${op.name}" is a mutation; mutations are not served over GET.`, {
        headers: { allow: '' },
      });
    }
    const variables = checkVariables(current, op, request.variables);
    // Reading a POST body and hashing text are asynchronous: the gateway may have begun to stop meanwhile.
    if (disposed) throw shuttingDown();

    const body = createEventStream(
      { heartbeatMs, timers, signals: [c.req.raw.signal, c.env?.signal] },
      (sink) => {
        let connected = false;
        const stop = (reason: string, retryMs: number, why: EndReason) => sink.retry(reason, retryMs, why);
        open.add(stop);
        const sub = subscribeUpstream(upstream, { query: op.body, variables, operationName: op.name }, {
          onConnected() {
            connected = true;
            upstreamConnections++;
            health.succeeded();
          },
          next: (result) => sink.next(JSON.stringify(result)),
          end(end) {
            switch (end.kind) {
              case 'complete':
                return sink.complete();
              case 'errors':
                sink.next(JSON.stringify({ errors: end.errors }));
                return sink.complete();
              case 'fatal':
                sink.next(JSON.stringify({ errors: [{ message: end.message, extensions: { code: 'UPSTREAM_ERROR', closeCode: end.closeCode } }] }));
                return sink.complete();
              case 'transient':
                return sink.retry('upstream unavailable', health.failed());
            }
          },
        });
        return () => {
          open.delete(stop);
          if (connected) upstreamConnections--;
          sub.dispose();
          c.env?.waitUntil?.(sub.closed);
        };
      },
    );
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  };

  app.all(path, () => {
    throw new SubwayError('METHOD_NOT_ALLOWED', 405, `Only GET and POST are served on ${path}.`, { headers: { allow: 'GET, POST' } });
  });
  if (options.listOperations ?? true) app.get('/operations', (c) => c.json(describeOperations(registry)));
  app.get('/healthz', (c) => c.json({ status: disposed ? 'shutting-down' : 'ok' }, disposed ? 503 : 200));
  app.notFound((c) => new SubwayError('NOT_FOUND', 404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`).toResponse());
  app.onError((err) => {
    const error = toSubwayError(err);
    if (error.code === 'INTERNAL_SERVER_ERROR') onInternalError(error.cause ?? err);
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
