/** The process-wide budget of bytes held for clients that do not read. */
import { describe, expect, it } from 'vitest';
import { createQueueBudget } from '../../../src/core/limits/queue-budget.ts';
import { SLOW_CONSUMER_RESULT } from '../../../src/core/sse/stream.ts';
import { startGateway } from '../../fixtures/gateway.ts';
import { connectRawH2 } from '../../fixtures/raw-h2.ts';
import { query } from '../../fixtures/sse.ts';
import { testCertificate } from '../../fixtures/tls.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('createQueueBudget', () => {
  it('counts what accounts reserve and release, and forgets a closed account', async () => {
    const budget = createQueueBudget(1000);
    const a = budget.open(() => {});
    const b = budget.open(() => {});
    a.reserve(300);
    b.reserve(200);
    a.release(100);
    expect(budget.held).toBe(400);
    b.close();
    b.reserve(500);
    expect(budget.held).toBe(200);
    a.close();
    expect(budget.held).toBe(0);
    await tick();
    expect(budget.evictions).toBe(0);
  });

  it('past the budget, evicts the accounts holding the most first, until the total fits, in a microtask', async () => {
    const budget = createQueueBudget(1000);
    const evicted: string[] = [];
    const open = (name: string, bytes: number) => {
      const account = budget.open((force) => {
        evicted.push(`${name}${force ? '!' : ''}`);
        account.release(bytes);
      });
      account.reserve(bytes);
      return account;
    };
    open('small', 100);
    open('large', 500);
    open('medium', 300);
    expect(evicted).toEqual([]);
    open('last', 200); // 1100 > 1000
    expect(evicted).toEqual([]); // never inside the caller's reserve
    await tick();
    expect(evicted).toEqual(['large']);
    expect(budget.held).toBe(600);
    expect(budget.evictions).toBe(1);
  });

  it('forces an evicted account that still holds bytes (its client takes nothing), in the same round', async () => {
    const budget = createQueueBudget(1000);
    const calls: boolean[] = [];
    const stuck = budget.open((force) => {
      calls.push(force);
      // Asked politely, it drops its queue but keeps what the consumer holds; forced, it drops everything.
      stuck.release(force ? 1100 : 100);
    });
    stuck.reserve(1200);
    await tick();
    expect(calls).toEqual([false, true]);
    expect(budget.held).toBe(0);
  });

  it('a throwing evict is reported and does not stop the others', async () => {
    const errors: unknown[] = [];
    const budget = createQueueBudget(100, (err) => errors.push(err));
    const bad = budget.open(() => {
      throw new Error('boom');
    });
    const good = budget.open(() => good.close());
    bad.reserve(80);
    good.reserve(70);
    await tick();
    expect(errors).toHaveLength(2); // asked, then forced
    expect(budget.held).toBe(80);
  });
});

describe('the queue budget in a gateway (MAX_QUEUED_BYTES_TOTAL), against zero-window HTTP/2 streams', () => {
  const KiB = 1024;
  const event = (bytes: number, price: number) => ({ symbol: 'x'.repeat(bytes), price });

  async function setup(maxQueuedBytesTotal: number) {
    const upstream = await startUpstream();
    // Per-stream bounds out of the way: only the budget acts.
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate(), maxQueuedBytes: 64 * 1024 * KiB, maxQueuedEvents: 100_000, maxQueuedBytesTotal });
    const client = await connectRawH2(gw.node.port, { initialWindowSize: 0 });
    const open = async (symbol: string) => {
      const [id] = client.open(`/graphql${query({ id: 'Ticks', variables: { symbol } })}`);
      await upstream.until(() => upstream.listeners(symbol) === 1, `${symbol} subscribed`);
      return id!;
    };
    return { upstream, gw, client, open };
  }

  it('past the budget, ends the stream holding the most with SLOW_CONSUMER; the others go on', async () => {
    const { upstream, gw, client, open } = await setup(1024 * KiB);
    const a = await open('A');
    await open('B');
    await open('C');
    for (let i = 0; i < 20; i++) upstream.publish('A', event(32 * KiB, i)); // ~640 KiB
    for (let i = 0; i < 10; i++) upstream.publish('B', event(32 * KiB, i)); // ~320 KiB
    for (let i = 0; i < 4; i++) upstream.publish('C', event(32 * KiB, i)); // past 1 MiB in all
    await upstream.until(() => upstream.listeners('A') === 0, 'A ended upstream');
    expect(upstream.listeners('B')).toBe(1);
    expect(upstream.listeners('C')).toBe(1);
    expect(gw.gateway.stats().upstreamConnections).toBe(2);
    // A asked politely: what it had been handed stays, then the error. Let it read.
    client.windowUpdate(0, 16 * 1024 * KiB);
    client.windowUpdate(a, 16 * 1024 * KiB);
    await client.until(() => (client.data.get(a) ?? '').endsWith('event: complete\ndata:\n\n'), 'A to end');
    const text = client.data.get(a)!;
    expect(text.endsWith(`event: next\ndata: ${SLOW_CONSUMER_RESULT}\n\nevent: complete\ndata:\n\n`)).toBe(true);
    const prices = [...text.matchAll(/"price":(\d+)/g)].map((m) => Number(m[1]));
    expect(prices).toEqual(prices.map((_, i) => i)); // in order, no gap, cut before the end
    expect(prices.length).toBeLessThan(20);
    // B and C run on.
    upstream.publish('B', { symbol: 'B', price: 99 });
    expect(upstream.listeners('B')).toBe(1);
  });

  it('a stream whose response holds more than the budget by itself is dropped (RST_STREAM), its slot freed', async () => {
    const { upstream, gw, client, open } = await setup(256 * KiB);
    const big = await open('BIG');
    await open('SMALL');
    upstream.publish('BIG', event(512 * KiB, 1)); // handed to the response whole, which cannot send it
    await client.until(() => client.resets.has(big), 'BIG reset');
    await upstream.until(() => upstream.listeners('BIG') === 0, 'BIG ended upstream');
    expect(upstream.listeners('SMALL')).toBe(1);
    await upstream.until(() => gw.gateway.stats().streams === 1, 'the slot freed');
  });
});
