/**
 * The start banner's "Try it" line names an operation of the folder being
 * served, with variables it accepts: the URL is asked of a real gateway
 * serving that folder, which streams it (never a 404 or a 400).
 */
import { describe, expect, it } from 'vitest';
import { tryItLines, tryItUrl } from '../../src/cli/try-it.ts';
import { registeredFolder, startGateway } from '../fixtures/gateway.ts';
import { openSse } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const { Ticks, Orders, Hello, Bump, Greetings } = {
  Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n',
  Orders: 'subscription Orders($filter: OrderFilter!) {\n  orders(filter: $filter) { symbol side filter }\n}\n',
  Hello: 'query Hello($name: String) {\n  hello(name: $name)\n}\n',
  Bump: 'mutation Bump {\n  bump\n}\n',
  Greetings: 'subscription Greetings($count: Int!) {\n  greetings(count: $count)\n}\n',
};

async function served(operations: Record<string, string>) {
  const upstream = await startUpstream();
  const gateway = await startGateway(upstream.url, { dir: await registeredFolder(operations), heartbeatMs: 0 });
  return { upstream, gateway, url: tryItUrl(gateway.registry, gateway.url) };
}

describe('the "Try it" line', () => {
  it('prefers a subscription that needs no variables, and sends none', async () => {
    const { url, gateway, upstream } = await served({ Ticks, Hello, Greetings, Bump, Failing: 'subscription Failing {\n  failing { symbol }\n}\n' });
    expect(url).toBe(`${gateway.url}/graphql?id=Failing`);
    const sse = await openSse(url!);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('failing') === 1, 'the upstream subscription');
    sse.abort();
  });

  it('gives the required variables example values of their types, and the gateway accepts them', async () => {
    const { url, gateway, upstream } = await served({ Orders, Ticks, Bump });
    expect(url).toBe(`${gateway.url}/graphql?id=Orders&variables=${encodeURIComponent(JSON.stringify({ filter: { symbols: ['example'] } })).replace(/%20/g, '+')}`);
    const sse = await openSse(url!);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('orders') === 1, 'the upstream subscription');
    upstream.publish('orders', { symbol: 'example', side: null, filter: 'f' });
    await sse.until((raw) => raw.includes('event: next'), 'an event');
    sse.abort();
  });

  it('falls back to a query when no subscription can be called', async () => {
    const { url, gateway } = await served({ Hello, Bump });
    expect(url).toBe(`${gateway.url}/graphql?id=Hello`);
    const sse = await openSse(url!);
    await sse.until((raw) => raw.includes('event: complete'), 'the query to complete');
    expect(sse.events[0]).toEqual({ event: 'next', data: '{"data":{"hello":"hello world"}}' });
  });

  it('prints no line that would fail: only mutations, or nothing registered', async () => {
    const { gateway } = await served({ Bump });
    expect(tryItLines(gateway.registry, gateway.url)).toEqual(['Only mutations are registered: they are served over POST, not to curl -N (see docs/protocol.md).']);
    const empty = await served({});
    expect(tryItLines(empty.gateway.registry, empty.gateway.url)).toEqual(['No operations are registered yet: add .graphql files to the folder and run `subway register`.']);
  });

  it('is a curl -N line, with -k for a self-signed certificate', async () => {
    const { gateway } = await served({ Ticks });
    expect(tryItLines(gateway.registry, 'https://localhost:4000', { insecure: true })).toEqual([
      'Try it:',
      `  curl -N -k 'https://localhost:4000/graphql?id=Ticks&variables=%7B%22symbol%22%3A%22example%22%7D'`,
    ]);
  });
});
