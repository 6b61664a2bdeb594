/**
 * The legacy `graphql-ws` subprotocol end to end: a real
 * subscriptions-transport-ws server, through a real gateway, read as SSE.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../fixtures/gateway.ts';
import { startLegacyUpstream } from '../fixtures/legacy-upstream.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const TICKS = 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n';

describe('the legacy protocol (subscriptions-transport-ws)', () => {
  it('auto: a server that takes the first offered protocol and then refuses it is asked again with graphql-ws alone, once', async () => {
    const upstream = await startLegacyUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'L' } })}`);
    await upstream.until(() => upstream.listeners('L') === 1, 'the legacy subscription');
    // ws (under subscriptions-transport-ws) selected the first offer, the server closed it with 1002.
    expect(upstream.protocols).toEqual(['graphql-transport-ws', 'graphql-ws']);
    expect(upstream.closes).toEqual([1002]);
    upstream.publish('L', { symbol: 'L', price: 1 });
    upstream.publish('L', { symbol: 'L', price: 2 });
    upstream.finish('L');
    expect(await sse.done()).toBe(
      ':\n\n' +
        'event: next\ndata: {"data":{"ticks":{"symbol":"L","price":1}}}\n\n' +
        'event: next\ndata: {"data":{"ticks":{"symbol":"L","price":2}}}\n\n' +
        'event: complete\ndata:\n\n',
    );
    const legacy = upstream.perConnection[1]!;
    expect(legacy.map((m) => m.type)).toEqual(['connection_init', 'start', 'connection_terminate']);
    expect(legacy[1]).toEqual({
      id: '1',
      type: 'start',
      payload: { query: TICKS, variables: { symbol: 'L' }, operationName: 'Ticks' },
    });
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');

    // The gateway remembers: the next subscription offers graphql-ws alone.
    const again = await openSse(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
    expect(await again.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: next\ndata: {"data":{"greetings":"hi 1"}}\n\nevent: complete\ndata:\n\n');
    expect(upstream.protocols).toEqual(['graphql-transport-ws', 'graphql-ws', 'graphql-ws']);
    await upstream.until(() => upstream.sockets === 0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

  it('auto: a server that selects graphql-ws is spoken to on the first connection', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true });
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'legacy' } })}`);
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello legacy"}}\n\nevent: complete\ndata:\n\n');
    expect(upstream.protocols).toEqual(['graphql-ws']);
    await upstream.until(() => upstream.sockets === 0);
  });

  it('pinned: on client abort, sends stop and connection_terminate and closes the socket', async () => {
    const upstream = await startLegacyUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { protocol: 'subscriptions-transport-ws' } });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'AB' } })}`);
    await upstream.until(() => upstream.listeners('AB') === 1);
    upstream.publish('AB', { symbol: 'AB', price: 7 });
    await sse.until((raw) => raw.includes('"price":7'));
    expect(gw.gateway.stats()).toEqual({ streams: 1, upstreamConnections: 1 });
    sse.abort();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    expect(upstream.protocols).toEqual(['graphql-ws']);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'start', 'stop', 'connection_terminate']);
    expect(upstream.received[2]).toEqual({ id: '1', type: 'stop' });
    expect(upstream.listeners('AB')).toBe(0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

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
