/**
 * The upstream side over Node's built-in WebSocket (undici's implementation
 * of the Web standard, no `ws`): what a runtime like Workers hands the
 * gateway. Both protocols, the size check, a bad message.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { startScriptedServer } from '../../fixtures/faulty.ts';
import { startLegacyUpstream } from '../../fixtures/legacy-upstream.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const webSocketImpl = globalThis.WebSocket;

describe.each([
  ['graphql-transport-ws', () => startUpstream(), 'complete'],
  ['legacy graphql-ws (auto falls back)', () => startLegacyUpstream(), 'stop'],
])('over the Web-standard WebSocket: %s', (_, start, endType) => {
  it('streams, completes, and ends the operation upstream when the client leaves', async () => {
    const upstream = await start();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { webSocketImpl } });
    const done = await openSse(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
    expect(await done.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: next\ndata: {"data":{"greetings":"hi 1"}}\n\nevent: complete\ndata:\n\n');

    const left = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'W' } })}`);
    await upstream.until(() => upstream.listeners('W') === 1);
    upstream.publish('W', { symbol: 'W', price: 1 });
    await left.until((raw) => raw.includes('"price":1'));
    left.abort();
    await upstream.until(() => upstream.sockets === 0, 'every socket to close');
    expect(upstream.received.filter((m) => m.type === endType)).toHaveLength(1);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

  it('checks the message size itself', async () => {
    const upstream = await start();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { webSocketImpl, maxMessageBytes: 1024 } });
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'WB' } })}`);
    await upstream.until(() => upstream.listeners('WB') === 1);
    upstream.publish('WB', { symbol: '€'.repeat(400), price: 1 }); // 1200 bytes of UTF-8
    expect(await sse.done()).toBe(
      ':\n\nevent: next\ndata: {"errors":[{"message":"An upstream message exceeded the size limit of 1024 bytes","extensions":{"code":"UPSTREAM_ERROR","closeCode":1009}}]}\n\nevent: complete\ndata:\n\n',
    );
    await upstream.until(() => upstream.sockets === 0);
  });
});

it('over the Web-standard WebSocket: garbage closes with 4004', async () => {
  const server = await startScriptedServer('graphql-transport-ws', () => ['nope']);
  const gw = await startGateway(server.url, { heartbeatMs: 0, upstream: { webSocketImpl } });
  const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'G' } })}`);
  expect(await sse.done()).toContain('"closeCode":4004');
  await server.until(() => server.open === 0);
  expect(server.closes).toEqual([4004]);
});
