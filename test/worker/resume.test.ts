/**
 * Resume on Cloudflare Workers (docs/workers.md, "Sharing and resuming";
 * docs/resume.md): with RESUME_WINDOW_MS on, every subscription goes to a
 * Durable Object, where it lingers for its client; the reconnect carries the
 * same operation, variables and credentials, so the Worker routes it to the
 * same object. On workerd, against a graphql-ws server counting its sockets
 * and subscriptions, with the client's TCP connection cut (no goodbye).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFolder } from '../fixtures/gateway.ts';
import { freePort } from '../fixtures/ports.ts';
import { lastEventId, openCuttable } from '../fixtures/resume.ts';
import { parseEvents, query } from '../fixtures/sse.ts';
import { credentialTopic, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { startWorker, type TestWorker } from '../fixtures/worker.ts';

const WINDOW_MS = 1500;
const IDLE_MS = 100;
const GAP = '{"extensions":{"subway":{"gap":true}}}';
const tick = (symbol: string, price: number) => `{"data":{"ticks":{"symbol":"${symbol}","price":${price}}}}`;
const subscribes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'subscribe');
/** The prices of a stream's `next` events, in order. */
const prices = (raw: string) => parseEvents(raw).filter((e) => e.event === 'next' && e.data !== GAP).map((e) => JSON.parse(e.data).data.ticks.price as number);

describe.each(['subscription', 'connection', 'off'] as const)('RESUME_WINDOW_MS on workerd, UPSTREAM_SHARING=%s', (mode) => {
  let worker: TestWorker;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    worker = await startWorker(
      await registeredFolder(),
      {
        UPSTREAM_URL: `ws://127.0.0.1:${port}/graphql`,
        UPSTREAM_SHARING: mode,
        UPSTREAM_IDLE_MS: String(IDLE_MS),
        RESUME_WINDOW_MS: String(WINDOW_MS),
        RESUME_MAX_EVENTS: '5',
        FORWARD_HEADERS: 'authorization',
        HEARTBEAT_MS: '100',
      },
      { keep: true },
    );
  });
  afterAll(() => worker?.[Symbol.asyncDispose]());
  const url = (symbol: string) => `${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`;

  it('resumes after a cut connection with every missed event once, in order, on the same upstream subscription', async () => {
    const upstream = await startUpstream({ port });
    const first = await openCuttable(url('R'));
    expect(first.headers['subway-resume']).toBeUndefined();
    await upstream.until(() => upstream.listeners('R') === 1, 'the subscription');
    for (const price of [1, 2, 3]) upstream.publish('R', { symbol: 'R', price });
    await first.until((raw) => prices(raw).length === 3, 'three events');
    const id = lastEventId(first.raw)!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}[0-9a-z]+$/);
    first.cut();
    // Missed while away (the object may not know yet that its client is gone).
    for (const price of [4, 5]) upstream.publish('R', { symbol: 'R', price });

    const again = await openCuttable(url('R'), { 'last-event-id': id });
    expect(again.status).toBe(200);
    expect(again.headers['subway-resume']).toBe('replayed');
    await again.until((raw) => prices(raw).length === 2, 'the two missed events');
    upstream.publish('R', { symbol: 'R', price: 6 });
    await again.until((raw) => prices(raw).length === 3, 'the live event');
    expect(prices(first.raw)).toEqual([1, 2, 3]);
    expect(prices(again.raw)).toEqual([4, 5, 6]);
    expect(parseEvents(again.raw).map((e) => e.event)).toEqual(['next', 'next', 'next']);
    // One upstream socket and one subscription all along: the reconnect reached the object it lingered in.
    expect(upstream.connections).toBe(1);
    expect(subscribes(upstream)).toHaveLength(1);
    // The objects' figures in the Worker's /metrics: the resume counted (reported within a second).
    const deadline = Date.now() + 5000;
    let metrics = '';
    while (!metrics.includes('subway_resumes_total{outcome="replayed"} 1') && Date.now() < deadline) {
      metrics = await (await fetch(`${worker.url}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metrics).toContain('subway_resumes_total{outcome="replayed"} 1\nsubway_resumes_total{outcome="gap"} 0\n');

    // Leaving for good: the subscription lingers for the window, then is completed and its socket closed.
    const left = Date.now();
    again.cut();
    await upstream.until(() => upstream.sockets === 0, 'the socket to close after the window');
    const tookMs = Date.now() - left;
    expect(tookMs).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(tookMs).toBeLessThan(WINDOW_MS + IDLE_MS + 1000);
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
  });

  it('says a gap for an id it cannot honour (unknown, other credentials, evicted by the bounds), and never replays across credentials', async () => {
    const upstream = await startUpstream({ port, byCredential: true });
    const alice = await openCuttable(url('G'), { authorization: 'Bearer alice' });
    await upstream.until(() => upstream.listeners(credentialTopic('Bearer alice', 'G')) === 1, "alice's subscription");
    upstream.publish(credentialTopic('Bearer alice', 'G'), { symbol: 'G', price: 1 });
    await alice.until((raw) => prices(raw).length === 1, 'an event');
    const id = lastEventId(alice.raw)!;

    // Not an id of any object's.
    const unknown = await openCuttable(url('G'), { authorization: 'Bearer alice', 'last-event-id': 'AAAAAAAAAAAAAAAAAAAAAA0' });
    expect(unknown.headers['subway-resume']).toBe('gap');
    await unknown.until((raw) => parseEvents(raw).length === 1, 'the gap event');
    expect(parseEvents(unknown.raw)[0]).toEqual({ event: 'next', data: GAP });

    // Alice's id with Bob's credentials: a gap, and nothing of Alice's.
    upstream.publish(credentialTopic('Bearer alice', 'G'), { symbol: 'G', price: 2 });
    const bob = await openCuttable(url('G'), { authorization: 'Bearer bob', 'last-event-id': id });
    expect(bob.headers['subway-resume']).toBe('gap');
    await upstream.until(() => upstream.listeners(credentialTopic('Bearer bob', 'G')) === 1, "bob's own subscription");
    upstream.publish(credentialTopic('Bearer bob', 'G'), { symbol: 'G', price: 100 });
    await bob.until((raw) => prices(raw).length === 1, "bob's event");
    expect(parseEvents(bob.raw).map((e) => e.data)).toEqual([GAP, tick('G', 100)]);

    // More missed than RESUME_MAX_EVENTS (5) keeps: a gap, then live.
    alice.cut();
    for (let price = 3; price <= 10; price++) upstream.publish(credentialTopic('Bearer alice', 'G'), { symbol: 'G', price });
    await new Promise((r) => setTimeout(r, 100));
    const topic = credentialTopic('Bearer alice', 'G');
    const listening = upstream.listeners(topic);
    const late = await openCuttable(url('G'), { authorization: 'Bearer alice', 'last-event-id': id });
    expect(late.headers['subway-resume']).toBe('gap');
    // A fresh subscription of its own in `off` and `connection` modes; in `subscription` mode it joins the one still running.
    if (mode !== 'subscription') await upstream.until(() => upstream.listeners(topic) > listening, 'the fresh subscription');
    upstream.publish(credentialTopic('Bearer alice', 'G'), { symbol: 'G', price: 11 });
    await late.until((raw) => prices(raw).includes(11), 'the live event');
    expect(parseEvents(late.raw)[0]!.data).toBe(GAP);
    expect(prices(late.raw)).toEqual([11]);
    expect(prices(alice.raw)).toEqual([1, 2].slice(0, prices(alice.raw).length));
    for (const s of [unknown, bob, late]) s.cut();
  });
});

describe('RESUME_WINDOW_MS on workerd across a restart', () => {
  it('says a gap to a client whose object a deploy restarted, then serves it fresh', async () => {
    const port = await freePort();
    const upstream = await startUpstream({ port });
    const vars = { UPSTREAM_URL: upstream.url, UPSTREAM_SHARING: 'subscription', RESUME_WINDOW_MS: '60000', HEARTBEAT_MS: '100' };
    const folder = await registeredFolder();
    const before = await startWorker(folder, vars, { keep: true });
    const url = `${before.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'D' } })}`;
    const first = await openCuttable(url);
    await upstream.until(() => upstream.listeners('D') === 1, 'the subscription');
    upstream.publish('D', { symbol: 'D', price: 1 });
    await first.until((raw) => prices(raw).length === 1, 'an event');
    const id = lastEventId(first.raw)!;
    // A deploy: every object of the old version goes, with what it kept; the new version answers on the same address.
    await before[Symbol.asyncDispose]();
    await upstream.until(() => upstream.sockets === 0, 'the old object to be gone');
    await startWorker(folder, vars, { port: Number(new URL(before.url).port) });
    const again = await openCuttable(url, { 'last-event-id': id });
    expect(again.headers['subway-resume']).toBe('gap');
    await upstream.until(() => upstream.listeners('D') === 1, 'a fresh subscription');
    upstream.publish('D', { symbol: 'D', price: 2 });
    await again.until((raw) => prices(raw).length === 1, 'the live event');
    expect(parseEvents(again.raw).map((e) => e.data)).toEqual([GAP, tick('D', 2)]);
    again.cut();
  });
});
