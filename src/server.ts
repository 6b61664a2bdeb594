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
import { watchOperations } from './operations/reload.ts';
import { NodeWebSocket, serveNode, type NodeServer } from './runtime/node.ts';

export interface RunningServer extends AsyncDisposable {
  readonly url: string;
  readonly gateway: Gateway;
  /** The registry served now (replaced when the generated files change). */
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
  /** Called after the operations were reloaded from disk (or failed to). @default logs to the console */
  onReload?: (result: { registry: Registry } | { error: unknown }) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  let registry = createRegistry(await loadOperations(config.persistedOperations));
  const tls = config.tlsCert && config.tlsKey
    ? { cert: await readPem('TLS_CERT', config.tlsCert), key: await readPem('TLS_KEY', config.tlsKey) }
    : undefined;
  const example = config.upstreamUrl ? undefined : await startGraphqlWsServer(createExampleSchema());
  try {
    const gateway = createGateway({
      registry,
      upstream: { url: config.upstreamUrl ?? example!.url, webSocketImpl: NodeWebSocket },
      heartbeatMs: config.heartbeatMs,
      maxQueryStringBytes: config.maxQueryStringBytes,
      listOperations: config.listOperations,
    });
    const node = await serveNode(gateway, { port: config.port, host: config.host, tls });
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
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await example?.close();
    throw err;
  }
}
