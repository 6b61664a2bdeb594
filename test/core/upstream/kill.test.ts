/**
 * Fault injection: the upstream is a real process, killed with SIGKILL in the
 * middle of streams and started again on the same port.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { freePort } from '../../fixtures/ports.ts';
import { startUpstreamProcess } from '../../fixtures/process.ts';
import { openSse, parseEvents, query } from '../../fixtures/sse.ts';

const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

describe('an upstream process killed mid-stream', () => {
  it('ends every affected stream with the reconnection hint at once; the gateway stays up and serves again once the upstream is back', async () => {
    const port = await freePort();
    const first = await startUpstreamProcess(port);
    const gw = await startGateway(first.url, { heartbeatMs: 0, random: () => 0.5 });
    const streams = await Promise.all(SYMBOLS.map((symbol) => openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`)));
    await Promise.all(streams.map((s) => s.until((raw) => raw.split('event: next').length > 3, 'three events')));
    expect(gw.gateway.stats()).toEqual({ streams: SYMBOLS.length, upstreamConnections: SYMBOLS.length });

    const killedAt = performance.now();
    await first.kill();
    const bodies = await Promise.all(streams.map((s) => s.done()));
    const elapsedMs = performance.now() - killedAt;
    for (const [i, body] of bodies.entries()) {
      // Every event is whole, none is a complete, and the last bytes are the hint.
      const events = parseEvents(body);
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(events.every((e) => e.event === 'next' && JSON.parse(e.data).data.ticks.symbol === SYMBOLS[i])).toBe(true);
      expect(body).toMatch(/\n\n: upstream unavailable\nretry: \d+\n\n$/);
    }
    // One death of the upstream is one failure: every client is told the same first delay.
    expect(bodies.map((b) => /retry: (\d+)/.exec(b)![1])).toEqual(SYMBOLS.map(() => '2000'));
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    console.log(`[kill] ${SYMBOLS.length} streams ended ${elapsedMs.toFixed(0)} ms after SIGKILL`);

    // The gateway is up: it answers, and a subscription while the upstream is down ends with the hint too.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const down = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'DOWN' } })}`);
    expect(await down.done()).toMatch(/^:\n\n: upstream unavailable\nretry: \d+\n\n$/);

    // Back on the same port: new subscriptions succeed.
    await startUpstreamProcess(port);
    const again = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'Z' } })}`);
    await again.until((raw) => raw.includes('"price":2'), 'events from the restarted upstream');
    expect(again.raw.startsWith(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"Z","price":1}}}\n\n')).toBe(true);
  });
});
