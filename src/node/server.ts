/**
 * Assembles a Node gateway from a `ServerConfig`: loads the persisted
 * operations from every source of PERSISTED_OPERATIONS (folders, bundle
 * URLs), starts the embedded example upstream when no UPSTREAM_URL is set,
 * and serves. Used by `npm start` and by the end-to-end tests.
 */
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { ConfigError, gatewayOptions, type ServerConfig } from '../core/config.ts';
import { startGraphqlWsServer, type UpstreamServer } from '../example/server.ts';
import { createExampleSchema } from '../example/schema.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import type { Registry } from '../core/operations/registry.ts';
import { startOperationSources, type NodeSources } from './operations/sources.ts';
import { devCertificate, type DevCertificate } from './dev-cert.ts';
import { createStaticHandler, withStatic } from './static.ts';

/** Where `npm run build:demo` writes the demo page (git-ignored). */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/dist/', import.meta.url));
/** The demo page's "cut network" route (`POST`): the page's connections are reset, as a dropped network would. */
export const DEMO_CUT_PATH = '/demo/cut-network';
import { combineInstrumentation } from '../core/observability/instrumentation.ts';
import { createJsonLog } from '../core/observability/log.ts';
import { redactor } from '../core/redact.ts';
import { logLine } from './log-line.ts';
import { createPrometheusMetrics } from './prometheus.ts';
import { createNodeWebSocket, serveNode, withUpgradeHeaders, type NodeServer } from './serve.ts';

export interface RunningServer extends AsyncDisposable {
  readonly url: string;
  readonly gateway: Gateway;
  /** The registry served now (replaced when a source changes). */
  readonly registry: Registry;
  /** The operation sources: their status, and `refresh()` to poll them now. */
  readonly sources: NodeSources;
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

/**
 * The frame limit `ws` enforces on each upstream socket. With a socket per
 * subscription it is the message limit itself (a larger frame is refused as it
 * arrives, before it is buffered). A shared socket carries other
 * subscriptions too, which a refused frame would take down with it: there the
 * gateway reads a message up to twice the limit and ends only the
 * subscription it belongs to (docs/sharing.md); a frame larger than that
 * still closes the socket.
 */
export function socketFrameLimit(config: Pick<ServerConfig, 'upstreamSharing' | 'upstreamMaxMessageBytes'>): number {
  return config.upstreamSharing === 'off' ? config.upstreamMaxMessageBytes : 2 * config.upstreamMaxMessageBytes;
}

export interface StartOptions {
  /** Called after a source's operations were reloaded (or failed to); the log line is written either way. @default none */
  onReload?: (result: { registry: Registry } | { error: unknown }) => void;
  /** The fetch URL sources use. @default globalThis.fetch */
  fetch?: typeof fetch;
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
  const metrics = createPrometheusMetrics();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const instrumentation = combineInstrumentation(
    metrics.instrumentation,
    createJsonLog({ write: log, logStreams: config.logStreams, logVariables: config.logVariables }),
  );
  let gateway: Gateway | undefined;
  let registry: Registry | undefined;
  const sources = await startOperationSources(config, {
    fetch: options.fetch,
    onSwap(next) {
      registry = next;
      gateway?.setRegistry(next);
    },
    onEvent(event) {
      // The start-up lines say what was loaded at start: the log has its failures, and every reload.
      if (gateway || event.outcome === 'failed') instrumentation.onOperationSource?.(event);
      else metrics.instrumentation.onOperationSource?.(event);
      if (!gateway) return;
      if (event.outcome === 'loaded') options.onReload?.({ registry: registry! });
      if (event.outcome === 'failed') options.onReload?.({ error: new Error(event.error) });
    },
  });
  let example: UpstreamServer | undefined;
  try {
    const writeError = options.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
    const redact = redactor(config.upstreamUrl);
    const logError = (what: string, err: unknown) => writeError(logLine('error', what, err, redact));
    // Browsers speak HTTP/2 only over TLS: the embedded example (a developer's
    // first run) gets a self-signed certificate unless told otherwise.
    const selfSigned = config.tls === 'self-signed' || (config.tls === undefined && !config.upstreamUrl && !config.tlsCert);
    const devCert = selfSigned ? await devCertificate(options.devCertDir) : undefined;
    const tls = config.tlsCert && config.tlsKey
      ? { cert: await readPem('TLS_CERT', config.tlsCert), key: await readPem('TLS_KEY', config.tlsKey) }
      : devCert;
    const demoDir = options.demoDir ?? DEMO_DIR;
    const demo = !config.upstreamUrl && (await exists(`${demoDir}/index.html`));
    example = config.upstreamUrl ? undefined : await startGraphqlWsServer(createExampleSchema());
    const maxPayload = socketFrameLimit(config);
    // One socket class; a socket that forwards headers gets them through a plain function, not a class of its own.
    const upstreamSocket = createNodeWebSocket({ maxPayload });
    const settings = gatewayOptions(config, {
      url: config.upstreamUrl ?? example!.url,
      webSocketImpl: upstreamSocket,
      webSocketWithHeaders: (headers) => withUpgradeHeaders(upstreamSocket, headers),
    });
    gateway = createGateway({
      registry: sources.registry,
      ...settings,
      upstream: { ...settings.upstream, onInternalError: (err) => logError('upstream client error', err) },
      onInternalError: (err) => logError('internal error', err),
      // The queue budget's default share is of this process's heap (`--max-old-space-size` sets it).
      heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
      instrumentation,
      metrics: metrics.render,
    });
    const running = gateway;
    metrics.observe(() => running.sharingStats());
    metrics.observeResume(() => running.resumeStats());
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
      // The demo page's "cut network" button: only with the embedded example serving the demo, never with an UPSTREAM_URL.
      demoCutPath: demo ? DEMO_CUT_PATH : undefined,
    });
    const close = async () => {
      sources.close();
      await node.close();
      await example?.close();
    };
    return {
      url: node.url,
      gateway,
      get registry() {
        return sources.registry;
      },
      sources,
      node,
      example,
      devCert,
      demo,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    sources.close();
    await example?.close();
    throw err;
  }
}
