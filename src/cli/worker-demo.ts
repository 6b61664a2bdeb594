/**
 * `subway worker dev` with the embedded example and the demo page: a small
 * HTTP/1.1 front on PORT/HOST that forwards every request to wrangler's dev
 * server (on a loopback port of its own) and answers the demo's "Cut network"
 * route itself (`DEMO_CUT_PATH`), as the Node server does: it resets the TCP
 * connections of the address that asked, as a dropped network would, and
 * EventSource reconnects. A Worker cannot reset its client's connection, so
 * the front does; nothing of it runs on Cloudflare.
 *
 * By hand rather than a proxy library: a dozen lines of node:http, and no
 * dependency for a development-only route.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEMO_CUT_PATH } from '../node/server.ts';

export interface DemoFront {
  close(): Promise<void>;
}

/** A free loopback port for wrangler to listen on behind the front. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function startDemoFront(host: string, port: number, targetPort: number): Promise<DemoFront> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === DEMO_CUT_PATH) {
      // No answer: the connection this request came on is one of those reset.
      const address = req.socket.remoteAddress;
      for (const socket of sockets) if (socket.remoteAddress === address) socket.resetAndDestroy();
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    // A client that leaves (or is cut) ends its request to wrangler too, so the Worker sees it go.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
