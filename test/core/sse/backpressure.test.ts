/**
 * A client that stops reading: its queue is bounded, and once full the stream
 * ends with a final `next` carrying SLOW_CONSUMER and `complete`, and the
 * upstream subscription is closed. The reader is a real socket that stops
 * reading (its kernel buffers fill first, then the gateway's queue).
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { SLOW_CONSUMER_RESULT } from '../../../src/core/sse/stream.ts';
import { startGateway } from '../../fixtures/gateway.ts';
import { onTeardown } from '../../fixtures/leftovers.ts';
import { connectHttp2, query } from '../../fixtures/sse.ts';
import { testCertificate } from '../../fixtures/tls.ts';
import { startUpstream, type TestUpstream } from '../../fixtures/upstream.ts';

/** Opens an SSE request whose response is never read until `resume()`. */
function openStalled(url: string) {
  return new Promise<{ res: http.IncomingMessage; resume(): Promise<string>; destroy(): void }>((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      res.pause();
      resolve({
        res,
        destroy: () => req.destroy(),
        resume: () =>
          new Promise<string>((done, fail) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.once('end', () => done(text));
            res.once('error', fail);
            res.resume();
          }),
      });
    });
    req.once('error', reject);
    onTeardown(() => req.destroy());
  });
}

/**
 * Publishes 16 KiB events on `BURST`, 50 at a time, until the gateway gives up
 * on the stalled reader (first the socket buffers fill, then the gateway's
 * bounded queue) and ends its upstream subscription; returns how many were sent.
 */
async function burstUntilCut(upstream: TestUpstream): Promise<number> {
  const symbol = 'x'.repeat(16 * 1024);
  let sent = 0;
  while (upstream.listeners('BURST') === 1) {
    if (sent >= 20_000) throw new Error('the gateway never ended the stalled stream');
    for (let i = 0; i < 50; i++) upstream.publish('BURST', { symbol, price: sent++ });
    await new Promise((r) => setTimeout(r, 5));
  }
  return sent;
}

describe('a client that does not read', () => {
  it('has its stream ended with SLOW_CONSUMER once its queue is full, and its upstream subscription closed', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxQueuedEvents: 64, maxQueuedBytes: 256 * 1024, maxSubscriptions: 1 });
    const stalled = await openStalled(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'BURST' } })}`);
    expect(stalled.res.statusCode).toBe(200);
    await upstream.until(() => upstream.listeners('BURST') === 1);

    const sent = await burstUntilCut(upstream);
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    await upstream.until(() => gw.gateway.stats().streams === 0 && gw.gateway.stats().upstreamConnections === 0);
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
    // What it has not read still counts against the limits: no way around them by not reading.
    expect((await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEXT' } })}`)).status).toBe(429);

    // Reading now drains what was held, then the final error and complete.
    const text = await stalled.resume();
    expect(text.endsWith(`event: next\ndata: ${SLOW_CONSUMER_RESULT}\n\nevent: complete\ndata:\n\n`)).toBe(true);
    const prices = [...text.matchAll(/"price":(\d+)/g)].map((m) => Number(m[1]));
    // Events arrive in order, without gaps, up to the one that did not fit.
    expect(prices).toEqual(prices.map((_, i) => i));
    expect(prices.length).toBeLessThan(sent);
    // Drained: the slot is free.
    const next = await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEXT' } })}`);
    expect(next.status).toBe(200);
    await next.body!.cancel();
    expect(JSON.parse(SLOW_CONSUMER_RESULT)).toEqual({
      errors: [{ message: 'The client did not read its events fast enough; the subscription was ended.', extensions: { code: 'SLOW_CONSUMER' } }],
    });
  });

  it('frees the slot of a stalled client that goes away without reading', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxQueuedEvents: 64, maxQueuedBytes: 256 * 1024, maxSubscriptions: 1 });
    const stalled = await openStalled(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'BURST' } })}`);
    await upstream.until(() => upstream.listeners('BURST') === 1);
    await burstUntilCut(upstream);
    await upstream.until(() => upstream.sockets === 0);
    expect((await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEXT' } })}`)).status).toBe(429);
    stalled.destroy();
    for (;;) {
      const res = await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEXT' } })}`);
      if (res.status === 200) break;
      expect(res.status).toBe(429);
      await res.body!.cancel();
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('over HTTP/2, ends only the stalled stream; its sibling on the same session keeps streaming', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxQueuedEvents: 64, maxQueuedBytes: 256 * 1024, tls: await testCertificate() });
    const session = connectHttp2(gw.url);
    const open = (symbol: string) => session.request({ ':path': `/graphql${query({ id: 'Ticks', variables: { symbol } })}`, accept: 'text/event-stream' });
    const stalled = open('BURST');
    stalled.pause();
    const sibling = open('CALM');
    let siblingText = '';
    sibling.setEncoding('utf8').on('data', (c: string) => (siblingText += c));
    await upstream.until(() => upstream.listeners('BURST') === 1 && upstream.listeners('CALM') === 1);

    await burstUntilCut(upstream);
    await upstream.until(() => upstream.sockets === 1, 'the stalled stream’s upstream socket to close');
    upstream.publish('CALM', { symbol: 'CALM', price: 1 });
    await new Promise<void>((resolve) => {
      const check = () => (siblingText.includes('"price":1') ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(siblingText).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"CALM","price":1}}}\n\n');

    const text = await new Promise<string>((resolve) => {
      let t = '';
      stalled.setEncoding('utf8').on('data', (c: string) => (t += c));
      stalled.once('end', () => resolve(t));
      stalled.resume();
    });
    expect(text.endsWith(`event: next\ndata: ${SLOW_CONSUMER_RESULT}\n\nevent: complete\ndata:\n\n`)).toBe(true);
    sibling.close(http2.constants.NGHTTP2_CANCEL);
    await upstream.until(() => upstream.sockets === 0);
  });

  it('with the default bounds, does not end a client that reads, however fast the upstream publishes', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const res = await fetch(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 20_000 } })}`);
    const text = await res.text();
    expect(text.split('event: next').length - 1).toBe(20_000);
    expect(text).not.toContain('SLOW_CONSUMER');
    expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });
});
