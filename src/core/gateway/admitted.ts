/**
 * A subscription the gateway admitted: its operation found, its variables
 * checked and coerced, its limits' slot taken and its `connection_init`
 * payload computed (the `connectionParams` hook ran), with the sharing keys
 * of the gateway's `UPSTREAM_SHARING` mode. Everything a stream needs from
 * here on is in it, as plain JSON: a runtime adapter may serve it in another
 * place than the one that admitted it (a Worker hands it to the Durable
 * Object named by its key, src/worker/), whose gateway then opens its
 * stream with `Gateway.serveAdmitted`.
 *
 * It holds the upstream credentials (the `connection_init` payload): it
 * travels only between the parts of one deployment, never to a client, and
 * names nothing by them (the keys are SHA-256 digests, src/core/hub/key.ts).
 */
import type { OperationType } from '../operations/manifest.ts';
import type { SocketRequest } from '../upstream/pool.ts';
import type { RequestContext } from './options.ts';
import type { OperationPayload } from '../upstream/socket.ts';

export interface AdmittedSubscription {
  /** The registered operation: its id, name and kind, and whether its document opts out of sharing. */
  readonly operation: { readonly id: string; readonly name: string; readonly type: OperationType; readonly unshared: boolean };
  /** What the upstream receives in `subscribe`: the registered text, the variables as sent, the name. */
  readonly payload: OperationPayload;
  /** The upstream connection it asks for: the `connection_init` payload and the upgrade's headers. */
  readonly socket: SocketRequest;
  /**
   * The sharing keys (SHA-256 hex digests): `socket` in the shared modes,
   * `subscription` in `subscription` mode for a subscription; both
   * `undefined` where nothing is shared (mode `off`, an unshared operation).
   */
  readonly keys: { readonly socket: string | undefined; readonly subscription: string | undefined };
  /** The key the per-client limit counted it under (an address, or the `clientKey` hook's value). */
  readonly client: string | undefined;
  /** When the credential the `connectionParams` hook read expires (ms since the epoch), if it said: the stream ends then. */
  readonly expiresAt: number | undefined;
  /**
   * With resume on, for a subscription (docs/resume.md): who may resume its
   * stream (`binding`, a digest of the operation, its coerced variables and
   * the credential's subject or exact connection), the same owner as one
   * digest (`owner`), and the event id the request resumes from, if any.
   */
  readonly resume: { readonly binding: string; readonly owner: string; readonly lastEventId: string | undefined } | undefined;
}

/**
 * Serves an admitted subscription somewhere else (`GatewayOptions.delegate`),
 * or declines with `undefined` (the gateway serves it itself). `done` frees
 * the subscription's slot in the limits: call it exactly once, when the
 * response delegated to has ended (or could not be had). `context` is the
 * request's, as the runtime adapter passed it (`waitUntil`).
 */
export type Delegate = (
  subscription: AdmittedSubscription,
  request: Request,
  done: () => void,
  context: RequestContext,
) => Promise<Response> | undefined;
