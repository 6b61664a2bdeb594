/**
 * Churn: hundreds of connect/abort cycles, aborted at every stage (before the
 * head, right after it, once the upstream subscription runs, mid-stream),
 * over HTTP/1.1 and HTTP/2. Afterwards the upstream holds no socket and the
 * gateway counts no stream, no upstream connection and no limit slot.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { connectHttp2, openSse, openSseHttp2, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { poll } from '../fixtures/waiter.ts';
import { SHARING_MODES, type SharingMode } from '../../src/core/upstream/pool.ts';

const CYCLES = 300;
const BATCH = 25;

/**
 * Each sharing mode (a shared socket closes as soon as it is idle here). In
 * `subscription` mode the streams go to five subscriptions, so streams join
 * and leave shared ones at every stage.
 */
const sharing = (mode: SharingMode) => ({ sharing: mode, idleMs: 0 });
const symbolOf = (mode: SharingMode, prefix: string, i: number) => (mode === 'subscription' ? `${prefix}${i % 5}` : `${prefix}${i}`);

describe.each(SHARING_MODES)('churn, UPSTREAM_SHARING=%s', (mode) => {
  it(`${CYCLES} HTTP/1.1 connect/abort cycles leave nothing behind`, async () => {
    const upstream = await startUpstream();
    // A tight total limit: a leaked slot would show as a 429 in a later batch.
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxSubscriptions: BATCH, maxSubscriptionsPerClient: BATCH, upstream: sharing(mode) });
    for (let start = 0; start < CYCLES; start += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, j) => {
          const i = start + j;
          const symbol = symbolOf(mode, 'C', i);
          const url = `${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`;
          switch (i % 4) {
            case 0: {
              // Aborted before the head arrives.
              const controller = new AbortController();
              const pending = fetch(url, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
              controller.abort();
              await pending.catch(() => {});
              return;
            }
            case 1: {
              // Aborted right after the head, before or while the upstream connects.
              const sse = await openSse(url);
              expect(sse.status).toBe(200);
              sse.abort();
              return;
            }
            case 2: {
              // Aborted once the upstream subscription runs.
              const sse = await openSse(url);
              await upstream.until(() => upstream.listeners(symbol) === 1, `subscription ${symbol}`);
              sse.abort();
              return;
            }
            default: {
              // Aborted mid-stream.
              const sse = await openSse(url);
              await upstream.until(() => upstream.listeners(symbol) === 1, `subscription ${symbol}`);
              upstream.publish(symbol, { symbol, price: i });
              await sse.until((raw) => raw.includes(`"price":${i}`));
              sse.abort();
            }
          }
        }),
      );
      await upstream.until(() => upstream.sockets === 0, `batch ${start}'s sockets to close`);
      await poll(() => gw.gateway.stats().streams === 0, `batch ${start} to be torn down`);
    }
    expect(upstream.sockets).toBe(0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0 });
    // Every slot is free again: a full batch opens.
    const last = await Promise.all(Array.from({ length: BATCH }, (_, i) => openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: `L${i}` } })}`)));
    expect(last.map((s) => s.status)).toEqual(Array(BATCH).fill(200));
  });

  it('200 HTTP/2 stream resets on one session leave nothing behind', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, tls: await testCertificate(), upstream: sharing(mode) });
    const session = connectHttp2(gw.url);
    for (let start = 0; start < 200; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const symbol = symbolOf(mode, 'H', start + j);
          const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol } })}`);
          if (j % 2 === 0) await upstream.until(() => upstream.listeners(symbol) === 1, `subscription ${symbol}`);
          sse.stream.close(http2.constants.NGHTTP2_CANCEL);
        }),
      );
    }
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket to close');
    await poll(() => gw.gateway.stats().streams === 0, 'every stream to end');
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(gw.gateway.sharingStats()).toMatchObject({ upstreamSockets: 0, upstreamSubscriptions: 0, subscribers: 0 });
  });
});

describe('churn', () => {
  it('a client that leaves while the upstream connection is still being made, which then fails, crashes nothing', async () => {
    // A TCP server that takes the upgrade request and never answers it.
    const pending = new Set<net.Socket>();
    let connected!: () => void;
    const arrived = new Promise<void>((resolve) => (connected = resolve));
    const hang = net.createServer((socket) => {
      pending.add(socket);
      connected();
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    onTeardown(() => new Promise((resolve) => hang.close(resolve)));
    const { port } = hang.address() as net.AddressInfo;
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    onTeardown(() => process.off('unhandledRejection', onUnhandled));

    const gw = await startGateway(`ws://127.0.0.1:${port}/graphql`, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
    await arrived;
    sse.abort();
    await new Promise<void>((resolve) => {
      const check = () => (gw.gateway.stats().streams === 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    // The attempt the gateway gave up on now fails.
    for (const s of pending) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
