/**
 * The legacy `graphql-ws` subprotocol end to end: a real
 * subscriptions-transport-ws server, through a real gateway, read as SSE.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { startLegacyUpstream } from '../../fixtures/legacy-upstream.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

// The rest of the legacy protocol (the fallback of `auto`, `stop` on client abort, `error` and
// `connection_error`, a pinned protocol the server refuses, the size limit) is in the conformance
// suite (test/conformance/suite.ts), on Node and on workerd. This one needs an injected random source.
describe('the legacy protocol (subscriptions-transport-ws)', () => {
  it('auto forgets a learned protocol when the upstream is redeployed speaking the other one', async () => {
    const legacy = await startLegacyUpstream();
    const port = legacy.port;
    const gw = await startGateway(legacy.url, { heartbeatMs: 0, random: () => 0.5 });
    const first = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'a' } })}`);
    await first.done();
    expect(legacy.protocols).toEqual(['graphql-transport-ws', 'graphql-ws']);
    await legacy.close();

    const modern = await startUpstream({ port });
    // Offered graphql-ws alone, a graphql-ws server selects no subprotocol and the handshake fails.
    const stale = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'b' } })}`);
    expect(await stale.done()).toBe(':\n\n: upstream unavailable\nretry: 2000\n\n');
    const fresh = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'c' } })}`);
    expect(await fresh.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello c"}}\n\nevent: complete\ndata:\n\n');
    expect(modern.upgrades.map((h) => h['sec-websocket-protocol'])).toEqual(['graphql-ws', 'graphql-transport-ws,graphql-ws']);
  });
});
