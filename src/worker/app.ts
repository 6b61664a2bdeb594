/**
 * The Cloudflare Workers adapter: a module Worker's `fetch` over the same
 * gateway core as Node.
 *
 * - The operations are bundled at build time (a Worker has no filesystem and
 *   never introspects). Their registry is built when the module loads, so
 *   the work happens during the isolate's start-up (which Cloudflare runs
 *   ahead of the first request where it can) and a bad bundle fails the
 *   deploy instead of a request.
 * - Sources named by `PERSISTED_OPERATIONS` at run time (bundle URLs, KV
 *   namespaces; see sources.ts) replace or join the bundled list: a request
 *   that finds the isolate's list older than `PERSISTED_OPERATIONS_POLL_MS`
 *   refreshes it first (bounded by `PERSISTED_OPERATIONS_TIMEOUT_MS`).
 * - The gateway is built once per isolate, on the first request, from the
 *   Worker's vars: every setting of the gateway itself (`WORKER_SETTINGS` in
 *   src/core/config.ts: the upstream, its protocol, timeouts and size limit, the
 *   heartbeat, the retry hint, the query-string limit, `/operations`), read by
 *   the same code that reads Node's environment.
 * - Each request opens its own graphql-ws client on workerd's WebSocket,
 *   inside that request (a Worker may not use another request's I/O objects),
 *   and disposes it when the stream ends.
 * - With `UPSTREAM_SHARING` or `RESUME_WINDOW_MS` on, subscriptions go to the
 *   Durable Object of their key (`SubwayHub`, bound as `SUBWAY_HUB`): see
 *   delegate.ts and hub-object.ts. Without the binding the Worker says what
 *   to add to wrangler.toml (500, and the log) instead of serving unshared.
 */
import { ConfigError, gatewayOptions, readGatewayConfig } from '../core/config.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { checkCompanion, checkManifest } from '../core/operations/manifest.ts';
import type { LiveOperations } from '../core/operations/live.ts';
import { createRegistry, type Registry } from '../core/operations/registry.ts';
import { workerObjects } from './objects.ts';
import { workerSettings, type WorkerEnv } from './settings.ts';
import { createWorkerSources } from './sources.ts';

export { workerSettings, type WorkerEnv, type WorkerVar } from './settings.ts';

/** The part of workerd's `ExecutionContext` the adapter uses. */
export interface WorkerContext {
  /** Keeps the request's I/O alive after its response ended, until the promise settles. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface WorkerHandler {
  fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response>;
  /** The allow-list, built when the module loaded. */
  readonly registry: Registry;
}

/** The operations a Worker serves: the two files `npm run register` writes, imported at build time. */
export interface BundledOperations {
  /** The parsed `persisted-query-manifest.json`. */
  manifest: unknown;
  /** The parsed `subway.json`. */
  companion: unknown;
}

export interface WorkerHandlerOptions {
  /**
   * The WebSocket constructor for upstream connections.
   * @default the platform's `WebSocket` (workerd's supports the subprotocol graphql-ws needs)
   */
  webSocketImpl?: unknown;
}

/** The operator's mistake, not the client's: the log says what to fix, the body stays generic. */
function misconfigured(err: unknown): Response {
  console.error(`[subway] ${(err as Error).message}`);
  return Response.json(
    { errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' } },
  );
}

export function createWorkerHandler(operations: BundledOperations, options: WorkerHandlerOptions = {}): WorkerHandler {
  const registry = createRegistry(
    { manifest: checkManifest(operations.manifest), companion: checkCompanion(operations.companion) },
    // Validated by `npm run register` and again by the build (src/cli/worker.ts loads the folder first).
    { assumeValidInputSchema: true },
  );
  let gateway: Gateway | undefined;
  let sources: LiveOperations | undefined;

  const build = (env: WorkerEnv): Gateway => {
    const config = readGatewayConfig(workerSettings(env));
    if (!config.upstreamUrl) throw new ConfigError('UPSTREAM_URL is not set: set it in wrangler.toml [vars], with --var, or in the dashboard.');
    // workerd's WebSocket has no frame-level size limit to hand UPSTREAM_MAX_MESSAGE_BYTES to (Node's `ws`
    // has `maxPayload`): the upstream side checks each message's size on arrival instead.
    const built = createGateway({
      registry,
      ...gatewayOptions(config, { url: config.upstreamUrl, webSocketImpl: options.webSocketImpl ?? globalThis.WebSocket }),
      // A Worker request may not touch another request's I/O: nothing is shared between requests here;
      // what may be shared goes to a Durable Object (`delegate`).
      isolateRequests: true,
      // A stream the Worker writes itself spends the request's CPU event by event (Free: 10 ms in all):
      // it ends with a short `retry:` before that runs out (docs/workers.md, "CPU per event").
      maxStreamEvents: config.streamMaxEvents ?? DEFAULTS.workerMaxStreamEvents,
      ...workerObjects(config, env),
    });
    sources = createWorkerSources(config, env, registry, (next) => built.setRegistry(next));
    return built;
  };

  return {
    registry,
    async fetch(request, env, ctx) {
      if (!gateway) {
        try {
          gateway = build(env);
        } catch (err) {
          if (err instanceof ConfigError) return misconfigured(err);
          throw err;
        }
      }
      // A list older than the poll interval is refreshed before this request is served (bounded).
      const refreshing = sources?.ensureFresh();
      if (refreshing) await refreshing;
      return gateway.fetch(request, {
        waitUntil(promise) {
          try {
            ctx.waitUntil(promise);
          } catch (err) {
            // The request's context already ended: the socket closes without waiting.
            console.error('[subway] waitUntil refused', err);
          }
        },
      });
    },
  };
}
