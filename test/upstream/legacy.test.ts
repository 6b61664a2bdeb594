/**
 * The legacy `graphql-ws` subprotocol end to end: a real
 * subscriptions-transport-ws server, through a real gateway, read as SSE.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../fixtures/gateway.ts';
import { startLegacyUpstream } from '../fixtures/legacy-upstream.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

// The fallback of `auto`, a server that selects graphql-ws, and `stop` on client abort are in the
// conformance suite (test/conformance/suite.ts), on Node and on workerd.
describe('the legacy protocol (subscriptions-transport-ws)', () => {
  it('forwards an error message as a next carrying errors, then complete', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true });
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Failing' })}`);
    await upstream.until(() => upstream.listeners('failing') === 1);
    upstream.fail('feed broke');
    // The server sends {"type":"error","payload":{"name":"Error","message":"feed broke"}}; only GraphQL's fields pass.
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"errors":[{"message":"feed broke"}]}\n\nevent: complete\ndata:\n\n');
    await upstream.until(() => upstream.sockets === 0);
  });

  it('a refused connection (connection_error) is an UPSTREAM_ERROR, then complete; no start is sent', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true, onConnect: () => false });
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'N' } })}`);
    expect(await sse.done()).toBe(
      ':\n\nevent: next\ndata: {"errors":[{"message":"The upstream refused the connection: Prohibited connection!","extensions":{"code":"UPSTREAM_ERROR"}}]}\n\nevent: complete\ndata:\n\n',
    );
    await upstream.until(() => upstream.sockets === 0);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'connection_terminate']);
  });

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

  it('pinned to graphql-transport-ws, a legacy server refuses it: UPSTREAM_ERROR with closeCode 1002, then complete; no fallback', async () => {
    const upstream = await startLegacyUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { protocol: 'graphql-transport-ws' } });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'x' } })}`);
    expect(await sse.done()).toBe(
      ':\n\nevent: next\ndata: {"errors":[{"message":"Upstream closed the connection (1002)","extensions":{"code":"UPSTREAM_ERROR","closeCode":1002}}]}\n\nevent: complete\ndata:\n\n',
    );
    expect(upstream.protocols).toEqual(['graphql-transport-ws']);
  });

  it('a legacy message over the size limit ends that stream; stop and connection_terminate are sent', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true });
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { maxMessageBytes: 1024 } });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'BIG' } })}`);
    await upstream.until(() => upstream.listeners('BIG') === 1);
    upstream.publish('BIG', { symbol: 'x'.repeat(2000), price: 1 });
    expect(await sse.done()).toBe(
      ':\n\nevent: next\ndata: {"errors":[{"message":"An upstream message exceeded the size limit of 1024 bytes","extensions":{"code":"UPSTREAM_ERROR","closeCode":1009}}]}\n\nevent: complete\ndata:\n\n',
    );
    await upstream.until(() => upstream.sockets === 0);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'start', 'stop', 'connection_terminate']);
    expect(upstream.listeners('BIG')).toBe(0);
  });
});
