/**
 * A stream's event budget on workerd (`MAX_STREAM_EVENTS`, docs/workers.md
 * "CPU per event"): a stream the Worker writes itself spends the request's
 * CPU event by event, so it ends with a short `retry:` after the events its
 * default budget allows (200: the Free plan's 10 ms at the measured cost per
 * event), before the platform would cut it. The upstream subscription of the
 * ended stream is completed (its socket closed), as when a client leaves.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/core/defaults.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { lastEventId, openCuttable } from '../fixtures/resume.ts';
import { openSse, parseEvents, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { startWorker } from '../fixtures/worker.ts';

describe('the stream event budget on workerd', () => {
  it(`ends a stream the Worker writes itself with a short retry: after its ${DEFAULTS.workerMaxStreamEvents}th event by default`, async () => {
    const upstream = await startUpstream();
    const worker = await startWorker(await registeredFolder(), { UPSTREAM_URL: upstream.url, HEARTBEAT_MS: '0' });
    const stream = await openSse(`${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'B' } })}`);
    await upstream.until(() => upstream.listeners('B') === 1, 'the subscription');
    const max = DEFAULTS.workerMaxStreamEvents;
    // One more than the budget: the last is never written.
    for (let i = 1; i <= max + 1; i++) upstream.publish('B', { symbol: 'B', price: i });
    const raw = await stream.done();
    const events = parseEvents(raw);
    expect(events).toHaveLength(max);
    expect(events.every((e) => e.event === 'next')).toBe(true);
    expect(events.at(-1)!.data).toBe(`{"data":{"ticks":{"symbol":"B","price":${max}}}}`);
    // The end: a comment saying why, and a retry: below DEFAULTS.streamBudgetRetryMs, no `complete`.
    const tail = raw.slice(raw.lastIndexOf('\n\n', raw.length - 3) + 2);
    expect(tail).toMatch(/^: stream event budget reached\nretry: (\d+)\n\n$/);
    expect(Number(/retry: (\d+)/.exec(tail)![1])).toBeLessThan(DEFAULTS.streamBudgetRetryMs);
    expect(raw).not.toContain('event: complete');
    // The upstream subscription ends with the stream.
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
  });

  it('follows MAX_STREAM_EVENTS, and 0 lifts the bound', async () => {
    const upstream = await startUpstream();
    const three = await startWorker(await registeredFolder(), { UPSTREAM_URL: upstream.url, HEARTBEAT_MS: '0', MAX_STREAM_EVENTS: '3' });
    const unbounded = await startWorker(await registeredFolder(), { UPSTREAM_URL: upstream.url, HEARTBEAT_MS: '0', MAX_STREAM_EVENTS: '0' });
    const url = (origin: string) => `${origin}/graphql${query({ id: 'Ticks', variables: { symbol: 'M' } })}`;
    const short = await openSse(url(three.url));
    const long = await openSse(url(unbounded.url));
    await upstream.until(() => upstream.listeners('M') === 2, 'both subscriptions');
    for (let i = 1; i <= DEFAULTS.workerMaxStreamEvents + 5; i++) upstream.publish('M', { symbol: 'M', price: i });
    expect(parseEvents(await short.done()).map((e) => e.data)).toEqual([1, 2, 3].map((i) => `{"data":{"ticks":{"symbol":"M","price":${i}}}}`));
    await long.until((raw) => raw.includes(`"price":${DEFAULTS.workerMaxStreamEvents + 5}}`), 'every event');
    expect(long.ended).toBe(false);
    upstream.finish('M');
    expect(parseEvents(await long.done())).toHaveLength(DEFAULTS.workerMaxStreamEvents + 6);
  });

  it('with resume on, the reconnect after the budget continues after its last event: nothing lost, nothing twice', async () => {
    const upstream = await startUpstream();
    const worker = await startWorker(await registeredFolder(), { UPSTREAM_URL: upstream.url, HEARTBEAT_MS: '0', RESUME_WINDOW_MS: '60000', MAX_STREAM_EVENTS: '3' });
    const url = `${worker.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'K' } })}`;
    const pricesOf = (raw: string) => parseEvents(raw).filter((e) => e.event === 'next').map((e) => JSON.parse(e.data).data.ticks.price as number);
    const first = await openCuttable(url);
    await upstream.until(() => upstream.listeners('K') === 1, 'the subscription');
    // Published at once: the first response carries three, the rest wait in the object's buffer for the reconnect.
    for (let i = 1; i <= 8; i++) upstream.publish('K', { symbol: 'K', price: i });
    const one = await first.done();
    expect(pricesOf(one)).toEqual([1, 2, 3]);
    expect(one).toMatch(/: stream event budget reached\nretry: \d+\n\n$/);
    // The reconnect replays all it missed (a replay is whole), and having carried its budget, ends again.
    const second = await openCuttable(url, { 'last-event-id': lastEventId(one)! });
    expect(second.headers['subway-resume']).toBe('replayed');
    const two = await second.done();
    expect(pricesOf(two)).toEqual([4, 5, 6, 7, 8]);
    expect(two).toMatch(/: stream event budget reached\nretry: \d+\n\n$/);
    // Nothing missed since: the next response is live.
    const third = await openCuttable(url, { 'last-event-id': lastEventId(two)! });
    expect(third.headers['subway-resume']).toBe('replayed');
    upstream.publish('K', { symbol: 'K', price: 9 });
    expect(pricesOf(await third.until((raw) => raw.includes('"price":9}'), 'the live event'))).toEqual([9]);
    // One upstream subscription served every response.
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
    third.cut();
  });
});
