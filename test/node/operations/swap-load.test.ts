/**
 * Swapping the list under load: 500 streams open (half of them of an
 * operation that every other version removes), requests arriving all along,
 * and the list swapped 100 times from a real HTTP bundle server. No request
 * may fail and no stream may end. The streams share HTTP/2 sessions, as a
 * browser's would (500 HTTP/1.1 connections cost the test's own client more
 * CPU than the gateway). Loopback only, bounded in count; it waits on events
 * (the upstream's listener counts, each swap's poll).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../../src/core/config.ts';
import { startServer } from '../../../src/node/server.ts';
import { bundleText, OPERATIONS } from '../../fixtures/bundle.ts';
import { startBundleServer } from '../../fixtures/bundle-server.ts';
import { leftover } from '../../fixtures/leftovers.ts';
import { connectHttp2, openSseHttp2, query, type SseStream } from '../../fixtures/sse.ts';
import { tempFolder } from '../../fixtures/register.ts';
import { testCertificate } from '../../fixtures/tls.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const { Ticks, Orders, Hello } = OPERATIONS;
const STREAMS = 500;
const SWAPS = 100;

/** Version `n` of the list: always Ticks and Hello; Orders in even versions only; and one operation of its own. */
const version = (n: number) => bundleText({ Ticks, Hello, ...(n % 2 === 0 ? { Orders } : {}), [`V${n}`]: `query V${n} {\n  hello\n}\n` });

describe('swapping the list under load', () => {
  it(`swaps ${SWAPS} times while ${STREAMS} streams are open and requests arrive: no failed request, no stream ended`, async () => {
    const upstream = await startUpstream();
    const cdn = await startBundleServer(await version(0));
    const { cert, key } = await testCertificate();
    const tls = await tempFolder({ 'cert.pem': cert, 'key.pem': key });
    const server = leftover(
      await startServer(
        readConfig({
          UPSTREAM_URL: upstream.url,
          PORT: '0',
          HOST: '127.0.0.1',
          HEARTBEAT_MS: '0',
          TLS_CERT: join(tls, 'cert.pem'),
          TLS_KEY: join(tls, 'key.pem'),
          LOG_STREAMS: 'false',
          PERSISTED_OPERATIONS: cdn.url,
          // Every swap is an explicit poll (`sources.refresh()`), so the count is exact.
          PERSISTED_OPERATIONS_POLL_MS: '3600000',
        }),
        { log: () => {} },
      ),
    );
    const path = (params: Record<string, unknown>) => `/graphql${query(params)}`;
    const sessions = Array.from({ length: 5 }, () => connectHttp2(server.url));
    const streams: SseStream[] = await Promise.all(
      Array.from({ length: STREAMS }, (_, i) =>
        openSseHttp2(
          sessions[i % sessions.length]!,
          i % 2 === 0 ? path({ id: 'Ticks', variables: { symbol: 'LOAD' } }) : path({ id: 'Orders', variables: { filter: { symbols: ['LOAD'] } } }),
        ),
      ),
    );
    expect(streams.map((s) => s.status)).toEqual(Array(STREAMS).fill(200));
    const allUpstream = () => upstream.listeners('LOAD') === STREAMS / 2 && upstream.listeners('orders') === STREAMS / 2;
    // 500 upstream handshakes: on a busy machine, more than one wait of the fixture's (bounded all the same).
    for (let i = 0; i < 10 && !allUpstream(); i++) await upstream.until(allUpstream, 'every subscription upstream').catch(() => {});
    expect(allUpstream()).toBe(true);

    // Requests arrive all along: a query (one event, complete) and a stream opened and closed, none may fail.
    let swapping = true;
    const outcomes: string[] = [];
    const traffic = (async () => {
      const session = connectHttp2(server.url);
      while (swapping) {
        const [hello, brief] = await Promise.all([
          openSseHttp2(session, path({ id: 'Hello', variables: { name: 'load' } })).then(async (s) => `${s.status} ${await s.done()}`),
          openSseHttp2(session, path({ id: 'Ticks', variables: { symbol: 'BRIEF' } })).then(async (s) => {
            await s.until((raw) => raw.startsWith(':\n\n'), 'the first bytes');
            s.abort();
            return String(s.status);
          }),
        ]);
        outcomes.push(hello, brief);
      }
    })();

    for (let n = 1; n <= SWAPS; n++) {
      cdn.set(await version(n));
      await server.sources.refresh();
      expect(server.registry.resolve(`V${n}`)?.name).toBe(`V${n}`);
      expect(server.registry.resolve(`V${n - 1}`)).toBeUndefined();
    }
    swapping = false;
    await traffic;
    expect(outcomes.length).toBeGreaterThan(10);
    expect(new Set(outcomes)).toEqual(new Set([`200 :\n\nevent: next\ndata: {"data":{"hello":"hello load"}}\n\nevent: complete\ndata:\n\n`, '200']));
    expect(server.sources.status()).toEqual([{ source: cdn.url, ok: true, operations: 4 }]);

    // Every stream is still open and still served, Orders' too though the last version removed it.
    expect(streams.filter((s) => s.ended)).toHaveLength(0);
    expect(upstream.listeners('LOAD')).toBe(STREAMS / 2);
    expect(upstream.listeners('orders')).toBe(STREAMS / 2);
    upstream.publish('LOAD', { symbol: 'LOAD', price: 2 });
    upstream.publish('orders', { symbol: 'LOAD', side: 'BUY' });
    await Promise.all(streams.map((s) => s.until((raw) => raw.includes('event: next'), 'the event after the swaps')));
    expect(new Set(streams.map((s) => s.raw))).toEqual(
      new Set([
        ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"LOAD","price":2}}}\n\n',
        ':\n\nevent: next\ndata: {"data":{"orders":{"symbol":"LOAD","side":"BUY","filter":"{\\"symbols\\":[\\"LOAD\\"],\\"tags\\":[]}"}}}\n\n',
      ]),
    );
    expect(server.gateway.stats().streams).toBe(STREAMS);
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket closed');
  }, 60_000);
});
