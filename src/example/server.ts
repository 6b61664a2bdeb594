/** Starts the example upstream: a real graphql-ws server on `ws`. */
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

export interface UpstreamServer extends AsyncDisposable {
  /** `ws://host:port/graphql` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startGraphqlWsServer(schema: GraphQLSchema, options: { port?: number; host?: string } = {}): Promise<UpstreamServer> {
  const wss = new WebSocketServer({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', path: '/graphql', perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const disposable = useServer({ schema }, wss);
  const { port, address } = wss.address() as AddressInfo;
  const close = async () => {
    await disposable.dispose();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return { url: `ws://${address.includes(':') ? `[${address}]` : address}:${port}/graphql`, port, close, [Symbol.asyncDispose]: close };
}
