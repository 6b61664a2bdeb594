/**
 * Sharing on Cloudflare Workers (docs/workers.md, "Sharing and resuming"):
 * the Worker hands subscriptions to the `SubwayHub` Durable Object of their
 * key, on workerd, against a real graphql-ws server counting its sockets and
 * subscriptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFolder } from '../fixtures/gateway.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { freePort } from '../fixtures/ports.ts';
import { startWorker, type TestWorker } from '../fixtures/worker.ts';

const subscribes = (upstream: TestUpstream) => upstream.received.filter((m) => m.type === 'subscribe');
const tick = (symbol: string, price: number) => `event: next\ndata: {"data":{"ticks":{"symbol":"${symbol}","price":${price}}}}\n\n`;

describe('UPSTREAM_SHARING=subscription on workerd', () => {
  let worker: TestWorker;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    worker = await startWorker(await registeredFolder(), { UPSTREAM_URL: `ws://127.0.0.1:${port}/graphql`, UPSTREAM_SHARING: 'subscription', HEARTBEAT_MS: '50' }, { keep: true });
  });
  afterAll(() => worker?.[Symbol.asyncDispose]());

  it('serves N subscribers of one key, from separate requests, over 1 upstream socket and 1 upstream subscription', async () => {
    const upstream = await startUpstream({ port });
    const streams = await Promise.all(Array.from({ length: 5 }, () => openSse(`${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'N' } })}`)));
    await upstream.until(() => upstream.listeners('N') === 1, 'the subscription');
    upstream.publish('N', { symbol: 'N', price: 1 });
    for (const s of streams) await s.until((raw) => raw.includes('"price":1'));
    expect(upstream.sockets).toBe(1);
    expect(upstream.connections).toBe(1);
    expect(subscribes(upstream)).toHaveLength(1);
    upstream.finish('N');
    for (const s of streams) expect((await s.done()).replace(/^(:\n\n)+/, '')).toBe(`${tick('N', 1)}event: complete\ndata:\n\n`);
    await upstream.until(() => upstream.sockets === 0, 'the socket to close');
  });
});
