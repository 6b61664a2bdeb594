/**
 * Churn: hundreds of streams aborted at every stage of the upstream
 * connection (upgrade, handshake, running), on both protocols and in each
 * sharing mode, leave no upstream socket and no open stream behind.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { startLegacyUpstream } from '../../fixtures/legacy-upstream.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';
import { SHARING_MODES } from '../../../src/core/upstream/pool.ts';

const BATCH = 24;
/** Fewer in the shared modes, whose sockets outlive the streams: what churns there is the operations on them. */
const cyclesFor = (mode: string) => (mode === 'off' ? 240 : 120);

const PROTOCOLS = [
  ['graphql-transport-ws', () => startUpstream()],
  ['legacy graphql-ws', () => startLegacyUpstream({ selectsLegacy: true })],
] as const;

describe.each(PROTOCOLS.flatMap(([name, start]) => SHARING_MODES.map((mode) => [name, mode, start] as const)))('churn over %s, UPSTREAM_SHARING=%s', (_, mode, start) => {
  const CYCLES = cyclesFor(mode);
  it(`${CYCLES} streams aborted at every stage leave zero upstream sockets`, async () => {
    const upstream = await start();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { sharing: mode, idleMs: 0 } });
    let running = 0;
    for (let batch = 0; batch < CYCLES / BATCH; batch++) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const symbol = `C${batch}-${i}`;
          const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`);
          // A third abort as soon as the head arrives (the upgrade is under way), a third once the
          // subscription runs upstream, a third after an event went through.
          if (i % 3 >= 1) await upstream.until(() => upstream.listeners(symbol) === 1, `subscription ${symbol}`);
          if (i % 3 === 2) {
            upstream.publish(symbol, { symbol, price: i });
            await sse.until((raw) => raw.includes('event: next'));
          }
          if (i % 3 >= 1) running++;
          sse.abort();
        }),
      );
    }
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket to close');
    const ended = upstream.received.filter((m) => m.type === 'complete' || m.type === 'stop').length;
    expect(ended).toBeGreaterThanOrEqual(running);
    await new Promise<void>((resolve, reject) => {
      // Streams aborted during the upgrade never reach the upstream; the gateway notices those aborts on its own time.
      const deadline = setTimeout(() => reject(new Error(`stats stuck at ${JSON.stringify(gw.gateway.stats())}`)), 5000);
      const check = () => {
        const { streams, upstreamConnections } = gw.gateway.stats();
        if (streams === 0 && upstreamConnections === 0) {
          clearTimeout(deadline);
          resolve();
        } else setTimeout(check, 5);
      };
      check();
    });
  });
});
