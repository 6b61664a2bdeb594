/**
 * Connection-level defences of the Node server (src/node/connections.ts),
 * with short time-outs so the tests stay quick: a connection that holds no
 * request is closed, a body that never finishes is answered 408 and closed,
 * and an event stream, however silent, is never cut by either. Real sockets:
 * HTTP/2 over TLS, HTTP/1.1 plain and over TLS, and a TLS handshake never begun.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../fixtures/gateway.ts';
import { connect, readUntilClosed } from '../fixtures/raw-http.ts';
import { connectHttp2, openSse, openSseHttp2, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const IDLE_MS = 1000;
const BODY_MS = 500;

async function start(tls = true): Promise<{ upstream: TestUpstream; gw: TestGateway }> {
  const upstream = await startUpstream();
  const gw = await startGateway(upstream.url, {
    heartbeatMs: 0,
    ...(tls ? { tls: await testCertificate() } : {}),
    node: { idleTimeoutMs: IDLE_MS, requestBodyTimeoutMs: BODY_MS },
  });
  return { upstream, gw };
}

/** An HTTP/2 session that opens no stream: resolves with how long it lived once the server closed it. */
function idleSession(url: string): Promise<number> {
  const opened = Date.now();
  const session = connectHttp2(url);
  session.on('error', () => {});
  return new Promise((resolve) => session.once('close', () => resolve(Date.now() - opened)));
}

const OK = JSON.stringify({ errors: [{ message: `The request body did not arrive within ${BODY_MS} ms.`, extensions: { code: 'REQUEST_TIMEOUT' } }] });

describe('idle connections', () => {
  it('an HTTP/2 session with no stream is closed after the idle time-out, with a GOAWAY', async () => {
    const { gw } = await start();
    const session = connectHttp2(gw.url);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    const opened = Date.now();
    await new Promise((resolve) => session.once('close', resolve));
    expect(await goaway).toBe(0); // NO_ERROR
    const lived = Date.now() - opened;
    expect(lived).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(lived).toBeLessThan(IDLE_MS + 1500);
  });

  it('a session with an open, silent event stream is kept; once the stream ends, the session is closed after the idle time-out', async () => {
    const { upstream, gw } = await start();
    const session = connectHttp2(gw.url);
    const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'QUIET' } })}`);
    await upstream.until(() => upstream.listeners('QUIET') === 1);
    // Two idle periods pass (two idle sessions opened one after the other are closed): the stream stays.
    await idleSession(gw.url);
    await idleSession(gw.url);
    expect(session.closed || session.destroyed).toBe(false);
    upstream.publish('QUIET', { symbol: 'QUIET', price: 1 });
    await sse.until((raw) => raw.includes('"price":1'));
    const ended = Date.now();
    sse.abort();
    await new Promise((resolve) => session.once('close', resolve));
    expect(Date.now() - ended).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });

  it.each([false, true])('an HTTP/1.1 connection that sends nothing is closed within the idle time-out (TLS: %s)', async (secure) => {
    const { gw } = await start(secure);
    const res = await readUntilClosed(await connect(gw.node.port, secure));
    expect(res.closedAfterMs).toBeLessThan(IDLE_MS + 1500);
  });

  it('a TLS connection that never begins its handshake is closed after the idle time-out', async () => {
    const { gw } = await start();
    const socket = net.connect(gw.node.port, '127.0.0.1');
    const res = await readUntilClosed(socket);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(res.closedAfterMs).toBeLessThan(IDLE_MS + 1500);
  });

  it('an HTTP/1.1 event stream outlives both time-outs, silent', async () => {
    const { upstream, gw } = await start(false);
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'H1' } })}`);
    await upstream.until(() => upstream.listeners('H1') === 1);
    // The clock: an idle connection's close, twice.
    for (let i = 0; i < 2; i++) await readUntilClosed(await connect(gw.node.port));
    expect(sse.ended).toBe(false);
    upstream.publish('H1', { symbol: 'H1', price: 2 });
    await sse.until((raw) => raw.includes('"price":2'));
  });
});

describe('request bodies that do not arrive', () => {
  it.each([false, true])('HTTP/1.1: a POST whose body trickles is answered 408 JSON and its connection closed (TLS: %s)', async (secure) => {
    const { upstream, gw } = await start(secure);
    const socket = await connect(gw.node.port, secure);
    const res = await readUntilClosed(socket, () => {
      socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":');
    });
    expect(res.status).toBe(408);
    expect(res.body).toBe(OK);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(res.closedAfterMs).toBeLessThan(BODY_MS + 1000);
    expect(upstream.connections).toBe(0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

  it('HTTP/2: the stream is answered 408 and reset; the session and its other streams go on', async () => {
    const { upstream, gw } = await start();
    const session = connectHttp2(gw.url);
    const other = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'ON' } })}`);
    await upstream.until(() => upstream.listeners('ON') === 1);
    const slow = session.request({ ':method': 'POST', ':path': '/graphql', accept: 'text/event-stream', 'content-type': 'application/json', 'content-length': '100' });
    slow.write('{"id":');
    const started = Date.now();
    const answer = await new Promise<{ status: number; body: string; rst: number }>((resolve) => {
      let status = 0;
      let body = '';
      slow.setEncoding('utf8');
      slow.on('response', (h) => (status = Number(h[':status'])));
      slow.on('data', (c: string) => (body += c));
      slow.on('error', () => {});
      slow.on('close', () => resolve({ status, body, rst: slow.rstCode ?? -1 }));
    });
    expect(answer).toEqual({ status: 408, body: OK, rst: http2.constants.NGHTTP2_NO_ERROR });
    expect(Date.now() - started).toBeLessThan(BODY_MS + 1000);
    upstream.publish('ON', { symbol: 'ON', price: 3 });
    await other.until((raw) => raw.includes('"price":3'));
    expect(session.closed).toBe(false);
  });

  it('a body that arrives in time is served, and its event stream is not cut afterwards', async () => {
    const { upstream, gw } = await start(false);
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'Ticks', variables: { symbol: 'PB' } }),
    });
    expect(res.status).toBe(200);
    await upstream.until(() => upstream.listeners('PB') === 1);
    await readUntilClosed(await connect(gw.node.port)); // one idle period, which is longer than the body time-out
    upstream.publish('PB', { symbol: 'PB', price: 4 });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"price":4')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });
});
