/**
 * Assembles a Node gateway from a `ServerConfig`: loads the persisted
 * operations, starts the embedded example upstream when no UPSTREAM_URL is
 * set, and serves. Used by `npm start` and by the end-to-end tests.
 */
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { ConfigError, gatewayOptions, type ServerConfig } from '../core/config.ts';
import { startGraphqlWsServer, type UpstreamServer } from '../example/server.ts';
import { createExampleSchema } from '../example/schema.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import { loadOperations } from './operations/load.ts';
import { createRegistry, type Registry } from '../core/operations/registry.ts';
import { watchOperations } from './operations/reload.ts';
import { devCertificate, type DevCertificate } from './dev-cert.ts';
import { createStaticHandler, withStatic } from './static.ts';

/** Where `npm run build:demo` writes the demo page (git-ignored). */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/dist/', import.meta.url));
import { combineInstrumentation } from '../core/observability/instrumentation.ts';
import { createJsonLog } from '../core/observability/log.ts';
import { redactor } from '../core/redact.ts';
import { logLine } from './log-line.ts';
import { createPrometheusMetrics } from './prometheus.ts';
import { createNodeWebSocket, serveNode, type NodeServer } from './serve.ts';

export interface RunningServer extends AsyncDisposable {
  readonly url: string;
  readonly gateway: Gateway;
  /** The registry served now (replaced when the generated files change). */
  readonly registry: Registry;
  readonly node: NodeServer;
  /** The embedded example upstream, when no UPSTREAM_URL was configured. */
  readonly example: UpstreamServer | undefined;
  /** The development certificate, when TLS is self-signed (the embedded example's default, or `TLS=self-signed`). */
  readonly devCert: DevCertificate | undefined;
  /** Whether the demo page is served at `/` (embedded example only, once `npm run build:demo` has run). */
  readonly demo: boolean;
  close(): Promise<void>;
}

async function readPem(name: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export interface StartOptions {
  /** Called after the operations were reloaded from disk (or failed to). @default logs to the console */
  onReload?: (result: { registry: Registry } | { error: unknown }) => void;
  /** Where the development certificate is kept. @default ".dev-certs" */
  devCertDir?: string;
  /** Where the built demo page is. @default DEMO_DIR */
  demoDir?: string;
  /** Where JSON log lines go. @default a line on stdout */
  log?: (line: string) => void;
  /** Where error lines go (one JSON line each, the upstream URL's credentials redacted). @default a line on stderr */
  logError?: (line: string) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  let registry = createRegistry(await loadOperations(config.persistedOperations));
  // Browsers speak HTTP/2 only over TLS: the embedded example (a developer's
  // first run) gets a self-signed certificate unless told otherwise.
  const selfSigned = config.tls === 'self-signed' || (config.tls === undefined && !config.upstreamUrl && !config.tlsCert);
  const devCert = selfSigned ? await devCertificate(options.devCertDir) : undefined;
  const tls = config.tlsCert && config.tlsKey
    ? { cert: await readPem('TLS_CERT', config.tlsCert), key: await readPem('TLS_KEY', config.tlsKey) }
    : devCert;
  const demoDir = options.demoDir ?? DEMO_DIR;
  const demo = !config.upstreamUrl && (await exists(`${demoDir}/index.html`));
  const example = config.upstreamUrl ? undefined : await startGraphqlWsServer(createExampleSchema());
  try {
    const metrics = createPrometheusMetrics();
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const writeError = options.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
    const redact = redactor(config.upstreamUrl);
    const logError = (what: string, err: unknown) => writeError(logLine('error', what, err, redact));
    const settings = gatewayOptions(config, {
      url: config.upstreamUrl ?? example!.url,
      webSocketImpl: createNodeWebSocket({ maxPayload: config.upstreamMaxMessageBytes }),
      webSocketWithHeaders: (headers) => createNodeWebSocket({ maxPayload: config.upstreamMaxMessageBytes, headers }),
    });
    const gateway = createGateway({
      registry,
      ...settings,
      upstream: { ...settings.upstream, onInternalError: (err) => logError('upstream client error', err) },
      onInternalError: (err) => logError('internal error', err),
      // The queue budget's default share is of this process's heap (`--max-old-space-size` sets it).
      heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
      instrumentation: combineInstrumentation(
        metrics.instrumentation,
        config.logStreams ? createJsonLog({ write: log, logVariables: config.logVariables }) : undefined,
      ),
      metrics: metrics.render,
    });
    const served = demo ? withStatic(gateway, createStaticHandler(demoDir)) : gateway;
    const node = await serveNode(served, {
      port: config.port,
      host: config.host,
      tls: tls && { cert: tls.cert, key: tls.key },
      shutdownGraceMs: config.shutdownGraceMs,
      idleTimeoutMs: config.idleTimeoutMs,
      requestBodyTimeoutMs: config.requestBodyTimeoutMs,
      http2MaxConcurrentStreams: config.http2MaxConcurrentStreams,
      onError: logError,
    });
    const onReload = options.onReload ?? ((result) => {
      if ('error' in result) console.error(`subway: kept the previous operations: ${(result.error as Error).message ?? result.error}`);
      else console.log(`subway: reloaded ${result.registry.operations.length} persisted operations from ${config.persistedOperations}`);
    });
    // `npm run register` (or its --watch mode) rewrites the files: serve them without a restart.
    const watcher = watchOperations(config.persistedOperations, {
      onReload(next) {
        registry = next;
        gateway.setRegistry(next);
        onReload({ registry: next });
      },
      onError: (error) => onReload({ error }),
    });
    const close = async () => {
      watcher.close();
      await node.close();
      await example?.close();
    };
    return {
      url: node.url,
      gateway,
      get registry() {
        return registry;
      },
      node,
      example,
      devCert,
      demo,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await example?.close();
    throw err;
  }
}
