/**
 * The gateway inside someone else's server, as docs/node.md and
 * docs/architecture.md show it: its request listener on an HTTP/2 server that
 * also serves other routes, and `createGateway` mounted under a path of a Hono
 * app. Real upstream, real sockets; the client going away still ends the
 * upstream subscription.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createGateway, createRegistry } from '../../src/core/index.ts';
import { createNodeListener, loadOperations, NodeWebSocket } from '../../src/node/index.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { connectHttp2, openSseHttp2, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream } from '../fixtures/upstream.ts';

async function embeddedGateway(upstreamUrl: string) {
  const gateway = createGateway({
    registry: createRegistry(await loadOperations(await registeredFolder())),
    upstream: { url: upstreamUrl, webSocketImpl: NodeWebSocket },
    heartbeatMs: 0,
  });
  onTeardown(() => gateway.dispose());
  return gateway;
}

describe('embedding the gateway', () => {
  it("createNodeListener: an HTTP/2 server of one's own serves /graphql through it and its other routes itself", async () => {
    const upstream = await startUpstream();
    const gateway = await embeddedGateway(upstream.url);
    const subway = createNodeListener(gateway);
    const { cert, key } = await testCertificate();
    const server = http2.createSecureServer({ cert, key, allowHTTP1: true }, (req, res) => {
      if (req.url.startsWith('/graphql')) return subway(req, res);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('the rest of my app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTeardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const session = connectHttp2(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);

    const other = session.request({ ':path': '/' });
    other.setEncoding('utf8');
    let body = '';
    other.on('data', (chunk: string) => (body += chunk));
    await new Promise((resolve) => other.once('end', resolve));
    expect(body).toBe('the rest of my app');

    const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'EMB' } })}`);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('EMB') === 1, 'the upstream subscription');
    upstream.publish('EMB', { symbol: 'EMB', price: 1 });
    await sse.until((raw) => raw.includes('"price":1'));
    expect(sse.raw).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"EMB","price":1}}}\n\n');
    // A reset stream (a closed EventSource) ends the upstream subscription, on a server the gateway does not own.
    sse.abort();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe', 'complete']);
  });

  it("createGateway mounted in a Hono app: the gateway's routes under the app's prefix, the app's own beside them", async () => {
    const upstream = await startUpstream();
    const gateway = await embeddedGateway(upstream.url);
    const app = new Hono();
    app.get('/', (c) => c.text('my app'));
    app.mount('/live', (request) => gateway.fetch(request));

    expect(await (await app.request('/')).text()).toBe('my app');
    const listed = (await (await app.request('/live/operations')).json()) as { operations: { name: string }[] };
    expect(listed.operations.map((o) => o.name)).toEqual(['Bump', 'Failing', 'Greetings', 'Hello', 'Orders', 'Ticks']);
    const controller = new AbortController();
    const response = await app.request(`/live/graphql${query({ id: 'Ticks', variables: { symbol: 'HONO' } })}`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await upstream.until(() => upstream.listeners('HONO') === 1, 'the upstream subscription');
    upstream.publish('HONO', { symbol: 'HONO', price: 2 });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    while (!raw.includes('"price":2')) raw += decoder.decode((await reader.read()).value, { stream: true });
    expect(raw).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"HONO","price":2}}}\n\n');
    await reader.cancel();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    const notFound = await app.request('/live/graphql?id=Nope', { headers: { accept: 'text/event-stream' } });
    expect(notFound.status).toBe(404);
  });
});
