/**
 * Sharing the upstream side (UPSTREAM_SHARING, docs/sharing.md), against a
 * real graphql-ws server that counts its sockets and its running
 * subscriptions: what each mode opens upstream, what keeps subscriptions
 * apart (variables, operation, credentials), and that one subscriber's fate
 * (slow, gone) is its own while the upstream's (complete, errors, a dropped
 * socket) is everyone's.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { SharingMode } from '../../src/core/upstream/pool.ts';
import { SLOW_CONSUMER_RESULT } from '../../src/core/sse/stream.ts';
import { registeredFolder, startGateway, TEST_OPERATIONS, type TestGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startLegacyUpstream } from '../fixtures/legacy-upstream.ts';
import { connectHttp2, openSse, openSseHttp2, parseEvents, query, type SseStream } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { credentialTopic, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { poll } from '../fixtures/waiter.ts';

const ticks = (gw: TestGateway, symbol: string, headers?: Record<string, string>) =>
  openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`, { headers });
const subscribes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'subscribe');
const completes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'complete');
const tick = (symbol: string, price: number) => `event: next\ndata: {"data":{"ticks":{"symbol":"${symbol}","price":${price}}}}\n\n`;

function gateway(upstream: { url: string }, sharing: SharingMode, extra: Parameters<typeof startGateway>[1] = {}) {
  return startGateway(upstream.url, { heartbeatMs: 0, ...extra, upstream: { sharing, idleMs: 50, ...extra.upstream } });
}

describe.each<[SharingMode, number, number]>([
  // mode, upstream sockets, upstream subscriptions for 6 streams: 4 of one subscription, 2 of another
  ['off', 6, 6],
  ['connection', 1, 6],
  ['subscription', 1, 2],
])('UPSTREAM_SHARING=%s', (mode, sockets, subscriptions) => {
  it(`serves 4 + 2 identical streams over ${sockets} upstream socket(s) and ${subscriptions} upstream subscription(s), each stream getting every event once`, async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, mode);
    const a = await Promise.all([1, 2, 3, 4].map(() => ticks(gw, 'A')));
    const b = await Promise.all([1, 2].map(() => ticks(gw, 'B')));
    const perKey = mode === 'subscription' ? [1, 1] : [4, 2];
    await upstream.until(() => upstream.listeners('A') === perKey[0] && upstream.listeners('B') === perKey[1], 'the subscriptions to run');
    expect(upstream.sockets).toBe(sockets);
    expect(upstream.connections).toBe(sockets);
    expect(subscribes(upstream)).toHaveLength(subscriptions);
    expect(gw.gateway.sharingStats()).toMatchObject({ mode, upstreamSockets: sockets, upstreamSubscriptions: subscriptions, subscribers: 6 });

    upstream.publish('A', { symbol: 'A', price: 1 });
    upstream.publish('B', { symbol: 'B', price: 2 });
    upstream.finish('A');
    upstream.finish('B');
    for (const s of a) expect(await s.done()).toBe(`:\n\n${tick('A', 1)}event: complete\ndata:\n\n`);
    for (const s of b) expect(await s.done()).toBe(`:\n\n${tick('B', 2)}event: complete\ndata:\n\n`);
    // Encoded once per upstream result, written once per stream.
    expect(gw.gateway.sharingStats()).toMatchObject({ framesEncoded: subscriptions, framesWritten: 6 });
    await upstream.until(() => upstream.sockets === 0, 'the sockets to close');
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0, subscribersPerSubscription: [] });
  });

  it('keeps the subscriptions of different credentials on different sockets: the second user never receives the first user’s events', async () => {
    const upstream = await startUpstream({ byCredential: true });
    const gw = await gateway(upstream, mode, { forwardHeaders: ['authorization'] });
    const alice = await ticks(gw, 'S', { authorization: 'Bearer alice' });
    const bob = await ticks(gw, 'S', { authorization: 'Bearer bob' });
    const aliceTopic = credentialTopic('Bearer alice', 'S');
    const bobTopic = credentialTopic('Bearer bob', 'S');
    await upstream.until(() => upstream.listeners(aliceTopic) === 1 && upstream.listeners(bobTopic) === 1, 'both subscriptions');
    expect(upstream.sockets).toBe(2);
    const inits = upstream.received.filter((m) => m.type === 'connection_init').map((m) => m.payload);
    expect(inits).toEqual(expect.arrayContaining([{ headers: { authorization: 'Bearer alice' } }, { headers: { authorization: 'Bearer bob' } }]));
    upstream.publish(aliceTopic, { symbol: 'for alice', price: 1 });
    upstream.publish(bobTopic, { symbol: 'for bob', price: 2 });
    await alice.until((raw) => raw.includes('for alice'));
    await bob.until((raw) => raw.includes('for bob'));
    expect(alice.raw).toBe(`:\n\n${tick('for alice', 1)}`);
    expect(bob.raw).toBe(`:\n\n${tick('for bob', 2)}`);
    alice.abort();
    bob.abort();
    await upstream.until(() => upstream.sockets === 0);
  });

  it('a client abort ends only its stream; the last one out ends the upstream subscription', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, mode);
    const streams = await Promise.all([1, 2, 3].map(() => ticks(gw, 'AB')));
    await upstream.until(() => upstream.listeners('AB') === (mode === 'subscription' ? 1 : 3));
    streams[0]!.abort();
    await poll(() => gw.gateway.stats().streams === 2, 'the gateway to notice');
    upstream.publish('AB', { symbol: 'AB', price: 1 });
    for (const s of streams.slice(1)) await s.until((raw) => raw.includes('"price":1'));
    expect(completes(upstream)).toHaveLength(mode === 'subscription' ? 0 : 1);
    streams[1]!.abort();
    streams[2]!.abort();
    await upstream.until(() => upstream.listeners('AB') === 0, 'the upstream subscription to end');
    expect(completes(upstream)).toHaveLength(mode === 'subscription' ? 1 : 3);
    await upstream.until(() => upstream.sockets === 0, 'the socket to close');
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0 });
  });

  it('ends every stream of a dropped socket with a reconnection hint, spread by jitter, and leaks no socket', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, mode, { retryMs: 2000 });
    // 40 streams, on two subscriptions (two in `subscription` mode, 40 otherwise).
    const streams = await Promise.all(Array.from({ length: 40 }, (_, i) => ticks(gw, i % 2 ? 'D1' : 'D2')));
    await upstream.until(() => upstream.listeners('D1') + upstream.listeners('D2') === (mode === 'subscription' ? 2 : 40), 'the subscriptions');
    upstream.publish('D1', { symbol: 'D1', price: 1 });
    upstream.publish('D2', { symbol: 'D2', price: 2 });
    await Promise.all(streams.map((s) => s.until((raw) => raw.includes('event: next'))));
    upstream.killSockets();
    const bodies = await Promise.all(streams.map((s) => s.done()));
    const delays = bodies.map((body, i) => {
      expect(body).toMatch(new RegExp(`^:\\n\\n${tick(i % 2 ? 'D1' : 'D2', i % 2 ? 1 : 2)}: upstream unavailable\\nretry: \\d+\\n\\n$`));
      return Number(/retry: (\d+)/.exec(body)![1]);
    });
    // One outage, one round: 2000 ms ±20 %, each stream its own draw.
    for (const d of delays) expect(d >= 1600 && d <= 2400).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(20);
    await upstream.until(() => upstream.sockets === 0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0 });
  });
});

describe('UPSTREAM_SHARING=subscription', () => {
  it('keeps subscriptions apart by variables and by operation, and treats variables equal after coercion and key order as one', async () => {
    const dir = await registeredFolder({ ...TEST_OPERATIONS, TicksAgain: 'subscription TicksAgain($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n' });
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { dir });
    const orders = (filter: unknown) => openSse(`${gw.url}/graphql${query({ id: 'Orders', variables: { filter } })}`);
    const streams = [
      await ticks(gw, 'V1'),
      await ticks(gw, 'V2'),
      await openSse(`${gw.url}/graphql${query({ id: 'TicksAgain', variables: { symbol: 'V1' } })}`),
      // One subscription: the same input object in another key order, a single value for a one-item list, a default spelled out.
      await orders({ symbols: ['A'], side: 'BUY' }),
      await orders({ side: 'BUY', symbols: 'A' }),
      await orders({ symbols: ['A'], side: 'BUY', tags: [] }),
      // Another: a different value.
      await orders({ symbols: ['A'], side: 'SELL' }),
    ];
    await upstream.until(() => upstream.listeners('V1') === 2 && upstream.listeners('V2') === 1 && upstream.listeners('orders') === 2, 'five upstream subscriptions');
    expect(subscribes(upstream).map((m) => (m.payload as { operationName: string }).operationName).sort()).toEqual(['Orders', 'Orders', 'Ticks', 'Ticks', 'TicksAgain']);
    expect(upstream.sockets).toBe(1);
    expect(gw.gateway.sharingStats().subscribersPerSubscription.sort()).toEqual([1, 1, 1, 1, 3]);
    upstream.publish('V2', { symbol: 'V2', price: 1 });
    await streams[1]!.until((raw) => raw.includes('"price":1'));
    expect(streams[0]!.raw).toBe(':\n\n');
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
  });

  it('ends 500 subscribers of one dropped subscription with hints spread over the jitter window, leaving nothing open', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { retryMs: 2000 });
    const streams = await Promise.all(Array.from({ length: 500 }, () => ticks(gw, 'HERD')));
    await poll(() => gw.gateway.stats().streams === 500 && upstream.listeners('HERD') === 1, '500 subscribers of one subscription');
    expect(upstream.sockets).toBe(1);
    upstream.killSockets();
    const delays = (await Promise.all(streams.map((s) => s.done()))).map((body) => {
      expect(body).toMatch(/^:\n\n: upstream unavailable\nretry: \d+\n\n$/);
      return Number(/retry: (\d+)/.exec(body)![1]);
    });
    // Spread over 1600–2400 ms: no 100 ms slice of the window holds more than a fifth of them.
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1600);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2400);
    const slices = new Map<number, number>();
    for (const d of delays) slices.set(Math.floor(d / 100), (slices.get(Math.floor(d / 100)) ?? 0) + 1);
    expect(Math.max(...slices.values())).toBeLessThan(100);
    await upstream.until(() => upstream.sockets === 0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0 });
  });

  it('keys by what the connectionParams hook returns: the same payload shares, another does not', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { connectionParams: (request) => ({ user: request.headers.get('x-user') }) });
    const streams = [await ticks(gw, 'CP', { 'x-user': 'ann', 'x-other': '1' }), await ticks(gw, 'CP', { 'x-user': 'ann', 'x-other': '2' }), await ticks(gw, 'CP', { 'x-user': 'ben' })];
    await upstream.until(() => upstream.listeners('CP') === 2, 'one subscription per user');
    expect(upstream.sockets).toBe(2);
    expect(upstream.received.filter((m) => m.type === 'connection_init').map((m) => m.payload)).toEqual(expect.arrayContaining([{ user: 'ann' }, { user: 'ben' }]));
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
  });

  it('sends a late joiner the events from the moment it joined', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription');
    const early = await ticks(gw, 'LJ');
    await upstream.until(() => upstream.listeners('LJ') === 1);
    upstream.publish('LJ', { symbol: 'LJ', price: 1 });
    await early.until((raw) => raw.includes('"price":1'));
    const late = await ticks(gw, 'LJ');
    await poll(() => gw.gateway.sharingStats().subscribersPerSubscription[0] === 2, 'the late joiner to join');
    upstream.publish('LJ', { symbol: 'LJ', price: 2 });
    upstream.finish('LJ');
    expect(await early.done()).toBe(`:\n\n${tick('LJ', 1)}${tick('LJ', 2)}event: complete\ndata:\n\n`);
    expect(await late.done()).toBe(`:\n\n${tick('LJ', 2)}event: complete\ndata:\n\n`);
    expect(subscribes(upstream)).toHaveLength(1);
  });

  it('ends every subscriber with the upstream’s errors, framed as for one', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription');
    const streams = await Promise.all([1, 2, 3].map(() => openSse(`${gw.url}/graphql${query({ id: 'Failing' })}`)));
    await upstream.until(() => upstream.listeners('failing') === 1);
    await poll(() => gw.gateway.stats().streams === 3);
    upstream.publish('failing', {});
    upstream.finish('failing');
    const bodies = await Promise.all(streams.map((s) => s.done()));
    expect(new Set(bodies).size).toBe(1);
    expect(parseEvents(bodies[0]!).map((e) => e.event)).toEqual(['next', 'complete']);
    expect(JSON.parse(parseEvents(bodies[0]!)[0]!.data).errors[0].message).toBe('tick failed upstream');
  });

  it('never deduplicates queries and mutations: two clients’ mutations are two operations', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription');
    const post = () =>
      fetch(`${gw.url}/graphql`, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' }, body: '{"id":"Hello","variables":{"name":"x"}}' });
    const [a, b] = await Promise.all([post(), post()]);
    expect([await a.text(), await b.text()]).toEqual(Array(2).fill(':\n\nevent: next\ndata: {"data":{"hello":"hello x"}}\n\nevent: complete\ndata:\n\n'));
    expect(subscribes(upstream)).toHaveLength(2);
  });

  it('serves an operation marked `# subway: unshared` on a socket and a subscription of its own', async () => {
    const dir = await registeredFolder({ ...TEST_OPERATIONS, Private: '# subway: unshared\nsubscription Private($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n' });
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { dir });
    const open = () => openSse(`${gw.url}/graphql${query({ id: 'Private', variables: { symbol: 'P' } })}`);
    const streams = [await open(), await open(), await ticks(gw, 'P'), await ticks(gw, 'P')];
    await upstream.until(() => upstream.listeners('P') === 3, 'two private subscriptions and one shared');
    expect(upstream.sockets).toBe(3);
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
  });

  it('isolates a subscriber that stops reading: it alone ends with SLOW_CONSUMER, the others get every event in order', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { maxQueuedEvents: 64, maxQueuedBytes: 256 * 1024 });
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'BURST' } })}`;
    const stalled = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${gw.url}${path}`, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
        res.pause();
        resolve(res);
      });
      req.once('error', reject);
      onTeardown(() => req.destroy());
    });
    const readers = await Promise.all([1, 2].map(() => ticks(gw, 'BURST')));
    await poll(() => gw.gateway.stats().streams === 3 && upstream.listeners('BURST') === 1, 'three subscribers of one subscription');
    // 16 KiB events until the stalled one is cut (the kernel's buffers fill first, then its own queue),
    // in batches the readers take before the next: they never fall behind by more than a batch.
    const symbol = 'x'.repeat(16 * 1024);
    let sent = 0;
    while (gw.gateway.stats().streams === 3) {
      if (sent >= 20_000) throw new Error('the stalled subscriber was never cut');
      for (let i = 0; i < 5; i++) upstream.publish('BURST', { symbol, price: sent++ });
      await Promise.all(readers.map((r) => r.until((raw) => raw.endsWith(`"price":${sent - 1}}}}\n\n`), `event ${sent - 1}`)));
    }
    // The shared subscription goes on for the others.
    expect(upstream.listeners('BURST')).toBe(1);
    expect(completes(upstream)).toHaveLength(0);
    upstream.publish('BURST', { symbol: 'last', price: sent++ });
    upstream.finish('BURST');
    for (const reader of readers) {
      const prices = parseEvents(await reader.done())
        .filter((e) => e.event === 'next')
        .map((e) => JSON.parse(e.data).data.ticks.price as number);
      expect(prices).toEqual(Array.from({ length: sent }, (_, i) => i));
    }
    const text = await new Promise<string>((resolve) => {
      let t = '';
      stalled.setEncoding('utf8').on('data', (c: string) => (t += c));
      stalled.once('end', () => resolve(t));
      stalled.resume();
    });
    expect(text.endsWith(`event: next\ndata: ${SLOW_CONSUMER_RESULT}\n\nevent: complete\ndata:\n\n`)).toBe(true);
    // Each frame was encoded once and held by reference: written to each subscriber that took it.
    const { framesEncoded, framesWritten } = gw.gateway.sharingStats();
    expect(framesEncoded).toBe(sent);
    expect(framesWritten).toBeGreaterThan(2 * sent);
    expect(framesWritten).toBeLessThan(3 * sent);
  });

  it('the queue budget (each stream counting the shared frames it holds) ends the stalled subscribers; the reader goes on', async () => {
    const upstream = await startUpstream();
    // Per-stream bounds far above the budget: what ends the stalled streams is the process-wide budget.
    const gw = await gateway(upstream, 'subscription', { maxQueuedEvents: 100_000, maxQueuedBytes: 64 * 1024 * 1024, maxQueuedBytesTotal: 2 * 1024 * 1024 });
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'BUDGET' } })}`;
    const stall = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(`${gw.url}${path}`, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
          res.pause();
          resolve(res);
        });
        req.once('error', reject);
        onTeardown(() => req.destroy());
      });
    await Promise.all([stall(), stall()]);
    const reader = await ticks(gw, 'BUDGET');
    await poll(() => gw.gateway.stats().streams === 3 && upstream.listeners('BUDGET') === 1, 'three subscribers of one subscription');
    const symbol = 'x'.repeat(16 * 1024);
    let sent = 0;
    while (gw.gateway.stats().streams > 1) {
      if (sent >= 20_000) throw new Error('the budget never ended the stalled streams');
      for (let i = 0; i < 5; i++) upstream.publish('BUDGET', { symbol, price: sent++ });
      await reader.until((raw) => raw.endsWith(`"price":${sent - 1}}}}\n\n`), `event ${sent - 1}`);
    }
    expect(upstream.listeners('BUDGET')).toBe(1);
    upstream.publish('BUDGET', { symbol: 'last', price: sent++ });
    upstream.finish('BUDGET');
    const prices = parseEvents(await reader.done()).filter((e) => e.event === 'next').map((e) => JSON.parse(e.data).data.ticks.price as number);
    expect(prices).toEqual(Array.from({ length: sent }, (_, i) => i));
  });

  it('keeps an idle socket for UPSTREAM_IDLE_MS for the next subscription, then closes it', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { upstream: { idleMs: 300 } });
    const first = await ticks(gw, 'I1');
    await upstream.until(() => upstream.listeners('I1') === 1);
    first.abort();
    await upstream.until(() => completes(upstream).length === 1, 'the subscription to end upstream');
    // The socket stays: the next subscription reuses it.
    expect(upstream.sockets).toBe(1);
    const second = await ticks(gw, 'I2');
    await upstream.until(() => upstream.listeners('I2') === 1);
    expect(upstream.connections).toBe(1);
    second.abort();
    await upstream.until(() => completes(upstream).length === 2);
    const emptiedAt = performance.now();
    await upstream.until(() => upstream.sockets === 0, 'the idle socket to close');
    expect(performance.now() - emptiedAt).toBeGreaterThanOrEqual(250);
    expect(upstream.connections).toBe(1);
  });

  it('shares over the legacy protocol too: one socket, one `start` per distinct subscription', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true });
    const gw = await gateway(upstream, 'subscription');
    const streams: SseStream[] = await Promise.all([ticks(gw, 'LA'), ticks(gw, 'LA'), ticks(gw, 'LB')]);
    await upstream.until(() => upstream.listeners('LA') === 1 && upstream.listeners('LB') === 1);
    expect(upstream.sockets).toBe(1);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'start', 'start']);
    upstream.publish('LA', { symbol: 'LA', price: 1 });
    await Promise.all(streams.slice(0, 2).map((s) => s.until((raw) => raw.includes('"price":1'))));
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'start', 'start', 'stop', 'stop', 'connection_terminate']);
  });
});

describe('UPSTREAM_MAX_SUBSCRIPTIONS_PER_SOCKET and UPSTREAM_MAX_SOCKETS', () => {
  it('opens another socket past the per-socket cap', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'connection', { upstream: { maxSubscriptionsPerSocket: 3 } });
    const streams = await Promise.all(Array.from({ length: 7 }, (_, i) => ticks(gw, `M${i}`)));
    await upstream.until(() => Array.from({ length: 7 }, (_, i) => upstream.listeners(`M${i}`)).every((n) => n === 1));
    expect(upstream.sockets).toBe(3);
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
  });

  it.each<SharingMode>(['off', 'connection', 'subscription'])('%s: answers 429 with Retry-After when no socket can be opened or shared', async (mode) => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, mode, { forwardHeaders: ['authorization'], upstream: { maxSockets: 1 } });
    const first = await ticks(gw, 'X', { authorization: 'a' });
    await upstream.until(() => upstream.listeners('X') === 1);
    const other = await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'X' } })}`, { headers: { accept: 'text/event-stream', authorization: 'b' } });
    expect(other.status).toBe(429);
    expect(other.headers.get('retry-after')).toBe('5');
    expect(await other.json()).toEqual({
      errors: [{ message: 'The gateway has as many upstream connections open as it allows; try again later.', extensions: { code: 'UPSTREAM_SOCKET_LIMIT' } }],
    });
    // The same credential shares the socket where the mode allows.
    const same = await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'Y' } })}`, { headers: { accept: 'text/event-stream', authorization: 'a' } });
    expect(same.status).toBe(mode === 'off' ? 429 : 200);
    await same.body?.cancel();
    expect(upstream.connections).toBe(1);
    first.abort();
  });
});

describe('UPSTREAM_SHARING=subscription over HTTP/2', () => {
  it('serves many streams of one session from one upstream subscription; a reset stream and a stalled one end alone; a dropped socket ends the rest with spread hints', async () => {
    const upstream = await startUpstream();
    const gw = await gateway(upstream, 'subscription', { tls: await testCertificate(), maxQueuedEvents: 64, maxQueuedBytes: 256 * 1024, retryMs: 2000 });
    const session = connectHttp2(gw.url);
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'H2' } })}`;
    const stalled = session.request({ ':path': path, accept: 'text/event-stream' });
    stalled.pause();
    const streams = await Promise.all(Array.from({ length: 20 }, () => openSseHttp2(session, path)));
    await poll(() => gw.gateway.stats().streams === 21 && upstream.listeners('H2') === 1, '21 subscribers of one subscription');
    expect(upstream.sockets).toBe(1);
    expect(gw.gateway.sharingStats().subscribersPerSubscription).toEqual([21]);

    // A reset stream ends alone.
    streams[0]!.stream.close(http2.constants.NGHTTP2_CANCEL);
    await poll(() => gw.gateway.stats().streams === 20, 'the reset stream to end');
    // The stalled stream ends alone once its flow-control window and queue are full.
    const symbol = 'x'.repeat(16 * 1024);
    let sent = 0;
    const readers = streams.slice(1);
    // Batches of 5 (80 KiB): what a reading HTTP/2 stream takes in at once stays within its 256 KiB bound.
    while (gw.gateway.stats().streams === 20) {
      if (sent >= 20_000) throw new Error('the stalled stream was never cut');
      for (let i = 0; i < 5; i++) upstream.publish('H2', { symbol, price: sent++ });
      await Promise.all(readers.map((r) => r.until((raw) => raw.endsWith(`"price":${sent - 1}}}}\n\n`), `event ${sent - 1}`)));
    }
    expect(upstream.listeners('H2')).toBe(1);
    expect(completes(upstream)).toHaveLength(0);
    for (const r of readers) expect(parseEvents(r.raw).map((e) => JSON.parse(e.data).data.ticks.price)).toEqual(Array.from({ length: sent }, (_, i) => i));

    // The upstream socket drops: every remaining stream gets its own jittered hint.
    upstream.killSockets();
    const delays = (await Promise.all(readers.map((r) => r.done()))).map((body) => Number(/\n\n: upstream unavailable\nretry: (\d+)\n\n$/.exec(body)![1]));
    for (const d of delays) expect(d >= 1600 && d <= 2400).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(10);
    await upstream.until(() => upstream.sockets === 0);
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0 });
  });
});
