/**
 * The HTTP contract on the Worker, running in workerd (wrangler's
 * programmatic dev server): the same suite as the Node server's, plus what
 * only a Worker has.
 */
import { describe, expect, it } from 'vitest';
import { conformanceSuite } from '../conformance/suite.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { startWorker } from '../fixtures/worker.ts';

describe('worker (workerd)', () => {
  conformanceSuite('worker');

  it.each([
    ['without UPSTREAM_URL', { UPSTREAM_URL: '' }],
    ['with a bad UPSTREAM_PROTOCOL', { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', UPSTREAM_PROTOCOL: 'graphql-ws' }],
  ])('%s answers 500 with a generic error; the log says what to fix', async (_, vars) => {
    const worker = await startWorker(await registeredFolder(), vars);
    const res = await fetch(`${worker.url}/graphql?id=Ticks&variables=%7B%22symbol%22%3A%22A%22%7D`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });

  it('serves UPSTREAM_SHARING=off without a Durable Object binding: each request its own upstream socket, as before objects', async () => {
    const upstream = await startUpstream();
    const worker = await startWorker(await registeredFolder(), { UPSTREAM_URL: upstream.url, UPSTREAM_SHARING: 'off', HEARTBEAT_MS: '50' }, { withoutObjects: true });
    const streams = await Promise.all([1, 2].map(() => openSse(`${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'W' } })}`)));
    await upstream.until(() => upstream.listeners('W') === 2, 'two upstream subscriptions');
    expect(upstream.sockets).toBe(2);
    upstream.publish('W', { symbol: 'W', price: 1 });
    for (const s of streams) await s.until((raw) => raw.includes('"price":1'));
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0, 'the sockets to close');
  });
});
