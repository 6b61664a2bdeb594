/**
 * The gateway core: a persisted operation in, an upstream graphql-ws
 * subscription (shared or not, docs/sharing.md) out, server-sent events back.
 * It speaks only Web standards (Request, Response, ReadableStream, an
 * injected WebSocket and timers), so each runtime adapter is a thin layer
 * over `gateway.fetch`.
 *
 * This file assembles the parts, each in a file of its own:
 * - gateway/routes.ts     the HTTP surface (Hono)
 * - gateway/serve.ts      an admitted request → a stream on its upstream subscription
 * - gateway/stream.ts     a client's stream as the gateway runs it
 * - hub/                  upstream subscriptions and their fan-out (one per key when shared)
 * - upstream/pool.ts      upstream sockets and which subscription goes on which
 * - sse/                  frames, the bounded per-stream queue, the heartbeat sweep
 */
import { NEVER_FORWARDED } from './auth/forward.ts';
import { SubwayError, toSubwayError } from './errors.ts';
import { createCors } from './http/cors.ts';
import { Hubs } from './hub/hubs.ts';
import { createQueueBudget } from './limits/queue-budget.ts';
import { createSubscriptionLimits } from './limits/subscriptions.ts';
import { StreamSet } from './sse/heartbeat.ts';
import { defaultTimers } from './timers.ts';
import { createUpstreamHealth } from './upstream/health.ts';
import { upstreamSettings } from './upstream/options.ts';
import { Pool } from './upstream/pool.ts';
import { errorPolicy, safeResultText } from './upstream/safe-result.ts';
import { DEFAULTS } from './defaults.ts';
import { guardHooks } from './gateway/hooks.ts';
import type { Gateway, GatewayOptions, GatewayUpstreamOptions } from './gateway/options.ts';
import { createRoutes } from './gateway/routes.ts';
import { serveAdmitted, serveStream, type StreamServer } from './gateway/serve.ts';
import type { GatewayStream, StreamContext } from './gateway/stream.ts';

export type { AdmittedSubscription, Delegate } from './gateway/admitted.ts';
export type { Gateway, GatewayOptions, GatewayStats, GatewayUpstreamOptions, RequestContext, SharingStats } from './gateway/options.ts';

export function createGateway(options: GatewayOptions): Gateway {
  const upstream: GatewayUpstreamOptions = options.upstream;
  // One protocol memory per gateway.
  const settings = upstreamSettings({ ...upstream, protocolMemory: upstream.protocolMemory ?? new Map() });
  const isolate = options.isolateRequests ?? DEFAULTS.isolateRequests;
  // Isolated requests share nothing here; with a delegate, the keys are still computed for where it serves them.
  const mode = isolate && !options.delegate ? 'off' : (upstream.sharing ?? DEFAULTS.upstreamSharing);
  const timers = options.timers ?? defaultTimers;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const windowMs = options.resumeWindowMs ?? DEFAULTS.resumeWindowMs;
  // Off unless a window is set: no ids, no logs, no lingering.
  const resume =
    windowMs > 0 ? { windowMs, maxEvents: options.resumeMaxEvents ?? DEFAULTS.resumeMaxEvents, maxBytes: options.resumeMaxBytes ?? DEFAULTS.resumeMaxBytes } : undefined;
  const onInternalError = options.onInternalError ?? ((err: unknown) => console.error('[subway] internal error', err));
  const hooks = guardHooks(options.instrumentation, onInternalError);
  const health = createUpstreamHealth(options, random);
  const limits = createSubscriptionLimits(options);
  const forwardHeaders = (options.forwardHeaders ?? []).map((h) => h.toLowerCase()).filter((h) => !NEVER_FORWARDED.has(h));
  // A preflight names only the headers that are really forwarded.
  const cors = createCors({ ...options.cors, allowHeaders: [...(options.cors?.allowHeaders ?? []), ...forwardHeaders] });
  const errors = errorPolicy(options.upstreamErrorExtensions ?? DEFAULTS.upstreamErrorExtensions);
  const budget = createQueueBudget(
    options.maxQueuedBytesTotal ?? Math.floor((options.heapLimitBytes ?? DEFAULTS.heapLimitBytes) * DEFAULTS.queueBudgetHeapShare),
    onInternalError,
  );
  let registry = options.registry;
  let disposed = false;
  let streamIds = 0;

  const pool = new Pool({
    mode: isolate ? 'off' : mode,
    maxSubscriptionsPerSocket: upstream.maxSubscriptionsPerSocket ?? DEFAULTS.upstreamMaxSubscriptionsPerSocket,
    idleMs: upstream.idleMs ?? DEFAULTS.upstreamIdleMs,
    maxSockets: upstream.maxSockets ?? DEFAULTS.upstreamMaxSockets,
    retryAfterS: options.limitRetryAfterS ?? DEFAULTS.limitRetryAfterS,
    settings,
    webSocketImpl: upstream.webSocketImpl,
    webSocketWithHeaders: upstream.webSocketWithHeaders,
    onOpen() {
      hooks.onUpstreamOpen();
      health.succeeded();
    },
    onClose: () => hooks.onUpstreamClose(),
  });
  const hubs = new Hubs({
    timers,
    now,
    random: options.randomBytes,
    resume,
    // A resumable upstream subscription lingering for a departed client counts as the stream it stands for.
    holdSlot: (client) => limits.hold(client),
    // Upstream errors' extensions filtered once per result, before it is encoded for every subscriber.
    transform: errors.extensions === 'all' ? undefined : (json) => safeResultText(json, errors),
    onFrame: (operation, bytes, written) => hooks.onFrame(operation, bytes, written),
    onEnd(_hub, end) {
      if (end.kind === 'fatal' || end.kind === 'transient') hooks.onUpstreamError(end.kind, end.closeCode);
    },
  });
  const context: StreamContext = {
    bounds: { maxQueuedEvents: options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents, maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes },
    budget,
    hooks,
    health,
    now,
    timers,
    soonRetryMs: () => Math.floor(random() * DEFAULTS.soonRetryMs),
    maxStreamEvents: options.maxStreamEvents ?? DEFAULTS.maxStreamEvents,
    budgetRetryMs: () => Math.floor(random() * DEFAULTS.streamBudgetRetryMs),
    streams: new StreamSet<GatewayStream>(options.heartbeatMs ?? DEFAULTS.heartbeatMs, timers, isolate),
  };

  const checkRunning = () => {
    if (disposed) throw new SubwayError('SHUTTING_DOWN', 503, 'The gateway is shutting down.', { headers: { 'retry-after': '1' } });
  };
  const server: StreamServer = {
    options,
    mode,
    isolate,
    registry: () => registry,
    checkRunning,
    limits,
    forwardHeaders,
    canSendHeaders: upstream.webSocketWithHeaders !== undefined,
    ipv6Prefix: options.clientIpv6Prefix ?? DEFAULTS.clientIpv6Prefix,
    pool,
    hubs,
    context,
    nextStreamId: () => ++streamIds,
  };
  const app = createRoutes({
    options,
    cors,
    hooks,
    registry: () => registry,
    checkRunning,
    get disposed() {
      return disposed;
    },
    get full() {
      return limits.full;
    },
    get streams() {
      return context.streams.size;
    },
    get upstreamFailures() {
      return health.failures;
    },
    serve: (c, request, method) => serveStream(server, c, request, method),
    onInternalError,
  });

  const dispose = async () => {
    disposed = true;
    // With resume on, clients come straight back (to another instance behind a load balancer: a said gap on Node).
    for (const stream of [...context.streams]) stream.shutdown(resume ? context.soonRetryMs() : undefined);
    hubs.dispose();
    pool.closeAll();
  };
  return {
    fetch: (request, ctx) => app.fetch(request, ctx ?? {}),
    stats: () => ({ streams: context.streams.size, upstreamConnections: pool.connected }),
    sharingStats: () => ({
      mode,
      upstreamSockets: pool.sockets,
      upstreamSubscriptions: hubs.active,
      subscribers: context.streams.size,
      framesEncoded: hubs.framesEncoded,
      framesWritten: hubs.framesWritten,
      subscribersPerSubscription: Array.from(hubs.shared(), (hub) => hub.size),
    }),
    serveAdmitted(subscription, ctx = {}) {
      try {
        checkRunning();
        return serveAdmitted(server, subscription, ctx);
      } catch (err) {
        const error = toSubwayError(err);
        if (error.code === 'INTERNAL_SERVER_ERROR') onInternalError(error.cause ?? err);
        hooks.onRejection(error.code, error.status);
        return error.toResponse();
      }
    },
    resumeStats: () => hubs.resumeStats(),
    setRegistry: (next) => {
      registry = next;
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
