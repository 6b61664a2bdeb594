/**
 * The Node adapter over HTTP/2 (TLS, ALPN h2 with http/1.1 fallback): many
 * subscriptions multiplexed on one session, teardown on stream reset, and no
 * header that HTTP/2 forbids.
 */
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../fixtures/gateway.ts';
import { connectHttp2, openSseHttp2, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { createNodeWebSocket, withUpgradeHeaders } from '../../src/node/serve.ts';

const FORBIDDEN_IN_H2 = ['connection', 'transfer-encoding', 'keep-alive', 'proxy-connection', 'upgrade'];

describe('HTTP/2', () => {
  it('multiplexes 100 subscriptions on one session, each receiving its own events', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate() });
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    let sessions = 0;
    gw.node.server.on('session', () => sessions++);
    const session = connectHttp2(gw.url);
    const streams = await Promise.all(
      Array.from({ length: 100 }, (_, i) => openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: `S${i}` } })}`)),
    );
    await upstream.until(() => streams.every((_, i) => upstream.listeners(`S${i}`) === 1), '100 running subscriptions');
    streams.forEach((_, i) => upstream.publish(`S${i}`, { symbol: `S${i}`, price: i }));
    await Promise.all(streams.map((s, i) => s.until((raw) => raw.includes(`"price":${i}}`))));
    streams.forEach((s, i) => {
      expect(s.status).toBe(200);
      expect(s.raw).toBe(`:\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"S${i}","price":${i}}}}\n\n`);
      expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      for (const h of FORBIDDEN_IN_H2) expect(s.headers).not.toHaveProperty(h);
    });
    expect(session.alpnProtocol).toBe('h2');
    expect(sessions).toBe(1); // one TCP connection, one HTTP/2 session, 100 streams
    expect(upstream.sockets).toBe(100);
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0, 'all 100 upstream sockets to close');
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(100);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

  it('a stream reset by the client completes the upstream operation and closes its socket', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate() });
    const session = connectHttp2(gw.url);
    const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'R' } })}`);
    await upstream.until(() => upstream.listeners('R') === 1);
    sse.abort();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe', 'complete']);
    expect(session.closed).toBe(false); // the session carries on for the page's other streams
  });

  it('carries a finished stream to its end and a 4xx with its JSON body', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate() });
    const session = connectHttp2(gw.url);
    const ok = await openSseHttp2(session, `/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
    expect(await ok.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: next\ndata: {"data":{"greetings":"hi 1"}}\n\nevent: complete\ndata:\n\n');
    const bad = await openSseHttp2(session, `/graphql${query({ id: 'Nope' })}`);
    expect(bad.status).toBe(404);
    expect(JSON.parse(await bad.done())).toEqual({ errors: [{ message: 'No registered operation has the id "Nope".', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
  });

  it('falls back to HTTP/1.1 over TLS for clients without h2', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate() });
    const body = await new Promise<{ version: string; text: string }>((resolve, reject) => {
      https
        .get(`${gw.url}/graphql${query({ id: 'Hello' })}`, { rejectUnauthorized: false, headers: { accept: 'text/event-stream' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ version: res.httpVersion, text }));
        })
        .on('error', reject);
    });
    expect(body).toEqual({ version: '1.1', text: ':\n\nevent: next\ndata: {"data":{"hello":"hello world"}}\n\nevent: complete\ndata:\n\n' });
  });
});

describe('upstream sockets with forwarded headers', () => {
  it('send each socket its own upgrade headers from one class (no class per header set)', async () => {
    const upstream = await startUpstream();
    const Upstream = createNodeWebSocket({ maxPayload: 64 });
    const a = new (withUpgradeHeaders(Upstream, { authorization: 'Bearer a' }))(upstream.url, 'graphql-transport-ws');
    const b = new (withUpgradeHeaders(Upstream, { authorization: 'Bearer b' }))(upstream.url, 'graphql-transport-ws');
    expect(a).toBeInstanceOf(Upstream);
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    await Promise.all([a, b].map((s) => new Promise((resolve) => s.once('open', resolve))));
    expect(upstream.upgrades.map((h) => h.authorization).sort()).toEqual(['Bearer a', 'Bearer b']);
    a.close();
    b.close();
  });
});
