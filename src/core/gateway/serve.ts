/**
 * The streaming path: an admitted request for a registered operation in, an
 * event stream subscribed to its upstream subscription out. Every refusal
 * (the operation, its variables, the limits, the `connectionParams` hook, the
 * upstream socket cap) happens before the 200 and before any upstream work.
 * With resume on (docs/resume.md), a request that names an event id
 * (`Last-Event-ID`, `lastEventId`) gets what followed it or a said gap.
 *
 * Two steps: `admit` checks the request and computes what its stream needs
 * (an `AdmittedSubscription`, plain JSON); `openStream` subscribes a stream
 * to its upstream subscription (or resumes it). A runtime adapter may take
 * the subscription in between (`GatewayOptions.delegate`) and open its
 * stream in another place (a Worker: the Durable Object of its key).
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
import { resolveOperation, sha256Text } from '../operations/safelist.ts';
import { isUnshared } from '../operations/sharing.ts';
import { coerceVariables } from '../operations/variables.ts';
import type { Pool, SharingMode, SocketRequest } from '../upstream/pool.ts';
import type { AdmittedSubscription } from './admitted.ts';
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
async function bindingFor(connection: Connection, sharedSocketKey: string | undefined, op: RegisteredOperation, coerced: Record<string, unknown>) {
  const key = connection.subject !== undefined ? undefined : (sharedSocketKey ?? (await socketKey(connection.socket.connectionParams, connection.socket.upgradeHeaders)));
  const binding = await resumeBinding(key === undefined ? { subject: connection.subject! } : { socketKey: key }, op.id, coerced);
  // Whose streams these are, as one digest: what a Worker names the Durable Object of a credential by (src/worker/delegate.ts).
  const owner = key ?? (await sha256Text(`subway/owner\nsubject\n${connection.subject}`));
  return { binding, owner };
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

/**
 * The slot of a new stream. A resuming request gives way no place before it
 * knows which one it takes back (`openStream`): when the limits are full it
 * gets none yet, and the refusal (`full`) for later; anyone else is refused now.
 */
function slotFor(server: StreamServer, client: string | undefined, lastEventId: string | undefined): { release: (() => void) | undefined; full: unknown } {
  try {
    return { release: lastEventId === undefined ? acquireSlot(server, client) : server.limits.acquire(client), full: undefined };
  } catch (err) {
    if (lastEventId === undefined) throw err;
    return { release: undefined, full: err };
  }
}

/** A checked request: its subscription, and its slot in the limits (the caller's to free), or why there was none. */
interface Admitted {
  readonly subscription: AdmittedSubscription;
  readonly release: (() => void) | undefined;
  readonly full: unknown;
}

/** Checks a request and computes its subscription; the slot it took in the limits is the caller's to free. */
async function admit(server: StreamServer, c: Ctx, request: OperationRequest, method: 'GET' | 'POST'): Promise<Admitted> {
  const registry = server.registry();
  const op = await resolveOperation(registry, request);
  if (op.type === 'mutation' && method === 'GET') {
    throw new SubwayError('METHOD_NOT_ALLOWED', 405, `Operation "${op.name}" is a mutation; mutations are not served over GET.`, {
      headers: { allow: 'POST' },
    });
  }
  const { variables, coerced } = coerceVariables(op, request.variables);
  // Reading a POST body and hashing text are asynchronous: the gateway may have begun to stop meanwhile.
  server.checkRunning();

  const { options, hubs } = server;
  const raw = c.req.raw;
  const address = clientAddress(raw.headers, c.env?.clientAddress, options.trustProxyHeader, server.ipv6Prefix);
  const client = options.clientKey ? (options.clientKey(raw, address) ?? address) : address;
  // Only subscriptions resume: a query or a mutation is one result.
  const resumable = hubs.resume !== undefined && op.type === 'subscription';
  const lastEventId = resumable ? requestedEventId(raw) : undefined;
  const { release, full } = slotFor(server, client, lastEventId);
  try {
    const connection = await connectionFor(server, raw);
    const keys = await keysFor(server, op, coerced, connection.socket);
    const resume = resumable ? { ...(await bindingFor(connection, keys.socket, op, coerced)), lastEventId } : undefined;
    // The gateway may have begun to stop while the hook ran (a client that left meanwhile is noticed by its stream).
    server.checkRunning();
    const subscription: AdmittedSubscription = {
      operation: { id: op.id, name: op.name, type: op.type, unshared: isUnshared(op) },
      payload: { query: op.body, variables, operationName: op.name },
      socket: connection.socket,
      keys,
      client,
      expiresAt: connection.expiresAt,
      resume,
    };
    return { subscription, release, full };
  } catch (err) {
    release?.();
    throw err;
  }
}

export async function serveStream(server: StreamServer, c: Ctx, request: OperationRequest, method: 'GET' | 'POST'): Promise<Response> {
  const admitted = await admit(server, c, request, method);
  const { subscription, full } = admitted;
  let { release } = admitted;
  const raw = c.req.raw;
  const { delegate } = server.options;
  if (delegate) {
    // Lingering subscriptions hold their slots where they linger (the delegate's): none to take back here.
    release ??= acquireSlot(server, subscription.client, full);
    const delegated = delegate(subscription, raw, release, c.env ?? {});
    if (delegated) return delegated;
  }
  return openStream(server, subscription, { release, full }, c.env ?? {}, [raw.signal, c.env?.signal]);
}

/** Opens the stream of a subscription admitted elsewhere (`Gateway.serveAdmitted`): it counts in this gateway's limits. */
export function serveAdmitted(server: StreamServer, subscription: AdmittedSubscription, env: RequestContext): Response {
  return openStream(server, subscription, slotFor(server, subscription.client, subscription.resume?.lastEventId), env, [env.signal]);
}

/**
 * Subscribes a new stream to the upstream subscription of an admitted
 * subscription (the open one of its key, or a new one), or resumes it from
 * the event it names, and answers with it. `slot.release` frees its slot in
 * the limits once nothing of the stream is held; without one (the limits
 * were full), a resume takes back the slot its lingering subscription holds,
 * and anything else is refused with `slot.full`. The slot is freed at once if
 * the stream cannot be opened (a 429 from the socket cap).
 */
function openStream(
  server: StreamServer,
  subscription: AdmittedSubscription,
  slot: { release: (() => void) | undefined; full: unknown },
  env: RequestContext,
  signals: readonly (AbortSignal | undefined)[],
): Response {
  const { hubs } = server;
  let release = slot.release;
  let stream: GatewayStream;
  let outcome: 'replayed' | 'gap' | undefined;
  try {
    const { operation, payload, socket } = subscription;
    const keys = server.isolate ? { socket: undefined, subscription: undefined } : subscription.keys;
    const resume = hubs.resume ? subscription.resume : undefined;
    const resumed = resume?.lastEventId === undefined ? undefined : hubs.resumeFrom(resume.lastEventId, resume.binding, keys.subscription);
    if (release === undefined) {
      release = resumed && 'hub' in resumed ? resumed.hub.takeSlot() : undefined;
      // Not its own lingering subscription's slot: the client's own other places may still give way.
      release ??= acquireSlot(server, subscription.client, slot.full);
    }
    let opening: Opening;
    if (resumed && 'hub' in resumed) {
      opening = { kind: 'replay', resumed };
    } else {
      const hub = hubs.acquire(keys.subscription, operation.name, (h) => server.pool.open(keys.socket, socket, payload, h), resume?.binding);
      opening = { kind: resumed ? 'gap' : 'fresh', hub };
    }
    const info: StreamInfo = { id: server.nextStreamId(), operation: operation.name, client: subscription.client, variables: payload.variables };
    if (resumed) {
      info.resume = 'hub' in resumed ? { outcome: 'replayed', events: resumed.frames.length } : { outcome: 'gap', reason: resumed.gap };
      outcome = info.resume.outcome;
    }
    stream = new GatewayStream(server.context, info, release, env.waitUntil ? (promise) => env.waitUntil!(promise) : undefined, subscription.expiresAt);
    stream.begin(opening);
  } catch (err) {
    release?.();
    throw err;
  }
  const headers: Record<string, string> = outcome === undefined ? SSE_HEADERS : { ...SSE_HEADERS, [RESUME_HEADER]: outcome };
  if (env.takeEventStream?.(stream)) return new Response(null, { status: 200, headers });
  return new Response(stream.readable(signals), { status: 200, headers });
}
