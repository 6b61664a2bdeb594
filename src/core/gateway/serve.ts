/**
 * The streaming path: an admitted request for a registered operation in, an
 * event stream subscribed to its upstream subscription out. Every refusal
 * (the operation, its variables, the limits, the `connectionParams` hook, the
 * upstream socket cap) happens before the 200 and before any upstream work.
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
  readonly mode: SharingMode;
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

export async function serveStream(server: StreamServer, c: Ctx, request: OperationRequest, method: 'GET' | 'POST'): Promise<Response> {
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
  let stream: GatewayStream;
  try {
    const forwarded = pickHeaders(raw.headers, server.forwardHeaders);
    const hasForwarded = Object.keys(forwarded).length > 0;
    const connectionParams = options.connectionParams ? await options.connectionParams(raw, forwarded) : hasForwarded ? { headers: forwarded } : undefined;
    const socket: SocketRequest = { connectionParams, upgradeHeaders: server.canSendHeaders && hasForwarded ? forwarded : undefined };
    const keys = await keysFor(server, op, coerced, socket);
    // The gateway may have begun to stop while the hook ran (a client that left meanwhile is noticed by its stream).
    server.checkRunning();
    const payload = { query: op.body, variables, operationName: op.name };
    const hub = server.hubs.acquire(keys.subscription, op.name, (h) => server.pool.open(keys.socket, socket, payload, h));
    const info: StreamInfo = { id: server.nextStreamId(), operation: op.name, client, variables: request.variables };
    const env = c.env;
    stream = new GatewayStream(server.context, info, release, env?.waitUntil ? (promise) => env.waitUntil!(promise) : undefined);
    stream.subscribe(hub);
  } catch (err) {
    release();
    throw err;
  }
  if (c.env?.takeEventStream?.(stream)) return new Response(null, { status: 200, headers: SSE_HEADERS });
  return new Response(stream.readable([raw.signal, c.env?.signal]), { status: 200, headers: SSE_HEADERS });
}
