/**
 * The HTTP contract on the Node server (HTTP/1.1 here; HTTP/2 in
 * node/serve.test.ts), in each UPSTREAM_SHARING mode. The same suite runs on
 * the Worker in worker/worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SHARING_MODES } from '../../src/core/upstream/pool.ts';
import { conformanceSuite } from '../conformance/suite.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { freePort } from '../fixtures/ports.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

// In every sharing mode; a shared socket left idle closes after 50 ms here (1 s by default), so
// the tests that wait for the upstream to have no socket left do not each wait a second.
describe.each(SHARING_MODES)('UPSTREAM_SHARING=%s', (mode) => {
  conformanceSuite('node', mode === 'off' ? { UPSTREAM_SHARING: mode } : { UPSTREAM_SHARING: mode, UPSTREAM_IDLE_MS: 50 });
});

describe('retry hints with injected randomness (an API option of createGateway, not a runtime setting)', () => {
  it('are exact: the first delay, doubled on a second failure, reset after a success', async () => {
    const port = await freePort();
    let clock = 0;
    const gw = await startGateway(`ws://127.0.0.1:${port}/graphql`, { heartbeatMs: 0, retryMs: 2000, random: () => 0.5, now: () => clock });
    const first = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
    expect(await first.done()).toBe(':\n\n: upstream unavailable\nretry: 2000\n\n');
    // A second failure in a row (once the first delay has passed) doubles the delay, so clients back off instead of hammering.
    clock += 2000;
    const second = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
    expect(await second.done()).toBe(':\n\n: upstream unavailable\nretry: 4000\n\n');
    const upstream = await startUpstream({ port });
    const third = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
    await upstream.until(() => upstream.listeners('A') === 1);
    upstream.killSockets();
    expect(await third.done()).toBe(':\n\n: upstream unavailable\nretry: 2000\n\n');
  });
});
