/**
 * One connection must not starve the gateway. A raw HTTP/2 client advertises
 * a zero flow-control window (the gateway can send it no DATA at all) and
 * opens a thousand streams at once on each of eight connections, to an
 * operation whose results are 32 KiB each, and never reads. Against `npm
 * start` in its own process, default settings, a 256 MiB heap
 * (--max-old-space-size): each connection gets 128 streams and the rest are
 * refused; the streams' queues and what their responses buffer stay within
 * the queue budget (a quarter of the heap), the streams holding the most are
 * ended first, and the process stays up, answering, under a stated bound of
 * resident memory measured from /proc.
 */
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../fixtures/gateway-process.ts';
import { connectRawH2, REFUSED_STREAM, type RawH2 } from '../fixtures/raw-h2.ts';
import { connectHttp2, openSseHttp2, query } from '../fixtures/sse.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const CONNECTIONS = 8;
const STREAMS_PER_CONNECTION = 1000;
const MAX_CONCURRENT = 128;
const EVENT_BYTES = 32 * 1024;
const EVENTS = 5;
/**
 * Peak resident memory allowed, in MiB: the heap V8 may grow to (~290 MiB with
 * a 256 MiB old space), what the responses buffer off the heap (within the
 * queue budget, ~72 MiB), and the process at rest (~120 MiB). Measured: 440 to
 * 490 MiB. Before the budget and the stream cap, 3,000 such streams took 2.3 GB
 * and a little more ended in "FATAL ERROR: Reached heap limit".
 */
const PEAK_BOUND_MIB = 600;

describe('a flood of streams that never read', () => {
  it(`${CONNECTIONS} zero-window connections of ${STREAMS_PER_CONNECTION} streams: 128 each, memory bounded, still serving`, async () => {
    const upstream = await startUpstream();
    const gw = await startGatewayProcess(upstream.url, {}, '--max-old-space-size=256');
    const before = gw.memory();
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'FLOOD' } })}`;
    const clients: RawH2[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const client = await connectRawH2(gw.port, { initialWindowSize: 0 });
      client.open(path, STREAMS_PER_CONNECTION);
      clients.push(client);
    }
    for (const c of clients) await c.until(() => c.responses.size + c.resets.size >= STREAMS_PER_CONNECTION, 'every stream answered or refused');
    for (const c of clients) {
      expect([...c.responses.values()].filter((b) => b === 0x88)).toHaveLength(MAX_CONCURRENT); // :status 200
      expect([...c.resets.values()].filter((code) => code === REFUSED_STREAM)).toHaveLength(STREAMS_PER_CONNECTION - MAX_CONCURRENT);
      expect(c.dataBytes).toBe(0);
    }
    await upstream.until(() => upstream.listeners('FLOOD') === CONNECTIONS * MAX_CONCURRENT, 'every accepted stream subscribed');

    // Large results: more than any stream may hold (what its response buffers, 64 KiB, then its queue, 64 KiB).
    const symbol = 'x'.repeat(EVENT_BYTES);
    for (let i = 0; i < EVENTS; i++) upstream.publish('FLOOD', { symbol, price: i });
    // The gateway ends every stalled stream (and so its upstream subscription), however long the backlog takes.
    const deadline = Date.now() + 40_000;
    while (upstream.listeners('FLOOD') > 0) {
      if (Date.now() > deadline) throw new Error(`the gateway never ended the stalled streams (${upstream.listeners('FLOOD')} left)`);
      await upstream.until(() => upstream.listeners('FLOOD') === 0, 'every stalled stream ended').catch(() => {});
    }
    const after = gw.memory();
    // Each stream's end is logged (LOG_STREAMS, on by default): wait for every line to arrive.
    const reasons: Record<string, number> = {};
    const ends = () => [...gw.cli.stdout.matchAll(/"msg":"stream end".*?"reason":"([a-z-]+)"/g)];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${ends().length} stream end lines`)), 10_000);
      const check = () => {
        if (ends().length < CONNECTIONS * MAX_CONCURRENT) return;
        clearTimeout(timer);
        gw.cli.child.stdout!.off('data', check);
        resolve();
      };
      gw.cli.child.stdout!.on('data', check);
      check();
    });
    for (const m of ends()) reasons[m[1]!] = (reasons[m[1]!] ?? 0) + 1;
    const resets: Record<number, number> = {};
    for (const c of clients) for (const code of c.resets.values()) resets[code] = (resets[code] ?? 0) + 1;
    const metrics = await new Promise<string>((resolve) => {
      const s = connectHttp2(gw.url).request({ ':path': '/metrics' });
      let t = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => (t += c));
      s.on('end', () => resolve(t));
    });
    const heap = /^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1];
    const external = /^nodejs_external_memory_bytes (\S+)/m.exec(metrics)?.[1];
    onTeardown(() => console.log(JSON.stringify({ before, after, reasons, resets, heapMiB: Number(heap) / 2 ** 20, externalMiB: Number(external) / 2 ** 20 })));
    expect(reasons).toEqual({ 'slow-consumer': CONNECTIONS * MAX_CONCURRENT });

    expect(gw.alive).toBe(true);
    expect(after.peakMiB).toBeLessThan(PEAK_BOUND_MIB);
    // Still answering: a health check, and a new subscription that gets its events.
    const session = connectHttp2(gw.url);
    const health = await openSseHttp2(session, '/healthz');
    expect(await health.done()).toBe('{"status":"ok"}');
    const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'AFTER' } })}`);
    await upstream.until(() => upstream.listeners('AFTER') === 1, 'a new subscription');
    upstream.publish('AFTER', { symbol: 'AFTER', price: 1 });
    await sse.until((raw) => raw.includes('"price":1'));
    for (const c of clients) c.destroy();
  }, 90_000);
});
