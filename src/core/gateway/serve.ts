/**
 * The streaming path: an admitted request for a registered operation in, an
 * event stream subscribed to its upstream subscription out. Every refusal
 * (the operation, its variables, the limits, the `connectionParams` hook, the
 * upstream socket cap) happens before the 200 and before any upstream work.
 *
 * Two steps: `admit` checks the request and computes what its stream needs
 * (an `AdmittedSubscription`, plain JSON); `openStream` subscribes a stream
 * to its upstream subscription. A runtime adapter may take the subscription
 * in between (`GatewayOptions.delegate`) and open its stream in another
 * place (a Worker: the Durable Object of its key).
 */
import type { Context } from 'hono';
import { pickHeaders } from '../auth/forward.ts';
import { SubwayError } from '../errors.ts';
import type { OperationRequest } from '../http/params.ts';
import { socketKey, subscriptionKey } from '../hub/key.ts';
import type { Hubs } from '../hub/hubs.ts';
import { clientAddress } from '../limits/client.ts';
import type { SubscriptionLimits } from '../limits/subscriptions.ts';
import type { StreamInfo } from '../observability/instrumentation.ts';
import type { RegisteredOperation, Registry } from '../operations/registry.ts';
import { resolveOperation } from '../operations/safelist.ts';
import { isUnshared } from '../operations/sharing.ts';
import { coerceVariables } from '../operations/variables.ts';
import type { Pool, SharingMode, SocketRequest } from '../upstream/pool.ts';
import type { AdmittedSubscription } from './admitted.ts';
import type { GatewayOptions, RequestContext } from './options.ts';
import { GatewayStream, type StreamContext } from './stream.ts';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/** What the streaming path works with: the gateway's parts. */
export interface StreamServer {
  readonly options: GatewayOptions;
  /** The sharing mode the keys are computed for. */
  readonly mode: SharingMode;
  /** Streams served here share nothing between requests (their keys are ignored): see `GatewayOptions.isolateRequests`. */
  readonly isolate: boolean;
  registry(): Registry;
  /** Throws 503 once the gateway is stopping. */
  checkRunning(): void;
  readonly limits: SubscriptionLimits;
  readonly forwardHeaders: readonly string[];
  readonly canSendHeaders: boolean;
  /** Leading bits of an IPv6 address that make one client. */
  readonly ipv6Prefix: number;
  readonly pool: Pool;
  readonly hubs: Hubs;
  readonly context: StreamContext;
  nextStreamId(): number;
}

type Ctx = Context<{ Bindings: RequestContext }>;

/** The sharing keys of a request, or `undefined` where it shares nothing. */
async function keysFor(
  server: StreamServer,
  op: RegisteredOperation,
  coerced: Record<string, unknown>,
  socket: SocketRequest,
): Promise<{ socket: string | undefined; subscription: string | undefined }> {
  if (server.mode === 'off' || isUnshared(op)) return { socket: undefined, subscription: undefined };
  const key = await socketKey(socket.connectionParams, socket.upgradeHeaders);
  // Only subscriptions are deduplicated: two clients' queries or mutations are two operations.
  if (server.mode !== 'subscription' || op.type !== 'subscription') return { socket: key, subscription: undefined };
  return { socket: key, subscription: await subscriptionKey(key, op.id, coerced) };
}

/** Checks a request and computes its subscription; the slot it took in the limits is the caller's to free (`release`). */
async function admit(
  server: StreamServer,
  c: Ctx,
  request: OperationRequest,
  method: 'GET' | 'POST',
): Promise<{ subscription: AdmittedSubscription; release: () => void }> {
  const registry = server.registry();
  const op = await resolveOperation(registry, request);
  if (op.type === 'mutation' && method === 'GET') {
    throw new SubwayError('METHOD_NOT_ALLOWED', 405, `Operation "${op.name}" is a mutation; mutations are not served over GET.`, {
      headers: { allow: 'POST' },
    });
  }
  const { variables, coerced } = coerceVariables(registry, op, request.variables);
  // Reading a POST body and hashing text are asynchronous: the gateway may have begun to stop meanwhile.
  server.checkRunning();

  const { options } = server;
  const raw = c.req.raw;
  const address = clientAddress(raw.headers, c.env?.clientAddress, options.trustProxyHeader, server.ipv6Prefix);
  const client = options.clientKey ? (options.clientKey(raw, address) ?? address) : address;
  const release = server.limits.acquire(client);
  try {
    const forwarded = pickHeaders(raw.headers, server.forwardHeaders);
    const hasForwarded = Object.keys(forwarded).length > 0;
    const connectionParams = options.connectionParams ? await options.connectionParams(raw, forwarded) : hasForwarded ? { headers: forwarded } : undefined;
    const socket: SocketRequest = { connectionParams, upgradeHeaders: server.canSendHeaders && hasForwarded ? forwarded : undefined };
    const keys = await keysFor(server, op, coerced, socket);
    // The gateway may have begun to stop while the hook ran (a client that left meanwhile is noticed by its stream).
    server.checkRunning();
    const subscription: AdmittedSubscription = {
      operation: { id: op.id, name: op.name, type: op.type, unshared: isUnshared(op) },
      payload: { query: op.body, variables, operationName: op.name },
      socket,
      keys,
      client,
    };
    return { subscription, release };
  } catch (err) {
    release();
    throw err;
  }
}

export async function serveStream(server: StreamServer, c: Ctx, request: OperationRequest, method: 'GET' | 'POST'): Promise<Response> {
  const { subscription, release } = await admit(server, c, request, method);
  const raw = c.req.raw;
  const delegated = server.options.delegate?.(subscription, raw, release, c.env ?? {});
  if (delegated) return delegated;
  return openStream(server, subscription, release, c.env ?? {}, [raw.signal, c.env?.signal]);
}

/**
 * Subscribes a new stream to the upstream subscription of an admitted
 * subscription (the open one of its key, or a new one) and answers with it.
 * `release` frees its slot in the limits once nothing of the stream is held;
 * it is freed at once if the stream cannot be opened (a 429 from the socket cap).
 */
export function openStream(
  server: StreamServer,
  subscription: AdmittedSubscription,
  release: () => void,
  env: RequestContext,
  signals: readonly (AbortSignal | undefined)[],
): Response {
  let stream: GatewayStream;
  try {
    const { operation, payload, socket } = subscription;
    const keys = server.isolate ? { socket: undefined, subscription: undefined } : subscription.keys;
    const hub = server.hubs.acquire(keys.subscription, operation.name, (h) => server.pool.open(keys.socket, socket, payload, h));
    const info: StreamInfo = { id: server.nextStreamId(), operation: operation.name, client: subscription.client, variables: payload.variables };
    stream = new GatewayStream(server.context, info, release, env.waitUntil ? (promise) => env.waitUntil!(promise) : undefined);
    stream.subscribe(hub);
  } catch (err) {
    release();
    throw err;
  }
  if (env.takeEventStream?.(stream)) return new Response(null, { status: 200, headers: SSE_HEADERS });
  return new Response(stream.readable(signals), { status: 200, headers: SSE_HEADERS });
}
