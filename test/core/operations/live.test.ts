/**
 * The live list over real HTTP: bundle servers with ETags, the core's URL
 * source on the platform's fetch. The clock is injected where the test is
 * about ages (a Worker's `ensureFresh`), so nothing waits on wall time but
 * the load deadlines.
 */
import { describe, expect, it } from 'vitest';
import type { OperationSourceEvent } from '../../../src/core/observability/instrumentation.ts';
import { createLiveOperations, type LiveOperationsOptions } from '../../../src/core/operations/live.ts';
import type { Registry } from '../../../src/core/operations/registry.ts';
import { createBundleVerifier } from '../../../src/core/operations/signature.ts';
import { createUrlSource } from '../../../src/core/operations/url-source.ts';
import { bundleText, OPERATIONS } from '../../fixtures/bundle.ts';
import { startBundleServer } from '../../fixtures/bundle-server.ts';
import { onTeardown } from '../../fixtures/leftovers.ts';

const { Ticks, Hello, Bump, Greetings } = OPERATIONS;
const verifier = createBundleVerifier([]);
const names = (registry: Registry) => registry.operations.map((o) => o.name).sort();

function live(urls: string[], options: Partial<LiveOperationsOptions> = {}) {
  const events: OperationSourceEvent[] = [];
  const swaps: Registry[] = [];
  const list = createLiveOperations({
    sources: urls.map((url) => createUrlSource(url, { verifier })),
    onEvent: (e) => events.push(e),
    onSwap: (r) => swaps.push(r),
    ...options,
  });
  onTeardown(() => list.close());
  return { list, events, swaps };
}

describe('the live list', () => {
  it('loads every source, merged; polls with If-None-Match and swaps only a new version', async () => {
    const web = await startBundleServer(await bundleText({ Ticks }));
    const admin = await startBundleServer(await bundleText({ Bump }));
    const { list, events, swaps } = live([web.url, admin.url]);
    expect(await list.loadAll()).toEqual({ loaded: [web.url, admin.url], failures: [] });
    expect(names(list.registry)).toEqual(['Bump', 'Ticks']);
    expect(swaps).toEqual([list.registry]);

    await list.refresh();
    expect(web.requests.map((r) => [r.status, r.headers['if-none-match'], r.headers['if-modified-since']])).toEqual([
      [200, undefined, undefined],
      [304, expect.stringMatching(/^"[0-9a-f]{16}"$/), 'Thu, 01 Jan 2026 00:00:01 GMT'],
    ]);
    expect(swaps).toHaveLength(1);

    web.set(await bundleText({ Ticks, Greetings }));
    await list.refresh(web.url);
    expect(names(list.registry)).toEqual(['Bump', 'Greetings', 'Ticks']);
    expect(swaps).toHaveLength(2);
    const shown = events.map((e) => [e.outcome, e.source, e.total]);
    expect(shown.slice(0, 2)).toEqual([
      ['loaded', web.url, 2],
      ['loaded', admin.url, 2],
    ]);
    // The two polls ran side by side: in either order.
    expect(shown.slice(2, 4)).toHaveLength(2);
    expect(shown.slice(2, 4)).toEqual(expect.arrayContaining([['unchanged', web.url, 2], ['unchanged', admin.url, 2]]));
    expect(shown.slice(4)).toEqual([['loaded', web.url, 3]]);
  });

  it('keeps the last good list of a source that fails, and recovers on the next good poll', async () => {
    const web = await startBundleServer(await bundleText({ Ticks }));
    const { list, events } = live([web.url]);
    await list.loadAll();
    const good = list.registry;
    web.failWith(503);
    await list.refresh();
    web.failWith(undefined);
    web.set('{"format":"subway-operations-bundle",');
    await list.refresh();
    expect(list.registry).toBe(good);
    expect(list.status()).toEqual([{ source: web.url, ok: false, operations: 1, reason: 'invalid', error: expect.stringContaining(`${web.url}: not JSON`) }]);
    // The server takes the bad version back: the ETag of the served one answers 304, and the source is healthy again.
    web.set(await bundleText({ Ticks }));
    await list.refresh();
    expect(list.registry).toBe(good);
    expect(list.status()).toEqual([{ source: web.url, ok: true, operations: 1 }]);
    expect(events.slice(1).map((e) => (e.outcome === 'failed' ? [e.outcome, e.reason, e.error] : [e.outcome]))).toEqual([
      ['failed', 'unreachable', `${web.url}: answered HTTP 503`],
      ['failed', 'invalid', expect.stringContaining(`${web.url}: not JSON`)],
      ['unchanged'],
    ]);
  });

  it('refuses a new version that conflicts with another source, naming both, and keeps the last good', async () => {
    const web = await startBundleServer(await bundleText({ Ticks }));
    const admin = await startBundleServer(await bundleText({ Hello }));
    const { list, events } = live([web.url, admin.url]);
    await list.loadAll();
    admin.set(await bundleText({ Hello, Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { price }\n}\n' }));
    await list.refresh(admin.url);
    expect(names(list.registry)).toEqual(['Hello', 'Ticks']);
    expect(list.registry.resolve('Ticks')!.body).toBe(Ticks);
    const failed = events.at(-1) as Extract<OperationSourceEvent, { outcome: 'failed' }>;
    expect([failed.reason, failed.source]).toEqual(['conflict', admin.url]);
    expect(failed.error).toMatch(new RegExp(`^"Ticks" means different operations in ${web.url} \\(Ticks, [0-9a-f]{12}…\\) and ${admin.url} \\(Ticks, [0-9a-f]{12}…\\)$`));
    // At start, the later source of a conflicting pair is the one refused.
    const again = live([web.url, admin.url]);
    const report = await again.list.loadAll();
    expect(report.loaded).toEqual([web.url]);
    expect(report.failures).toEqual([{ source: admin.url, reason: 'conflict', error: failed.error }]);
  });

  it('bounds a load by its deadline: a source that never answers fails as unreachable', async () => {
    const web = await startBundleServer(await bundleText({ Ticks }));
    const { list, events } = live([web.url], { timeoutMs: 200 });
    await list.loadAll();
    web.hang();
    await list.refresh();
    expect(events.at(-1)).toEqual({ outcome: 'failed', source: web.url, reason: 'unreachable', error: `${web.url}: no answer within 200 ms`, total: 1 });
    expect(names(list.registry)).toEqual(['Ticks']);
  });

  describe('on a Worker (ensureFresh)', () => {
    it('refreshes before serving once the list is older than the poll interval, and never in between', async () => {
      const web = await startBundleServer(await bundleText({ Ticks }));
      let clock = 1_000_000;
      const { list } = live([web.url], { pollMs: 10_000, now: () => clock });
      const first = list.ensureFresh();
      expect(first).toBeInstanceOf(Promise);
      await first;
      expect(names(list.registry)).toEqual(['Ticks']);
      web.set(await bundleText({ Ticks, Hello }));
      clock += 9_999;
      expect(list.ensureFresh()).toBeUndefined();
      expect(web.requests).toHaveLength(1);
      clock += 1;
      await list.ensureFresh();
      expect(names(list.registry)).toEqual(['Hello', 'Ticks']);
      expect(web.requests).toHaveLength(2);
      // Many requests at once share one refresh.
      clock += 10_000;
      await Promise.all(Array.from({ length: 20 }, () => list.ensureFresh()));
      expect(web.requests).toHaveLength(3);
    });

    it('serves the fallback while no source answers at start, waiting at most the deadline; a later poll loads it', async () => {
      const web = await startBundleServer(await bundleText({ Ticks }));
      web.hang();
      let clock = 0;
      const fallback = createLiveOperations({ sources: [] }).registry;
      const { list } = live([web.url], { pollMs: 1000, timeoutMs: 150, fallback, now: () => clock });
      await list.ensureFresh();
      expect(list.registry).toBe(fallback);
      expect(list.loaded).toBe(false);
      // A failed round counts as a check: the next request does not wait again within the interval.
      expect(list.ensureFresh()).toBeUndefined();
      web.failWith(undefined);
      clock += 1000;
      await list.ensureFresh();
      expect(names(list.registry)).toEqual(['Ticks']);
      expect(list.loaded).toBe(true);
    });

    it('leaves a round stuck past its deadline behind and starts another', async () => {
      const web = await startBundleServer(await bundleText({ Ticks }));
      let clock = 0;
      // A source whose first load never settles, as when the request that started it was cancelled.
      let loads = 0;
      const url = createUrlSource(web.url, { verifier });
      const stuckOnce = { ...url, load: (served: never, signal: AbortSignal) => (loads++ === 0 ? new Promise<never>(() => {}) : url.load(served, signal)) };
      const list = createLiveOperations({ sources: [stuckOnce], pollMs: 1000, timeoutMs: 5000, now: () => clock, timers: { setTimeout: () => 0, clearTimeout: () => {} } });
      onTeardown(() => list.close());
      void list.ensureFresh();
      clock += 5000;
      await list.ensureFresh();
      expect(names(list.registry)).toEqual(['Ticks']);
      expect(loads).toBe(2);
    });
  });
});
