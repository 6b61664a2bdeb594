/**
 * The Worker's side of sharing: which admitted subscriptions go to a
 * Durable Object, which object, and how its stream reaches the client.
 *
 * - A subscription with a `subscription` key (`UPSTREAM_SHARING=subscription`)
 *   goes to the object named by that key: one object, one upstream socket and
 *   one upstream subscription for every identical subscription.
 * - A subscription with only a `socket` key (`UPSTREAM_SHARING=connection`)
 *   goes to the object of its `connection_init` payload, whose sockets carry
 *   every subscription of that payload (up to
 *   `UPSTREAM_MAX_SUBSCRIPTIONS_PER_SOCKET` each).
 * - With `RESUME_WINDOW_MS` on, every subscription goes to an object, where
 *   it lingers for its client to come back: the object of its resume
 *   binding (owner, operation, coerced variables), or in `connection` mode
 *   its owner's. The owner is the credential's subject when the
 *   `connectionParams` hook declared one (a rotated credential reaches the
 *   same object), else the exact connection (src/core/gateway/serve.ts).
 * - Everything else (queries and mutations, which answer once; operations
 *   marked unshared; mode `off`, without resume) is served in the Worker's
 *   own request, as without objects.
 *
 * Objects are named by a digest (src/core/hub/key.ts), never by a credential.
 * The hand-off is a `fetch` to the object's stub whose JSON body is the
 * admitted subscription (with its `connection_init` payload: the object opens
 * the upstream socket); the object's response body is the client's event
 * stream, piped through without being read here (no JavaScript runs in the
 * Worker per event). The limits' slot the Worker took is freed when that pipe
 * ends.
 */
import type { AdmittedSubscription, Delegate, RequestContext } from '../core/gateway.ts';
import { retryFrameText } from '../core/sse/encode.ts';
import { SSE_HEADERS } from '../core/gateway/serve.ts';
import { hubStub, type HubNamespace } from './binding.ts';
import { SUBSCRIBE_PATH } from './hub-object.ts';

/** The name of the object that serves `subscription`, or `undefined` for one the Worker serves itself. */
export function objectName(subscription: AdmittedSubscription): string | undefined {
  if (subscription.operation.type !== 'subscription') return undefined;
  const { resume, keys } = subscription;
  if (resume) {
    // A resume must reach the object its stream lingers in: one named by who owns the stream, never by a
    // credential's text. `connection` mode: the owner's object (its sockets multiplex); otherwise the object of
    // the resume binding (owner, operation, coerced variables), which shares in `subscription` mode and holds a
    // subscription per stream in `off` mode or for an unshared operation.
    return keys.socket !== undefined && keys.subscription === undefined ? `connection/${resume.owner}` : `resume/${resume.binding}`;
  }
  if (keys.subscription !== undefined) return `subscription/${keys.subscription}`;
  if (subscription.keys.socket !== undefined) return `connection/${subscription.keys.socket}`;
  return undefined;
}

export interface DelegateOptions {
  /** The first `retry:` hint, in milliseconds, when an object cannot be reached (±20 % jitter). */
  readonly retryMs: number;
  /** Source of randomness for the jitter. @default Math.random */
  readonly random?: () => number;
}

/** workerd's identity stream (bytes through, no JavaScript per chunk) where there is one. */
type StreamPair = { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
const IdentityStream = (globalThis as { IdentityTransformStream?: new () => StreamPair }).IdentityTransformStream;
const pipePair = (): StreamPair => (IdentityStream ? new IdentityStream() : new TransformStream<Uint8Array, Uint8Array>());

export function createDelegate(namespace: HubNamespace, options: DelegateOptions): Delegate {
  const random = options.random ?? Math.random;
  return (subscription, request, done, context) => {
    const name = objectName(subscription);
    if (name === undefined) return undefined;
    return handOff(hubStub(namespace, name), subscription, request, done, context, () => options.retryMs * (0.8 + 0.4 * random()));
  };
}

async function handOff(
  stub: { fetch(request: Request): Promise<Response> },
  subscription: AdmittedSubscription,
  request: Request,
  done: () => void,
  context: RequestContext,
  retryMs: () => number,
): Promise<Response> {
  let response: Response;
  try {
    response = await stub.fetch(
      new Request(`https://subway-hub${SUBSCRIBE_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(subscription),
        signal: request.signal,
      }),
    );
  } catch (err) {
    // The object could not be reached (overloaded, restarting): the client retries, as after an upstream failure.
    done();
    console.error('[subway] the Durable Object did not answer', err);
    return new Response(`:\n\n${retryFrameText('gateway object unavailable', retryMs())}`, { status: 200, headers: SSE_HEADERS });
  }
  // A stub's response headers are immutable; the routes add CORS headers to what is returned.
  const headers = new Headers(response.headers);
  if (response.status !== 200 || !response.body) {
    done();
    return new Response(response.body, { status: response.status, headers });
  }
  const { readable, writable } = pipePair();
  const piped = response.body.pipeTo(writable).then(
    () => undefined,
    () => undefined,
  );
  const ended = piped.finally(done);
  context.waitUntil?.(ended);
  return new Response(readable, { status: 200, headers });
}
