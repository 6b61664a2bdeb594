/**
 * The streaming path: an admitted request for a registered operation in, an
 * event stream subscribed to its upstream subscription out. Every refusal
 * (the operation, its variables, the limits, the `connectionParams` hook, the
 * upstream socket cap) happens before the 200 and before any upstream work.
 * With resume on (docs/resume.md), a request that names an event id
 * (`Last-Event-ID`, `lastEventId`) gets what followed it or a said gap.
 */
import type { Context } from 'hono';
import { pickHeaders } from '../auth/forward.ts';
import { readConnectionParams } from '../auth/expiry.ts';
import { SubwayError } from '../errors.ts';
import type { OperationRequest } from '../http/params.ts';
import { socketKey, subscriptionKey } from '../hub/key.ts';
import type { Hubs } from '../hub/hubs.ts';
import { RESUME_HEADER, requestedEventId, resumeBinding } from '../hub/resume.ts';
import { clientAddress } from '../limits/client.ts';
import type { SubscriptionLimits } from '../limits/subscriptions.ts';
import type { StreamInfo } from '../observability/instrumentation.ts';
import type { RegisteredOperation, Registry } from '../operations/registry.ts';
import { resolveOperation } from '../operations/safelist.ts';
import { isUnshared } from '../operations/sharing.ts';
import { coerceVariables } from '../operations/variables.ts';
import type { Pool, SharingMode, SocketRequest } from '../upstream/pool.ts';
import type { GatewayOptions, RequestContext } from './options.ts';
import { GatewayStream, type Opening, type StreamContext } from './stream.ts';

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

/** The upstream connection a request asks for, and what the `connectionParams` hook said of its credential. */
interface Connection {
  readonly socket: SocketRequest;
  readonly expiresAt: number | undefined;
  readonly subject: string | undefined;
}

/** Runs the `connectionParams` hook (or forwards the headers): the `connection_init` payload and the upgrade's headers. */
async function connectionFor(server: StreamServer, raw: Request): Promise<Connection> {
  const forwarded = pickHeaders(raw.headers, server.forwardHeaders);
  const hasForwarded = Object.keys(forwarded).length > 0;
  const hook = server.options.connectionParams;
  const { params, expiresAt, subject } = readConnectionParams(hook ? await hook(raw, forwarded) : hasForwarded ? { headers: forwarded } : undefined);
  if (expiresAt !== undefined && expiresAt <= server.context.now()) {
    throw new SubwayError('UNAUTHENTICATED', 401, 'The credential has expired.');
  }
  return { socket: { connectionParams: params, upgradeHeaders: server.canSendHeaders && hasForwarded ? forwarded : undefined }, expiresAt, subject };
}

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

/** Who may resume the stream: the hook's subject, or else the exact upstream connection (resume.ts). */
async function bindingFor(connection: Connection, sharedSocketKey: string | undefined, op: RegisteredOperation, coerced: Record<string, unknown>): Promise<string> {
  if (connection.subject !== undefined) return resumeBinding({ subject: connection.subject }, op.id, coerced);
  const key = sharedSocketKey ?? (await socketKey(connection.socket.connectionParams, connection.socket.upgradeHeaders));
  return resumeBinding({ socketKey: key }, op.id, coerced);
}

/**
 * A slot in the limits for `client`; at the client's own limit, its own
 * oldest lingering subscription gives way first (resume's places never lock
 * a client out of fresh streams). `refused` is the refusal already had, if any.
 */
function acquireSlot(server: StreamServer, client: string | undefined, refused?: unknown): () => void {
  try {
    if (refused !== undefined) throw refused;
    return server.limits.acquire(client);
  } catch (err) {
    if (!(err instanceof SubwayError) || err.code !== 'CLIENT_SUBSCRIPTION_LIMIT' || !server.hubs.releaseLingering(client)) throw err;
    return server.limits.acquire(client);
  }
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

  const { options, hubs } = server;
  const raw = c.req.raw;
  const address = clientAddress(raw.headers, c.env?.clientAddress, options.trustProxyHeader, server.ipv6Prefix);
  const client = options.clientKey ? (options.clientKey(raw, address) ?? address) : address;
  // Only subscriptions resume: a query or a mutation is one result.
  const resumable = hubs.resume !== undefined && op.type === 'subscription';
  const lastEventId = resumable ? requestedEventId(raw) : undefined;
  let release: (() => void) | undefined;
  let full: unknown;
  try {
    // A resuming request gives way no place before it knows which one it takes back (below).
    release = lastEventId === undefined ? acquireSlot(server, client) : server.limits.acquire(client);
  } catch (err) {
    // A resuming client may take back the slot its own lingering subscription holds (below); anyone else is refused now.
    if (lastEventId === undefined) throw err;
    full = err;
  }
  let stream: GatewayStream;
  let outcome: 'replayed' | 'gap' | undefined;
  try {
    const connection = await connectionFor(server, raw);
    const keys = await keysFor(server, op, coerced, connection.socket);
    const binding = resumable ? await bindingFor(connection, keys.socket, op, coerced) : undefined;
    // The gateway may have begun to stop while the hook ran (a client that left meanwhile is noticed by its stream).
    server.checkRunning();
    const resumed = lastEventId === undefined ? undefined : hubs.resumeFrom(lastEventId, binding!, keys.subscription);
    if (release === undefined) {
      release = resumed && 'hub' in resumed ? resumed.hub.takeSlot() : undefined;
      // Not its own lingering subscription's slot: the client's own other places may still give way.
      release ??= acquireSlot(server, client, full);
    }
    let opening: Opening;
    if (resumed && 'hub' in resumed) {
      opening = { kind: 'replay', resumed };
    } else {
      const payload = { query: op.body, variables, operationName: op.name };
      const hub = hubs.acquire(keys.subscription, op.name, (h) => server.pool.open(keys.socket, connection.socket, payload, h), binding);
      opening = { kind: resumed ? 'gap' : 'fresh', hub };
    }
    const info: StreamInfo = { id: server.nextStreamId(), operation: op.name, client, variables: request.variables };
    if (resumed) {
      info.resume = 'hub' in resumed ? { outcome: 'replayed', events: resumed.frames.length } : { outcome: 'gap', reason: resumed.gap };
      outcome = info.resume.outcome;
    }
    const env = c.env;
    stream = new GatewayStream(server.context, info, release, env?.waitUntil ? (promise) => env.waitUntil!(promise) : undefined, connection.expiresAt);
    stream.begin(opening);
  } catch (err) {
    release?.();
    throw err;
  }
  const headers: Record<string, string> = outcome === undefined ? SSE_HEADERS : { ...SSE_HEADERS, [RESUME_HEADER]: outcome };
  if (c.env?.takeEventStream?.(stream)) return new Response(null, { status: 200, headers });
  return new Response(stream.readable([raw.signal, c.env?.signal]), { status: 200, headers });
}
