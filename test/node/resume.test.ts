/**
 * Resuming dropped streams (RESUME_WINDOW_MS, docs/resume.md) against a real
 * graphql-ws server that counts its sockets and subscriptions, over real
 * sockets cut without a goodbye: nothing lost, nothing twice, order kept; a
 * said gap whenever the id cannot be honoured; the window's cost given back.
 */
import { describe, expect, it } from 'vitest';
import { expiring } from '../../src/core/auth/expiry.ts';
import { SubwayError } from '../../src/core/errors.ts';
import type { SharingMode } from '../../src/core/upstream/pool.ts';
import { ECHO_OPERATION, registeredFolder, startGateway, TEST_OPERATIONS, type TestGateway } from '../fixtures/gateway.ts';
import { prng } from '../fixtures/prng.ts';
import { lastEventId, openCuttable, openCuttableHttp2, type CuttableStream } from '../fixtures/resume.ts';
import { parseEvents, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { credentialTopic, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { poll } from '../fixtures/waiter.ts';

const subscribes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'subscribe');
const completes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'complete');
const ticksPath = (symbol: string) => `/graphql${query({ id: 'Ticks', variables: { symbol } })}`;
/** The prices of the tick events in a stream's text, in order. */
const prices = (raw: string) =>
  parseEvents(raw)
    .filter((e) => e.event === 'next' && e.data.includes('"ticks"'))
    .map((e) => (JSON.parse(e.data) as { data: { ticks: { price: number } } }).data.ticks.price);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** The gap event, exactly as an unmodified client sees it (after its `id:` line). */
const GAP_EVENT = 'event: next\ndata: {"extensions":{"subway":{"gap":true}}}\n\n';

interface Transport {
  name: string;
  gateway(upstream: TestUpstream, extra?: Parameters<typeof startGateway>[1]): Promise<TestGateway>;
  open(gw: TestGateway, path: string, headers?: Record<string, string>): Promise<CuttableStream>;
}

const RESUME = { resumeWindowMs: 60_000, heartbeatMs: 0 };
const HTTP1: Transport = {
  name: 'HTTP/1.1',
  gateway: (upstream, extra = {}) => startGateway(upstream.url, { ...RESUME, ...extra }),
  open: (gw, path, headers) => openCuttable(`${gw.url}${path}`, headers),
};
const HTTP2: Transport = {
  name: 'HTTP/2',
  gateway: async (upstream, extra = {}) => startGateway(upstream.url, { ...RESUME, tls: await testCertificate(), ...extra }),
  open: (gw, path, headers) => openCuttableHttp2(gw.url, path, headers),
};

/** A client that reads a stream, is cut at random points and comes back with the last id it saw, as EventSource does. */
interface Reader {
  seen: number[];
  id: string | undefined;
  stream: CuttableStream;
}

/** Cuts the reader's connection once it shows `want` more events, and reconnects with its last id: must be replayed. */
async function cutAndResume(transport: Transport, gw: TestGateway, path: string, reader: Reader, want: number, whileAway: () => void): Promise<void> {
  await reader.stream.until((raw) => prices(raw).length >= want, `${want} events`);
  // What the client had when the network died: the same text gives what it saw and the id it sends back.
  const text = reader.stream.raw;
  reader.stream.cut();
  reader.seen.push(...prices(text));
  reader.id = lastEventId(text, reader.id);
  whileAway();
  reader.stream = await transport.open(gw, path, { 'last-event-id': reader.id! });
  expect(reader.stream.status).toBe(200);
  expect(reader.stream.headers['subway-resume']).toBe('replayed');
}

/** Runs `rounds` cuts of one counting subscription; returns what the client saw, in order. */
async function cutRepeatedly(transport: Transport, gw: TestGateway, upstream: TestUpstream, rounds: number, seed: number): Promise<number[]> {
  const random = prng(seed);
  let published = 0;
  const publish = (n: number) => {
    for (let i = 0; i < n; i++) upstream.publish('R', { symbol: 'R', price: ++published });
  };
  const reader: Reader = { seen: [], id: undefined, stream: await transport.open(gw, ticksPath('R')) };
  expect(reader.stream.headers['subway-resume']).toBeUndefined();
  await upstream.until(() => upstream.listeners('R') === 1, 'the upstream subscription');
  for (let round = 0; round < rounds; round++) {
    publish(random.int(16));
    // Cut once the client has read a random share of what is outstanding: the rest is in flight, or not sent yet.
    await cutAndResume(transport, gw, ticksPath('R'), reader, random.int(published - reader.seen.length + 1), () => publish(random.int(16)));
  }
  publish(5);
  upstream.finish('R');
  const rest = await reader.stream.done();
  reader.seen.push(...prices(rest));
  expect(rest.endsWith('event: complete\ndata:\n\n')).toBe(true);
  expect(reader.seen).toEqual(range(1, published));
  return reader.seen;
}

describe.each([HTTP1, HTTP2])('resume over $name', (transport) => {
  it('loses nothing and repeats nothing across 100 connections cut at random points of a counting subscription', async () => {
    const upstream = await startUpstream();
    const gw = await transport.gateway(upstream);
    // RESUME_SEED=<n> replays another run of cuts.
    await cutRepeatedly(transport, gw, upstream, 100, Number(process.env['RESUME_SEED'] ?? 13));
    // One upstream subscription all along, ended when it completed; its end kept for the window, nothing running.
    expect(subscribes(upstream)).toHaveLength(1);
    await poll(() => gw.gateway.stats().streams === 0, 'no stream');
    expect(gw.gateway.resumeStats()).toMatchObject({ lingering: 0, keptEnded: 1 });
    expect(gw.gateway.sharingStats().upstreamSubscriptions).toBe(0);
  }, 60_000);
});

describe.each(['connection', 'subscription'] as SharingMode[])('resume with UPSTREAM_SHARING=%s', (mode) => {
  it('loses nothing and repeats nothing across 30 cut connections', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream, { upstream: { sharing: mode } });
    await cutRepeatedly(HTTP1, gw, upstream, 30, 7);
    expect(subscribes(upstream)).toHaveLength(1);
    expect(upstream.connections).toBe(1);
  }, 30_000);
});

describe('resume of a shared subscription', () => {
  it('gives each of several subscribers, cut at different points, everything after its own id, from one upstream subscription', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP2.gateway(upstream, { upstream: { sharing: 'subscription' } });
    const random = prng(21);
    let published = 0;
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) upstream.publish('R', { symbol: 'R', price: ++published });
    };
    const readers: Reader[] = [];
    for (let i = 0; i < 4; i++) readers.push({ seen: [], id: undefined, stream: await HTTP2.open(gw, ticksPath('R')) });
    await upstream.until(() => upstream.listeners('R') === 1, 'one upstream subscription');
    for (let round = 0; round < 15; round++) {
      publish(1 + random.int(10));
      await Promise.all(
        readers.map((reader) => cutAndResume(HTTP2, gw, ticksPath('R'), reader, random.int(published - reader.seen.length + 1), () => publish(random.int(4)))),
      );
    }
    upstream.finish('R');
    for (const reader of readers) {
      reader.seen.push(...prices(await reader.stream.done()));
      expect(reader.seen).toEqual(range(1, published));
    }
    expect(subscribes(upstream)).toHaveLength(1);
    expect(gw.gateway.sharingStats().upstreamSubscriptions).toBe(0);
  }, 30_000);
});

/** Opens a stream, reads `n` ticks of `symbol` published for it, cuts it; returns its last id. */
async function readThenCut(gw: TestGateway, upstream: TestUpstream, symbol: string, n: number, headers: Record<string, string> = {}, topic = symbol): Promise<string> {
  const streams = gw.gateway.stats().streams;
  const stream = await HTTP1.open(gw, ticksPath(symbol), headers);
  await upstream.until(() => upstream.listeners(topic) >= 1, 'the upstream subscription');
  for (let i = 1; i <= n; i++) upstream.publish(topic, { symbol, price: i });
  await stream.until((raw) => prices(raw).length === n, `${n} ticks`);
  stream.cut();
  // Once the gateway noticed (before that, it writes to the dead connection, as it would to a half-open one).
  await poll(() => gw.gateway.stats().streams === streams, 'the gateway noticing the cut');
  return lastEventId(stream.raw)!;
}

/** Asserts a said gap: the header, then the gap event first, then a fresh subscription's events. */
async function expectGap(stream: CuttableStream): Promise<void> {
  expect(stream.status).toBe(200);
  expect(stream.headers['subway-resume']).toBe('gap');
  const raw = await stream.until((text) => text.includes(GAP_EVENT), 'the gap event');
  // The comment that opens every stream, then the gap (with the id of the new position), before anything else.
  expect(raw).toMatch(/^:\n\nid: [A-Za-z0-9_-]{22}[0-9a-z]+\nevent: next\ndata: \{"extensions":\{"subway":\{"gap":true\}\}\}\n\n/);
}

describe('a resume that cannot be honoured is a said gap, never a replay', () => {
  it('an id that is not ours, or names nothing (a restart, another process)', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream);
    const other = await HTTP1.gateway(upstream);
    const id = await readThenCut(other, upstream, 'R', 2);
    const bads = ['garbage', '', 'x'.repeat(4000), id, `${id.slice(0, 22)}zzzzzzzzzzzzzzz`];
    for (const bad of bads) {
      const stream = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': bad });
      if (bad === '') {
        // An empty Last-Event-ID is none (EventSource sends it before any id): a plain fresh stream.
        expect(stream.headers['subway-resume']).toBeUndefined();
        await stream.until((raw) => /^:\n\nid: \S+\n\n$/.test(raw), 'the position');
      } else {
        await expectGap(stream);
      }
      stream.abort();
    }
    // The gap continues as a fresh subscription: events published now arrive.
    // Each of those was a fresh subscription, lingering since for its place; and the other gateway's.
    await upstream.until(() => upstream.listeners('R') === bads.length + 1, 'the fresh subscriptions');
    const before = upstream.listeners('R');
    const stream = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    await expectGap(stream);
    await upstream.until(() => upstream.listeners('R') === before + 1, 'a fresh upstream subscription');
    upstream.publish('R', { symbol: 'R', price: 99 });
    await stream.until((raw) => prices(raw).includes(99), 'a live tick');
    expect(prices(stream.raw)).toEqual([99]);
  });

  it('another operation or other variables: nothing of the first stream is replayed', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream);
    const id = await readThenCut(gw, upstream, 'R', 2);
    upstream.publish('R', { symbol: 'R', price: 3 });
    await poll(() => gw.gateway.resumeStats().bufferedEvents === 3, 'the third tick kept');
    const stream = await HTTP1.open(gw, ticksPath('S'), { 'last-event-id': id });
    await expectGap(stream);
    const orders = await HTTP1.open(gw, `/graphql${query({ id: 'Orders', variables: { filter: { symbols: ['R'] } } })}`, { 'last-event-id': id });
    await expectGap(orders);
    expect(prices(stream.raw)).toEqual([]);
    // The original place is still there for the right request.
    const right = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    expect(right.headers['subway-resume']).toBe('replayed');
    await right.until((raw) => prices(raw).length === 1, 'the missed tick');
    expect(prices(right.raw)).toEqual([3]);
  });

  it.each(['off', 'connection', 'subscription'] as SharingMode[])('other credentials (UPSTREAM_SHARING=%s): never the first user’s events', async (mode) => {
    const upstream = await startUpstream({ byCredential: true });
    const gw = await HTTP1.gateway(upstream, { forwardHeaders: ['authorization'], upstream: { sharing: mode } });
    const alice = { authorization: 'Bearer alice' };
    const id = await readThenCut(gw, upstream, 'R', 2, alice, credentialTopic(alice.authorization, 'R'));
    upstream.publish(credentialTopic(alice.authorization, 'R'), { symbol: 'R', price: 3 });
    await poll(() => gw.gateway.resumeStats().bufferedEvents === 3, 'alice’s third tick kept');
    const mallory = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id, authorization: 'Bearer mallory' });
    await expectGap(mallory);
    await upstream.until(() => upstream.listeners(credentialTopic('Bearer mallory', 'R')) === 1, 'mallory’s own subscription');
    upstream.publish(credentialTopic('Bearer mallory', 'R'), { symbol: 'R', price: 1000 });
    await mallory.until((raw) => prices(raw).length === 1, 'mallory’s own tick');
    expect(prices(mallory.raw)).toEqual([1000]);
    // Alice still gets hers.
    const back = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id, ...alice });
    expect(back.headers['subway-resume']).toBe('replayed');
    await back.until((raw) => prices(raw).length === 1, 'alice’s missed tick');
    expect(prices(back.raw)).toEqual([3]);
  });

  it('events evicted by RESUME_MAX_EVENTS or RESUME_MAX_BYTES: a huge backlog is a gap, and memory stays within the bounds', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream, { resumeMaxEvents: 50, resumeMaxBytes: 4096 });
    const id = await readThenCut(gw, upstream, 'R', 1);
    for (let i = 2; i <= 5001; i++) upstream.publish('R', { symbol: 'R', price: i });
    await poll(() => gw.gateway.sharingStats().framesEncoded === 5001, 'every tick framed');
    const stats = gw.gateway.resumeStats();
    expect(stats.bufferedEvents).toBeLessThanOrEqual(50);
    expect(stats.bufferedBytes).toBeLessThanOrEqual(4096);
    expect(stats.lingering).toBe(1);
    const stream = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    await expectGap(stream);
    // A gap starts afresh: the lingering subscription's events are not sent either.
    await upstream.until(() => upstream.listeners('R') === 2, 'a fresh upstream subscription');
    upstream.publish('R', { symbol: 'R', price: 9999 });
    await stream.until((raw) => prices(raw).includes(9999), 'live ticks');
    expect(prices(stream.raw)).toEqual([9999]);
  });

  it('the window passed: the lingering upstream subscription was completed and its buffer freed', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream, { resumeWindowMs: 300, maxSubscriptions: 1 });
    const id = await readThenCut(gw, upstream, 'R', 2);
    await poll(() => gw.gateway.resumeStats().lingering === 1, 'the linger');
    // The upstream hears the complete when the window passes, and nothing is kept.
    await upstream.until(() => completes(upstream).length === 1 && upstream.listeners('R') === 0, 'the upstream complete');
    expect(gw.gateway.resumeStats()).toEqual({ lingering: 0, keptEnded: 0, bufferedEvents: 0, bufferedBytes: 0 });
    // Its slot is free again (MAX_SUBSCRIPTIONS=1): the resume, a gap, is served.
    const stream = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    await expectGap(stream);
  });
});

describe('resume', () => {
  it('a subscription that completed while the client was away: the rest of its events, then complete', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream);
    const id = await readThenCut(gw, upstream, 'R', 2);
    upstream.publish('R', { symbol: 'R', price: 3 });
    upstream.publish('R', { symbol: 'R', price: 4 });
    upstream.finish('R');
    await poll(() => gw.gateway.resumeStats().keptEnded === 1, 'the end kept');
    const stream = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    expect(stream.headers['subway-resume']).toBe('replayed');
    const raw = await stream.done();
    expect(prices(raw)).toEqual([3, 4]);
    expect(raw.endsWith('"price":4}}}\n\nevent: complete\ndata:\n\n')).toBe(true);
    // Kept for the window all the same: this connection may be dead too, unnoticed.
    await poll(() => gw.gateway.stats().streams === 0, 'no stream');
    expect(gw.gateway.resumeStats()).toMatchObject({ lingering: 0, keptEnded: 1 });
    expect(gw.gateway.sharingStats().upstreamSubscriptions).toBe(0);
  });

  it('takes the id from the lastEventId query parameter (a page rendered on the server), the header winning', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream);
    const id = await readThenCut(gw, upstream, 'R', 2);
    upstream.publish('R', { symbol: 'R', price: 3 });
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'R' }, lastEventId: id })}`;
    const stream = await HTTP1.open(gw, path);
    expect(stream.headers['subway-resume']).toBe('replayed');
    await stream.until((raw) => prices(raw).length === 1, 'the missed tick');
    expect(prices(stream.raw)).toEqual([3]);
    const viaHeader = await HTTP1.open(gw, path, { 'last-event-id': 'garbage' });
    await expectGap(viaHeader);
  });

  it('a lingering subscription counts against MAX_SUBSCRIPTIONS; its own client may take the slot back', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream, { maxSubscriptions: 1 });
    const id = await readThenCut(gw, upstream, 'R', 1);
    await poll(() => gw.gateway.resumeStats().lingering === 1, 'the linger');
    const refused = await fetch(`${gw.url}${ticksPath('S')}`, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('SUBSCRIPTION_LIMIT');
    const stranger = await fetch(`${gw.url}${ticksPath('S')}`, { headers: { accept: 'text/event-stream', 'last-event-id': 'garbage' } });
    expect(stranger.status).toBe(429);
    const back = await HTTP1.open(gw, ticksPath('R'), { 'last-event-id': id });
    expect(back.headers['subway-resume']).toBe('replayed');
    expect(gw.gateway.resumeStats().lingering).toBe(0);
    expect(subscribes(upstream)).toHaveLength(1);
  });

  it('stopping the gateway ends every stream with a short retry: (clients come straight back, to another instance)', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream);
    const streams = await Promise.all([0, 1, 2].map(() => HTTP1.open(gw, ticksPath('R'))));
    await upstream.until(() => upstream.listeners('R') === 3, 'three subscriptions');
    const closing = gw.node.close();
    for (const stream of streams) {
      const raw = await stream.done();
      const retry = /\nretry: (\d+)\n\n$/.exec(raw);
      expect(retry, raw).not.toBeNull();
      expect(Number(retry![1])).toBeLessThan(1000);
    }
    await closing;
    await upstream.until(() => upstream.listeners('R') === 0, 'every upstream subscription ended');
    expect(gw.gateway.resumeStats().lingering).toBe(0);
  });
});

describe('credential expiry (the connectionParams hook says when)', () => {
  /** A session cookie `token=<user>.<version>` that the hook reads; expiry and subject come from a table the test controls. */
  function sessions() {
    const expiry = new Map<string, number>();
    const hook = (request: Request) => {
      const token = /(?:^|; )token=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
      const exp = token === undefined ? undefined : expiry.get(token);
      if (token === undefined || exp === undefined || exp <= Date.now()) throw new SubwayError('UNAUTHENTICATED', 401, 'Sign in again.');
      return expiring({ headers: { authorization: `Bearer ${token}` } }, { expiresAt: exp, subject: token.split('.')[0] });
    };
    return { expiry, hook };
  }

  it('ends the stream with a short retry: at expiry, delivers nothing after it, and the refreshed credential resumes after the last event', async () => {
    const upstream = await startUpstream();
    const { expiry, hook } = sessions();
    const gw = await HTTP1.gateway(upstream, { connectionParams: hook });
    expiry.set('alice.1', Date.now() + 400);
    const first = await HTTP1.open(gw, ticksPath('R'), { cookie: 'token=alice.1' });
    await upstream.until(() => upstream.listeners('R') === 1, 'the upstream subscription');
    upstream.publish('R', { symbol: 'R', price: 1 });
    const raw = await first.done();
    expect(prices(raw)).toEqual([1]);
    const retry = /: credential expired\nretry: (\d+)\n\n$/.exec(raw);
    expect(retry, raw).not.toBeNull();
    expect(Number(retry![1])).toBeLessThan(1000);
    // Published after the expiry, before the client is back: kept for it, not sent on the expired stream.
    upstream.publish('R', { symbol: 'R', price: 2 });
    await poll(() => gw.gateway.resumeStats().bufferedEvents === 2, 'the tick kept');
    // The expired cookie is refused as before; the refreshed one (same subject) continues after the last event.
    const stale = await fetch(`${gw.url}${ticksPath('R')}`, { headers: { accept: 'text/event-stream', cookie: 'token=alice.1', 'last-event-id': lastEventId(raw)! } });
    expect(stale.status).toBe(401);
    expiry.set('alice.2', Date.now() + 60_000);
    const second = await HTTP1.open(gw, ticksPath('R'), { cookie: 'token=alice.2', 'last-event-id': lastEventId(raw)! });
    expect(second.headers['subway-resume']).toBe('replayed');
    upstream.publish('R', { symbol: 'R', price: 3 });
    await second.until((text) => prices(text).length === 2, 'the missed and the live tick');
    expect(prices(second.raw)).toEqual([2, 3]);
    // Another subject with the same id: a gap.
    expiry.set('bob.1', Date.now() + 60_000);
    const bob = await HTTP1.open(gw, ticksPath('R'), { cookie: 'token=bob.1', 'last-event-id': lastEventId(raw)! });
    await expectGap(bob);
    await upstream.until(() => subscribes(upstream).length === 2, 'bob’s own upstream subscription');
  });
});

describe('a connection that fills up (dead, and not noticed yet)', () => {
  it('ends as too slow yet keeps its place: the client comes back for every event the buffer still holds', async () => {
    const upstream = await startUpstream();
    const dir = await registeredFolder({ ...TEST_OPERATIONS, ...ECHO_OPERATION });
    // HTTP/2: a stream that is not read closes its flow-control window after 64 KiB, so the queue fills soon.
    const gw = await HTTP2.gateway(upstream, { dir, maxQueuedBytes: 16_384 });
    const path = `/graphql${query({ id: 'Echo', variables: { value: null } })}`;
    const stream = await HTTP2.open(gw, path);
    await upstream.until(() => upstream.listeners('echo') === 1, 'the upstream subscription');
    const value = (n: number) => ({ n, pad: 'x'.repeat(1024) });
    upstream.publish('echo', value(1));
    const text = await stream.until((raw) => raw.includes('"n":1,') && raw.endsWith('}}}\n\n'), 'the first event');
    const id = lastEventId(text)!;
    stream.stall();
    for (let n = 2; n <= 300; n++) upstream.publish('echo', value(n));
    // Its queue filled: the stream ended as too slow, and its place is kept.
    await poll(() => gw.gateway.resumeStats().lingering === 1, 'the place kept');
    stream.cut();
    const back = await HTTP2.open(gw, path, { 'last-event-id': id });
    expect(back.headers['subway-resume']).toBe('replayed');
    const raw = await back.until((r) => r.includes('"n":300,') && r.endsWith('}}}\n\n'), 'every missed event');
    const ns = parseEvents(raw).map((e) => (JSON.parse(e.data) as { data: { echo: { n: number } } }).data.echo.n);
    expect(ns).toEqual(range(2, 300));
  });
});

describe('MAX_SUBSCRIPTIONS_PER_CLIENT with resume on', () => {
  it('a client at its own limit gives way its own oldest lingering place to a fresh stream (a reloaded page is not locked out)', async () => {
    const upstream = await startUpstream();
    const gw = await HTTP1.gateway(upstream, { maxSubscriptionsPerClient: 2 });
    await readThenCut(gw, upstream, 'A', 1);
    const kept = await readThenCut(gw, upstream, 'B', 1);
    expect(gw.gateway.resumeStats().lingering).toBe(2);
    // A fresh stream: A's place (the oldest) gives way, its upstream subscription ends; B's stays.
    const fresh = await HTTP1.open(gw, ticksPath('C'));
    expect(fresh.status).toBe(200);
    await upstream.until(() => upstream.listeners('A') === 0 && upstream.listeners('C') === 1, 'A ended, C subscribed');
    expect(upstream.listeners('B')).toBe(1);
    upstream.publish('B', { symbol: 'B', price: 2 });
    await poll(() => gw.gateway.resumeStats().bufferedEvents >= 2, 'B’s tick kept');
    // At the limit again (B lingering, C live): B's own client still takes its place back.
    const back = await HTTP1.open(gw, ticksPath('B'), { 'last-event-id': kept });
    expect(back.headers['subway-resume']).toBe('replayed');
    await back.until((raw) => prices(raw).length === 1, 'B’s missed tick');
    expect(prices(back.raw)).toEqual([2]);
    // Nothing lingers now: a third stream is refused as before.
    const refused = await fetch(`${gw.url}${ticksPath('D')}`, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(429);
  });
});
