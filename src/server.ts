/**
 * Assembles a Node gateway from a `ServerConfig`: loads the persisted
 * operations, starts the embedded example upstream when no UPSTREAM_URL is
 * set, and serves. Used by `npm start` and by the end-to-end tests.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, type ServerConfig } from './config.ts';
import { startGraphqlWsServer, type UpstreamServer } from './example/server.ts';
import { createExampleSchema } from './example/schema.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { loadOperations } from './operations/load.ts';
import { createRegistry, type Registry } from './operations/registry.ts';
import { combineInstrumentation } from './observability/instrumentation.ts';
import { createJsonLog } from './observability/log.ts';
import { createPrometheusMetrics } from './observability/prometheus.ts';
import { NodeWebSocket, nodeWebSocketWithHeaders, serveNode, type NodeServer } from './runtime/node.ts';

export interface RunningServer extends AsyncDisposable {
  readonly url: string;
  readonly gateway: Gateway;
  readonly registry: Registry;
  readonly node: NodeServer;
  /** The embedded example upstream, when no UPSTREAM_URL was configured. */
  readonly example: UpstreamServer | undefined;
  close(): Promise<void>;
}

async function readPem(name: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

export interface StartOptions {
  /** Where JSON log lines go. @default a line on stdout */
  log?: (line: string) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const registry = createRegistry(await loadOperations(config.persistedOperations));
  const tls = config.tlsCert && config.tlsKey
    ? { cert: await readPem('TLS_CERT', config.tlsCert), key: await readPem('TLS_KEY', config.tlsKey) }
    : undefined;
  const example = config.upstreamUrl ? undefined : await startGraphqlWsServer(createExampleSchema());
  try {
    const metrics = createPrometheusMetrics();
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const gateway = createGateway({
      registry,
      upstream: { url: config.upstreamUrl ?? example!.url, webSocketImpl: NodeWebSocket, webSocketWithHeaders: nodeWebSocketWithHeaders },
      heartbeatMs: config.heartbeatMs,
      forwardHeaders: config.forwardHeaders,
      cors: { origins: config.corsOrigins },
      maxSubscriptions: config.maxSubscriptions,
      maxSubscriptionsPerClient: config.maxSubscriptionsPerClient,
      trustProxyHeader: config.trustProxyHeader,
      maxQueryStringBytes: config.maxQueryStringBytes,
      maxVariablesBytes: config.maxVariablesBytes,
      maxQueuedEvents: config.maxQueuedEvents,
      maxQueuedBytes: config.maxQueuedBytes,
      instrumentation: combineInstrumentation(
        metrics.instrumentation,
        config.logStreams ? createJsonLog({ write: log, logVariables: config.logVariables }) : undefined,
      ),
      metrics: metrics.render,
    });
    const node = await serveNode(gateway, { port: config.port, host: config.host, tls, shutdownGraceMs: config.shutdownGraceMs });
    const close = async () => {
      await node.close();
      await example?.close();
    };
    return { url: node.url, gateway, registry, node, example, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await example?.close();
    throw err;
  }
}
