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
import { createNodeWebSocket, serveNode, type NodeServer } from './runtime/node.ts';

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

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const registry = createRegistry(await loadOperations(config.persistedOperations));
  const tls = config.tlsCert && config.tlsKey
    ? { cert: await readPem('TLS_CERT', config.tlsCert), key: await readPem('TLS_KEY', config.tlsKey) }
    : undefined;
  const example = config.upstreamUrl ? undefined : await startGraphqlWsServer(createExampleSchema());
  try {
    const gateway = createGateway({
      registry,
      upstream: {
        url: config.upstreamUrl ?? example!.url,
        webSocketImpl: createNodeWebSocket({ maxPayload: config.upstreamMaxMessageBytes }),
        protocol: config.upstreamProtocol,
        connectTimeoutMs: config.upstreamConnectTimeoutMs,
        connectionAckWaitTimeoutMs: config.upstreamAckTimeoutMs,
        keepAliveMs: config.upstreamKeepAliveMs,
        pongTimeoutMs: config.upstreamPongTimeoutMs,
        maxMessageBytes: config.upstreamMaxMessageBytes,
      },
      heartbeatMs: config.heartbeatMs,
    });
    const node = await serveNode(gateway, { port: config.port, host: config.host, tls });
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
