/**
 * The Cloudflare Workers adapter: a module Worker's `fetch` over the same
 * gateway core as Node.
 *
 * - The operations are bundled at build time (a Worker has no filesystem and
 *   never introspects). Their registry is built when the module loads, so
 *   the work happens during the isolate's start-up (which Cloudflare runs
 *   ahead of the first request where it can) and a bad bundle fails the
 *   deploy instead of a request.
 * - The gateway is built once per isolate, on the first request, from the
 *   Worker's environment (`UPSTREAM_URL`, `HEARTBEAT_MS`, `RETRY_MS`).
 * - Each request opens its own graphql-ws client on workerd's WebSocket,
 *   inside that request (a Worker may not use another request's I/O objects),
 *   and disposes it when the stream ends.
 */
import { ConfigError, readConfig } from '../config.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { checkCompanion, checkManifest } from '../operations/manifest.ts';
import { createRegistry, type Registry } from '../operations/registry.ts';

/** The Worker's environment: `[vars]` in wrangler.toml, `--var`, or the dashboard. Values are strings. */
export interface WorkerEnv {
  /** The upstream graphql-ws endpoint, `ws://` or `wss://`. Required. */
  UPSTREAM_URL?: string;
  /** Milliseconds between SSE heartbeat comments; 0 disables them. @default "15000" */
  HEARTBEAT_MS?: string;
  /** Milliseconds of the first `retry:` hint after an upstream failure. @default "2000" */
  RETRY_MS?: string;
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

  const build = (env: WorkerEnv): Gateway => {
    const config = readConfig({ UPSTREAM_URL: env.UPSTREAM_URL, HEARTBEAT_MS: env.HEARTBEAT_MS, RETRY_MS: env.RETRY_MS });
    if (!config.upstreamUrl) throw new ConfigError('UPSTREAM_URL is not set: set it in wrangler.toml [vars], with --var, or in the dashboard.');
    return createGateway({
      registry,
      upstream: { url: config.upstreamUrl, webSocketImpl: options.webSocketImpl ?? globalThis.WebSocket },
      heartbeatMs: config.heartbeatMs,
      retryMs: config.retryMs,
    });
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
