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
 */
import { ConfigError, gatewayOptions, readGatewayConfig, WORKER_SETTINGS } from '../core/config.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import { checkCompanion, checkManifest } from '../core/operations/manifest.ts';
import type { LiveOperations } from '../core/operations/live.ts';
import { createRegistry, type Registry } from '../core/operations/registry.ts';
import { createWorkerSources } from './sources.ts';

/** A var as wrangler.toml wrote it: quoted, or an unquoted number or boolean. */
export type WorkerVar = string | number | boolean;

/**
 * The Worker's environment: `[vars]` in wrangler.toml, `--var`, or the
 * dashboard. The settings are named and parsed as on Node (see
 * `SETTINGS` in src/core/config.ts for each one's unit and default); other
 * bindings are ignored.
 */
export interface WorkerEnv {
  /** The upstream endpoint, `ws://` or `wss://`. Required. */
  UPSTREAM_URL?: WorkerVar;
  /** `auto`, `graphql-transport-ws` or `subscriptions-transport-ws`. @default "auto" */
  UPSTREAM_PROTOCOL?: WorkerVar;
  /** Milliseconds the upstream WebSocket upgrade may take. @default "10000" */
  UPSTREAM_CONNECT_TIMEOUT_MS?: WorkerVar;
  /** Milliseconds the upstream may take to send `connection_ack`. @default "10000" */
  UPSTREAM_ACK_TIMEOUT_MS?: WorkerVar;
  /** Milliseconds between graphql-transport-ws pings; 0 disables them. @default "12000" */
  UPSTREAM_KEEPALIVE_MS?: WorkerVar;
  /** Milliseconds a pong may take; 0 disables the check. @default "5000" */
  UPSTREAM_PONG_TIMEOUT_MS?: WorkerVar;
  /** Largest upstream message accepted, in bytes. @default "16777216" */
  UPSTREAM_MAX_MESSAGE_BYTES?: WorkerVar;
  /** Milliseconds between SSE heartbeat comments; 0 disables them. @default "15000" */
  HEARTBEAT_MS?: WorkerVar;
  /** Milliseconds of the first `retry:` hint after an upstream failure. @default "2000" */
  RETRY_MS?: WorkerVar;
  /** Longest query string served on GET, in bytes. @default "8192" */
  MAX_QUERY_STRING_BYTES?: WorkerVar;
  /** `on` or `off`: serve `GET /operations`. @default "on" */
  OPERATIONS_LIST?: WorkerVar;
  [binding: string]: unknown;
}

/**
 * The gateway's settings among a Worker's bindings, as the text Node would
 * read. A var written unquoted in wrangler.toml (`HEARTBEAT_MS = 0`,
 * `OPERATIONS_LIST = false`) arrives as a number or a boolean: it reads as
 * its text.
 */
export function workerSettings(env: WorkerEnv): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {};
  for (const name of WORKER_SETTINGS) {
    const value = env[name];
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') picked[name] = String(value);
    else throw new ConfigError(`${name} must be a text var, got ${value === null ? 'null' : typeof value}.`);
  }
  return picked;
}

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

/**
 * A Worker may not use a socket another request opened, so sharing the
 * upstream side needs a place that outlives requests (a Durable Object, not
 * built yet): a Worker serves `UPSTREAM_SHARING=off`, and says so in its log
 * when it was asked for more, rather than ignoring the setting silently.
 */
export function workerSharing<C extends { upstreamSharing: string }>(config: C, log: (line: string) => void = console.warn): C {
  if (config.upstreamSharing === 'off') return config;
  log(
    `[subway] UPSTREAM_SHARING=${config.upstreamSharing} is not available on Workers yet (it needs a Durable Object): ` +
      'each request opens its own upstream socket, as with UPSTREAM_SHARING=off.',
  );
  return { ...config, upstreamSharing: 'off' };
}

/**
 * Resuming a dropped stream needs its upstream subscription to outlive the
 * request that opened it, which on Workers needs a Durable Object (not built
 * yet): a Worker serves `RESUME_WINDOW_MS=0`, and says so in its log when it
 * was asked for more, rather than ignoring the setting silently.
 */
export function workerResume<C extends { resumeWindowMs: number }>(config: C, log: (line: string) => void = console.warn): C {
  if (config.resumeWindowMs === 0) return config;
  log(
    `[subway] RESUME_WINDOW_MS=${config.resumeWindowMs} is not available on Workers yet (it needs a Durable Object): ` +
      'streams carry no event ids and a reconnect starts a fresh subscription, as with RESUME_WINDOW_MS=0.',
  );
  return { ...config, resumeWindowMs: 0 };
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
      ...gatewayOptions(workerResume(workerSharing(config)), { url: config.upstreamUrl, webSocketImpl: options.webSocketImpl ?? globalThis.WebSocket }),
      // A Worker request may not touch another request's I/O: nothing is shared between requests.
      isolateRequests: true,
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
