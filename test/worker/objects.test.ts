/**
 * Sharing on Cloudflare Workers (docs/workers.md, "Sharing and resuming"):
 * the Worker hands subscriptions to the `SubwayHub` Durable Object of their
 * key, on workerd, against a real graphql-ws server counting its sockets and
 * subscriptions; the objects' own figures come from the Worker's `/metrics`
 * (summed by the stats object).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFolder } from '../fixtures/gateway.ts';
import { openSse, query, type SseStream } from '../fixtures/sse.ts';
import { credentialTopic, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { freePort } from '../fixtures/ports.ts';
import { startWorker, type TestWorker } from '../fixtures/worker.ts';

const IDLE_MS = 200;
const subscribes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'subscribe');
const tick = (symbol: string, price: number) => `event: next\ndata: {"data":{"ticks":{"symbol":"${symbol}","price":${price}}}}\n\n`;
/** The events of a stream, heartbeat comments left out. */
const eventsOf = (raw: string) => raw.replace(/^:\n\n/gm, '');

/** The Worker's `/metrics` as name → value. */
async function metrics(worker: TestWorker): Promise<Record<string, number>> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]),
  );
}

/** Polls `/metrics` until `predicate` holds (the objects report within a second of a change). */
async function untilMetrics(worker: TestWorker, predicate: (m: Record<string, number>) => boolean, what: string): Promise<Record<string, number>> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const m = await metrics(worker);
    if (predicate(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; /metrics: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('UPSTREAM_SHARING=subscription on workerd', () => {
  let worker: TestWorker;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    worker = await startWorker(
      await registeredFolder(),
      {
        UPSTREAM_URL: `ws://127.0.0.1:${port}/graphql`,
        UPSTREAM_SHARING: 'subscription',
        UPSTREAM_IDLE_MS: String(IDLE_MS),
        FORWARD_HEADERS: 'authorization',
        HEARTBEAT_MS: '100',
      },
      { keep: true },
    );
  });
  afterAll(() => worker?.[Symbol.asyncDispose]());

  const open = (symbol: string, authorization?: string) =>
    openSse(`${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`, { headers: authorization ? { authorization } : {} });

  it('serves N subscribers of one key, from separate requests, over 1 upstream socket and 1 upstream subscription', async () => {
    const upstream = await startUpstream({ port });
    const streams = await Promise.all(Array.from({ length: 5 }, () => open('N')));
    await upstream.until(() => upstream.listeners('N') === 1, 'the subscription');
    upstream.publish('N', { symbol: 'N', price: 1 });
    for (const s of streams) await s.until((raw) => raw.includes('"price":1'));
    expect(upstream.sockets).toBe(1);
    expect(upstream.connections).toBe(1);
    expect(subscribes(upstream)).toHaveLength(1);
    const shared = await untilMetrics(worker, (m) => m.subway_subscribers === 5, 'the 5 streams in /metrics');
    expect(shared).toMatchObject({ subway_subscribers: 5, subway_upstream_subscriptions: 1, subway_upstream_sockets: 1, subway_hub_objects: 1 });
    upstream.finish('N');
    for (const s of streams) expect(eventsOf(await s.done())).toBe(`${tick('N', 1)}event: complete\ndata:\n\n`);
    await upstream.until(() => upstream.sockets === 0, 'the socket to close');
  });

  it('never shares across credentials: other credentials are another object, socket and subscription, and their events stay theirs', async () => {
    const upstream = await startUpstream({ port, byCredential: true });
    const alice = await Promise.all([open('C', 'Bearer alice'), open('C', 'Bearer alice')]);
    const bob = await Promise.all([open('C', 'Bearer bob'), open('C', 'Bearer bob')]);
    await upstream.until(() => upstream.listeners(credentialTopic('Bearer alice', 'C')) === 1 && upstream.listeners(credentialTopic('Bearer bob', 'C')) === 1, 'both subscriptions');
    expect(upstream.sockets).toBe(2);
    expect(subscribes(upstream)).toHaveLength(2);
    expect(upstream.upgrades.map((h) => h.authorization)).toEqual([undefined, undefined]);
    const inits = upstream.received.filter((m) => m.type === 'connection_init').map((m) => m.payload);
    expect(inits).toHaveLength(2);
    expect(inits).toEqual(expect.arrayContaining([{ headers: { authorization: 'Bearer alice' } }, { headers: { authorization: 'Bearer bob' } }]));
    await untilMetrics(worker, (m) => m.subway_subscribers === 4 && m.subway_hub_objects === 2, 'two objects of two streams each');

    upstream.publish(credentialTopic('Bearer alice', 'C'), { symbol: 'C', price: 1 });
    upstream.publish(credentialTopic('Bearer bob', 'C'), { symbol: 'C', price: 2 });
    for (const s of alice) await s.until((raw) => raw.includes('"price":1'));
    for (const s of bob) await s.until((raw) => raw.includes('"price":2'));
    upstream.finish(credentialTopic('Bearer alice', 'C'));
    upstream.finish(credentialTopic('Bearer bob', 'C'));
    for (const s of alice) expect(eventsOf(await s.done())).toBe(`${tick('C', 1)}event: complete\ndata:\n\n`);
    for (const s of bob) expect(eventsOf(await s.done())).toBe(`${tick('C', 2)}event: complete\ndata:\n\n`);
    await upstream.until(() => upstream.sockets === 0, 'both sockets to close');
  });

  it(`closes the upstream within UPSTREAM_IDLE_MS (${IDLE_MS} ms) plus a second of the last subscriber leaving, and leaves no socket or timer in any object`, async () => {
    const upstream = await startUpstream({ port });
    const streams: SseStream[] = await Promise.all(Array.from({ length: 3 }, () => open('L')));
    await upstream.until(() => upstream.listeners('L') === 1, 'the subscription');
    upstream.publish('L', { symbol: 'L', price: 1 });
    for (const s of streams) await s.until((raw) => raw.includes('"price":1'));

    // One leaving changes nothing upstream.
    streams[0]!.abort();
    await untilMetrics(worker, (m) => m.subway_subscribers === 2, 'the first stream to leave');
    expect(upstream.sockets).toBe(1);
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(0);

    // The last one leaving completes the subscription and closes the socket.
    const left = Date.now();
    streams[1]!.abort();
    streams[2]!.abort();
    await upstream.until(() => upstream.sockets === 0, 'the socket to close');
    const tookMs = Date.now() - left;
    expect(tookMs).toBeLessThan(IDLE_MS + 1000);
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
    expect(subscribes(upstream)).toHaveLength(1);

    // Nothing is left in any object: no stream, socket, subscription or timer (each can be evicted).
    const after = await untilMetrics(worker, (m) => m.subway_hub_objects === 0, 'every object to hold nothing');
    expect(after).toMatchObject({ subway_subscribers: 0, subway_upstream_subscriptions: 0, subway_upstream_sockets: 0, subway_hub_timers: 0, subway_hub_objects: 0 });
  });
});
