/**
 * Resume from the client's side (docs/resume.md), with real EventSource
 * clients (the `eventsource` package) against a real gateway and upstream:
 * connections cut under them by a TCP proxy, EventSource's own reconnects
 * (`Last-Event-ID`), the client's own reopening (`lastEventId` in the URL),
 * and the gap said to `gap()` rather than passed to `next`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { isGap, subscribe, type EventSourceConstructor, type ExecutionResult } from '../../src/client/index.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startTcpProxy } from '../fixtures/resume.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { poll } from '../fixtures/waiter.ts';

/**
 * The `eventsource` package, told by its stream to come back after 10 ms
 * rather than its default 3 s (a `retry:` line put before the gateway's
 * bytes), so a test of many reconnects stays short.
 */
class QuickEventSource extends EventSource {
  constructor(url: string | URL, init?: { withCredentials?: boolean }) {
    super(url, {
      ...init,
      fetch: async (input, fetchInit) => {
        const response = await fetch(input, fetchInit);
        if (!response.body || response.status !== 200) return response;
        const prefix = new TextEncoder().encode('retry: 10\n\n');
        const body = response.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            start: (controller) => controller.enqueue(prefix),
          }),
        );
        return new Response(body, { status: response.status, headers: response.headers });
      },
    });
  }
}
const ES = QuickEventSource as unknown as EventSourceConstructor;

/** The prices a subscription's results carried, and what else it was told. */
function recorder() {
  const prices: number[] = [];
  const log: string[] = [];
  return {
    prices,
    log,
    sink: {
      next: (r: ExecutionResult) => {
        log.push('next');
        prices.push((r.data as { ticks: { price: number } }).ticks.price);
      },
      gap: () => log.push('gap'),
      complete: () => log.push('complete'),
      error: (e: Error) => log.push(`error ${e.message}`),
      open: () => log.push('open'),
    },
  };
}

describe('resume with real EventSource clients', () => {
  it('loses nothing and repeats nothing when a proxy cuts the connection under the `eventsource` package 20 times', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { resumeWindowMs: 60_000, heartbeatMs: 0 });
    const proxy = await startTcpProxy(gw.node.port);
    const rec = recorder();
    const stop = subscribe('Ticks', { symbol: 'E' }, rec.sink, { url: `http://127.0.0.1:${proxy.port}/graphql`, EventSource: ES });
    onTeardown(stop);
    await upstream.until(() => upstream.listeners('E') === 1, 'the upstream subscription');
    let published = 0;
    for (let cut = 0; cut < 20; cut++) {
      const connections = proxy.connections;
      for (let i = 0; i < 5; i++) upstream.publish('E', { symbol: 'E', price: ++published });
      // Cut while some of the round's events are still on their way (after the first of them arrived).
      await poll(() => rec.prices.length > published - 5, `tick ${published - 4}`);
      proxy.cut();
      for (let i = 0; i < 3; i++) upstream.publish('E', { symbol: 'E', price: ++published });
      await poll(() => proxy.connections > connections && rec.prices.length === published, `the reconnect and tick ${published}`);
    }
    expect(rec.prices).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(rec.log.filter((e) => e !== 'next' && e !== 'open')).toEqual([]);
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
  }, 20_000);

  it('says a gap to gap() (not to next) when the gateway cannot resume, then streams live', async () => {
    const upstream = await startUpstream();
    const first = await startGateway(upstream.url, { resumeWindowMs: 60_000, heartbeatMs: 0 });
    const second = await startGateway(upstream.url, { resumeWindowMs: 60_000, heartbeatMs: 0 });
    // One proxy whose target the test switches: the client comes back to "another instance", as behind a load balancer.
    let target = first.node.port;
    const proxy = await startSwitchingProxy(() => target);
    const rec = recorder();
    subscribe('Ticks', { symbol: 'G' }, rec.sink, { url: `${proxy.url}/graphql`, EventSource: ES });
    await upstream.until(() => upstream.listeners('G') === 1, 'the upstream subscription');
    upstream.publish('G', { symbol: 'G', price: 1 });
    await poll(() => rec.prices.length === 1, 'the first tick');
    target = second.node.port;
    proxy.cut();
    await upstream.until(() => upstream.listeners('G') === 2, 'the second instance’s subscription');
    await poll(() => rec.log.includes('gap'), 'the gap');
    upstream.publish('G', { symbol: 'G', price: 2 });
    await poll(() => rec.prices.length === 2, 'the live tick');
    expect(rec.prices).toEqual([1, 2]);
    expect(rec.log).toEqual(['open', 'next', 'open', 'gap', 'next']);
    expect(isGap({ extensions: { subway: { gap: true } } })).toBe(true);
    expect(isGap({ data: null, extensions: { subway: { gap: true } } })).toBe(false);
  });

  it('continues after the last event when it reopens a source itself (after a 503), by the lastEventId parameter', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { resumeWindowMs: 60_000, heartbeatMs: 0 });
    let refuse = 0;
    const proxy = await startSwitchingProxy(() => gw.node.port, () => refuse-- > 0);
    const rec = recorder();
    subscribe('Ticks', { symbol: 'F' }, rec.sink, { url: `${proxy.url}/graphql`, EventSource: ES, retryMs: 10 });
    await upstream.until(() => upstream.listeners('F') === 1, 'the upstream subscription');
    upstream.publish('F', { symbol: 'F', price: 1 });
    await poll(() => rec.prices.length === 1, 'the first tick');
    // EventSource's reconnect and the client's probe are refused: the client opens a new source.
    refuse = 2;
    proxy.cut();
    upstream.publish('F', { symbol: 'F', price: 2 });
    await poll(() => rec.prices.length === 2, 'the missed tick');
    const urls = proxy.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('lastEventId'));
    expect(urls[0]).toBeNull();
    expect(urls.at(-1)).toMatch(/^[A-Za-z0-9_-]{22}1$/);
    expect(rec.prices).toEqual([1, 2]);
    expect(rec.log).not.toContain('gap');
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
  });
});

/**
 * An HTTP/1.1 proxy in front of a gateway port chosen per request, which can
 * refuse a request with a 503 (`Retry-After: 0`) and cut every connection.
 */
async function startSwitchingProxy(port: () => number, refuse: () => boolean = () => false) {
  const requests: { url: string; lastEventId: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', lastEventId: req.headers['last-event-id'] as string | undefined });
    if (refuse()) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"errors":[{"message":"Try again.","extensions":{"code":"SHUTTING_DOWN"}}]}');
      return;
    }
    const forward = http.request({ host: '127.0.0.1', port: port(), path: req.url, method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTeardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    cut: () => server.closeAllConnections(),
  };
}
