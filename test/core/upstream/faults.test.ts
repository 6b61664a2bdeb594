/**
 * Upstream timeouts, limits and faults, through a real gateway: what the
 * client reads, and that the upstream side is left with nothing open. The
 * connect, ack and pong timeouts, the size limit and a graphql-transport-ws
 * upstream sending garbage are in the conformance suite (test/conformance/suite.ts),
 * on Node and on workerd; these are the rest, on Node.
 */
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startGateway } from '../../fixtures/gateway.ts';
import { startProxy, startScriptedServer } from '../../fixtures/faulty.ts';
import { startLegacyUpstream } from '../../fixtures/legacy-upstream.ts';
import { leftover } from '../../fixtures/leftovers.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { testTypeDefs } from '../../fixtures/upstream.ts';

const TICKS = (symbol: string) => query({ id: 'Ticks', variables: { symbol } });
const UNAVAILABLE = ':\n\n: upstream unavailable\nretry: 2000\n\n';
const upstreamError = (message: string, closeCode?: number) =>
  `event: next\ndata: ${JSON.stringify({ errors: [{ message, extensions: { code: 'UPSTREAM_ERROR', closeCode } }] })}\n\nevent: complete\ndata:\n\n`;

describe('upstream timeouts', () => {
  it('subscriptions-transport-ws: a black-holed upstream is noticed by its missing ka', async () => {
    const upstream = await startLegacyUpstream({ selectsLegacy: true, keepAlive: 20 });
    const proxy = await startProxy(upstream.port);
    const gw = await startGateway(proxy.url, { heartbeatMs: 0, random: () => 0.5, upstream: { pongTimeoutMs: 500 } });
    const sse = await openSse(`${gw.url}/graphql${TICKS('K')}`);
    await upstream.until(() => upstream.listeners('K') === 1);
    const kas = () => proxy.downstream.split('{"type":"ka"}').length - 1;
    await proxy.until(() => kas() >= 3, 'three keep-alives');
    proxy.blackhole();
    expect(await sse.done()).toBe(UNAVAILABLE);
    await proxy.until(() => proxy.open === 0, 'the gateway to drop the socket');
  });
});

describe('upstream faults', () => {
  it('an upstream that closes with 4403 (Forbidden): next with UPSTREAM_ERROR and closeCode, then complete', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql' });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const server = useServer({ schema: buildSchema(testTypeDefs), onConnect: () => false }, wss);
    leftover({ [Symbol.asyncDispose]: async () => (await server.dispose(), await new Promise<void>((r) => wss.close(() => r()))) });
    const gw = await startGateway(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${TICKS('F')}`);
    expect(await sse.done()).toBe(':\n\n' + upstreamError('Upstream closed the connection (4403: Forbidden)', 4403));
    expect(wss.clients.size).toBe(0);
  });

  // graphql-transport-ws: in the conformance suite, on both runtimes.
  it.each(['graphql-ws'])('an upstream (%s) that answers with garbage: UPSTREAM_ERROR and complete, socket closed', async (protocol) => {
    const server = await startScriptedServer(protocol, () => ['garbage{']);
    const gw = await startGateway(server.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${TICKS('G')}`);
    expect(await sse.done()).toBe(':\n\n' + upstreamError(`The upstream sent a message that is not valid ${protocol}`, 4004));
    await server.until(() => server.open === 0, 'the socket to close');
    expect(server.closes).toEqual([4004]);
  });

  it('garbage in the middle of a stream ends it after the events already sent', async () => {
    const server = await startScriptedServer('graphql-transport-ws', (text) => {
      const message = JSON.parse(text) as { type: string; id?: string };
      if (message.type === 'connection_init') return ['{"type":"connection_ack"}'];
      if (message.type === 'subscribe') return [JSON.stringify({ type: 'next', id: message.id, payload: { data: { ticks: { symbol: 'M', price: 1 } } } }), '\u0000\u0001'];
      return [];
    });
    const gw = await startGateway(server.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${TICKS('M')}`);
    expect(await sse.done()).toBe(
      ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"M","price":1}}}\n\n' + upstreamError('The upstream sent a message that is not valid graphql-transport-ws', 4004),
    );
    await server.until(() => server.open === 0, 'the socket to close');
    expect(server.closes).toEqual([4004]);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });

  it.each([1000, 1001])('an upstream that closes the socket with %i mid-stream: the reconnection hint, not a silent reconnect', async (code) => {
    const server = await startScriptedServer('graphql-transport-ws', (text) => {
      const message = JSON.parse(text) as { type: string; id?: string };
      if (message.type === 'connection_init') return ['{"type":"connection_ack"}'];
      if (message.type === 'subscribe') {
        setImmediate(() => closeAll(code));
        return [JSON.stringify({ type: 'next', id: message.id, payload: { data: { ticks: { symbol: 'C', price: 1 } } } })];
      }
      return [];
    });
    const closeAll = (c: number) => server.closeAll(c);
    const gw = await startGateway(server.url, { heartbeatMs: 0, random: () => 0.5 });
    const sse = await openSse(`${gw.url}/graphql${TICKS('C')}`);
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"C","price":1}}}\n\n: upstream unavailable\nretry: 2000\n\n');
    await server.until(() => server.open === 0);
    expect(server.accepted).toBe(1);
  });
});
