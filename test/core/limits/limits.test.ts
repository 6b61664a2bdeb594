/**
 * Subscription limits (total, per client) and request size limits: refusals
 * are 4xx JSON with the right code and headers, and open no upstream socket.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { openSse, query, type SseStream } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

type ErrorJson = { errors: { message: string; extensions: { code: string; limit?: number } }[] };

const ticks = (symbol: string) => `/graphql${query({ id: 'Ticks', variables: { symbol } })}`;

async function refused(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ErrorJson };
}

describe('MAX_SUBSCRIPTIONS', () => {
  it('refuses the subscription past the limit with 429 and Retry-After, without an upstream connection, and frees the slot on close', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptions: 3, limitRetryAfterS: 7 });
    const streams = await Promise.all(['A', 'B', 'C'].map((s) => openSse(`${gw.url}${ticks(s)}`)));
    await upstream.until(() => upstream.sockets === 3, 'three upstream sockets');

    const res = await refused(`${gw.url}${ticks('D')}`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body).toEqual({ errors: [{ message: 'The gateway has as many subscriptions open as it allows; try again later.', extensions: { code: 'SUBSCRIPTION_LIMIT' } }] });
    expect(upstream.connections).toBe(3);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'full', streams: 3, upstreamFailures: 0 });

    streams[0]!.abort();
    await upstream.until(() => upstream.sockets === 2, 'the aborted stream to close upstream');
    await upstream.until(() => gw.gateway.stats().streams === 2, 'the gateway to count it');
    const again = await openSse(`${gw.url}${ticks('D')}`);
    expect(again.status).toBe(200);
    await upstream.until(() => upstream.listeners('D') === 1);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
  });

  it('by default never refuses a page with dozens of subscriptions', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const streams = await Promise.all(Array.from({ length: 60 }, (_, i) => openSse(`${gw.url}${ticks(`S${i}`)}`)));
    expect(streams.map((s) => s.status)).toEqual(Array(60).fill(200));
    await upstream.until(() => upstream.sockets === 60, '60 upstream sockets');
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket to close');
  });
});

describe('MAX_SUBSCRIPTIONS_PER_CLIENT', () => {
  it('counts by the trusted header, taking its last value (the hop the proxy appended)', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptionsPerClient: 2, trustProxyHeader: 'x-forwarded-for' });
    const as = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const open: SseStream[] = [];
    open.push(await openSse(`${gw.url}${ticks('A1')}`, as('203.0.113.1')));
    // A client-sent value in front of the proxy's does not make a new client.
    open.push(await openSse(`${gw.url}${ticks('A2')}`, as('198.51.100.77, 203.0.113.1')));
    const third = await refused(`${gw.url}${ticks('A3')}`, as('203.0.113.1').headers);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(third.body.errors[0]!.extensions).toEqual({ code: 'CLIENT_SUBSCRIPTION_LIMIT', limit: 2 });
    expect(third.body.errors[0]!.message).toBe('This client has 2 subscriptions open, the most it may.');
    // Another client is not affected.
    open.push(await openSse(`${gw.url}${ticks('B1')}`, as('203.0.113.2')));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    await upstream.until(() => upstream.sockets === 3, 'three upstream sockets');
    expect(upstream.connections).toBe(3);

    open[0]!.abort();
    await upstream.until(() => upstream.sockets === 2);
    await upstream.until(() => gw.gateway.stats().streams === 2);
    expect((await openSse(`${gw.url}${ticks('A3')}`, as('203.0.113.1'))).status).toBe(200);
  });

  it('one address is one client whatever its form: with a port, IPv4-mapped, or anywhere in one IPv6 /64', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptionsPerClient: 1, trustProxyHeader: 'x-forwarded-for' });
    const as = (address: string) => ({ 'x-forwarded-for': address });
    const first = await openSse(`${gw.url}${ticks('P1')}`, { headers: as('203.0.113.7:1111') });
    expect(first.status).toBe(200);
    for (const same of ['203.0.113.7:2222', '203.0.113.7', '::ffff:203.0.113.7', '[::ffff:203.0.113.7]:443']) {
      const res = await refused(`${gw.url}${ticks('P2')}`, as(same));
      expect(res.status, same).toBe(429);
      expect(res.body.errors[0]!.extensions.code).toBe('CLIENT_SUBSCRIPTION_LIMIT');
    }
    const v6 = await openSse(`${gw.url}${ticks('V1')}`, { headers: as('[2001:db8:1:2::1]:5000') });
    expect(v6.status).toBe(200);
    for (const same of ['2001:db8:1:2::2', '2001:DB8:1:2:ffff:ffff:ffff:ffff', '[2001:db8:1:2:0:0:0:3]:1']) {
      expect((await refused(`${gw.url}${ticks('V2')}`, as(same))).status, same).toBe(429);
    }
    // The next /64 is another subscriber.
    expect((await openSse(`${gw.url}${ticks('V3')}`, { headers: as('2001:db8:1:3::1') })).status).toBe(200);
    await upstream.until(() => upstream.sockets === 3, 'three upstream sockets');
    expect(upstream.connections).toBe(3);
  });

  it('counts IPv6 addresses each on their own with CLIENT_IPV6_PREFIX=128', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptionsPerClient: 1, trustProxyHeader: 'x-forwarded-for', clientIpv6Prefix: 128 });
    expect((await openSse(`${gw.url}${ticks('W1')}`, { headers: { 'x-forwarded-for': '2001:db8:1:2::1' } })).status).toBe(200);
    expect((await openSse(`${gw.url}${ticks('W2')}`, { headers: { 'x-forwarded-for': '2001:db8:1:2::2' } })).status).toBe(200);
    expect((await refused(`${gw.url}${ticks('W3')}`, { 'x-forwarded-for': '[2001:db8:1:2::1]:80' })).status).toBe(429);
  });

  it('ignores forwarded headers unless told to trust one: every request here comes from 127.0.0.1', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptionsPerClient: 1 });
    expect((await openSse(`${gw.url}${ticks('A')}`, { headers: { 'x-forwarded-for': '203.0.113.1' } })).status).toBe(200);
    const second = await refused(`${gw.url}${ticks('B')}`, { 'x-forwarded-for': '203.0.113.2' });
    expect(second.status).toBe(429);
    expect(second.body.errors[0]!.extensions.code).toBe('CLIENT_SUBSCRIPTION_LIMIT');
    expect(upstream.connections).toBeLessThanOrEqual(1);
  });

  it('counts by the key a clientKey hook returns', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, {
      heartbeatMs: 0,
      maxSubscriptionsPerClient: 1,
      clientKey: (request) => request.headers.get('x-user') ?? undefined,
    });
    expect((await openSse(`${gw.url}${ticks('A')}`, { headers: { 'x-user': 'ada' } })).status).toBe(200);
    expect((await openSse(`${gw.url}${ticks('B')}`, { headers: { 'x-user': 'grace' } })).status).toBe(200);
    expect((await refused(`${gw.url}${ticks('C')}`, { 'x-user': 'ada' })).status).toBe(429);
    await upstream.until(() => upstream.sockets === 2);
  });
});

describe('request size limits', () => {
  it('refuses a query string over the limit with 414', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { maxQueryStringBytes: 256 });
    const res = await refused(`${gw.url}/graphql?id=Ticks&variables=${encodeURIComponent(JSON.stringify({ symbol: 'x'.repeat(300) }))}`);
    expect(res.status).toBe(414);
    expect(res.body.errors[0]!.extensions).toEqual({ code: 'URI_TOO_LONG', limit: 256 });
    expect(upstream.connections).toBe(0);
  });

  it('refuses variables over the limit with 413, counting UTF-8 bytes', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { maxVariablesBytes: 64 });
    // 20 × "é" is 40 bytes of UTF-8 but 20 UTF-16 units: the JSON is 72 bytes, 52 units.
    const res = await refused(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'é'.repeat(20), pad: 'x'.repeat(10) } })}`);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: [{ message: 'The variables are 72 bytes; the limit is 64.', extensions: { code: 'VARIABLES_TOO_LARGE', limit: 64 } }] });
    const fits = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'é'.repeat(20) } })}`);
    expect(fits.status).toBe(200);
    await upstream.until(() => upstream.connections === 1);
  });
});
