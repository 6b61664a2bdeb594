/**
 * Safelisted text from an unmodified graphql-sse client: it carries the full
 * document instead of an id, served only when the SHA-256 of that exact text
 * is registered. Real sockets, real upstream. The HTTP contract of safelisted
 * text, POST, 414 and /operations is in the conformance suite
 * (test/conformance/suite.ts), on Node and on workerd.
 */
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { TEST_OPERATIONS, startGateway } from './fixtures/gateway.ts';
import { startUpstream } from './fixtures/upstream.ts';

const TICKS = TEST_OPERATIONS.Ticks!;

interface ErrorBody {
  errors: { message: string; extensions: { code: string } }[];
}

describe('an unmodified graphql-sse client (distinct connections mode)', () => {
  it('subscribes by safelisted text and receives every event and the completion', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const client = createClient({ url: `${gw.url}/graphql`, singleConnection: false, retryAttempts: 0 });
    const results: unknown[] = [];
    const done = (async () => {
      for await (const result of client.iterate({ query: TICKS, variables: { symbol: 'SSE' } })) results.push(result);
    })();
    await upstream.until(() => upstream.listeners('SSE') === 1, 'the subscription');
    upstream.publish('SSE', { symbol: 'SSE', price: 1 });
    upstream.publish('SSE', { symbol: 'SSE', price: 2 });
    upstream.finish('SSE');
    await done;
    expect(results).toEqual([{ data: { ticks: { symbol: 'SSE', price: 1 } } }, { data: { ticks: { symbol: 'SSE', price: 2 } } }]);
    expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toEqual({ query: TICKS, operationName: 'Ticks', variables: { symbol: 'SSE' } });
    client.dispose();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
  });

  it('closes the upstream subscription when the client unsubscribes', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const client = createClient({ url: `${gw.url}/graphql`, singleConnection: false, retryAttempts: 0 });
    const next: unknown[] = [];
    const unsubscribe = client.subscribe({ query: TICKS, variables: { symbol: 'U' } }, { next: (v) => next.push(v), error: () => {}, complete: () => {} });
    await upstream.until(() => upstream.listeners('U') === 1, 'the subscription');
    unsubscribe();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    client.dispose();
  });

  it('is refused text that is not registered, and opens no upstream connection', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const client = createClient({ url: `${gw.url}/graphql`, singleConnection: false, retryAttempts: 0 });
    const error = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: 'subscription Evil { ticks(symbol: "A") { symbol } }' }, { next: () => {}, error: resolve, complete: () => resolve(undefined) });
    });
    const response = (error as { response?: Response }).response;
    expect(response?.status).toBe(400);
    expect(((await response!.json()) as ErrorBody).errors[0]!.extensions.code).toBe('PERSISTED_QUERY_ID_REQUIRED');
    expect(upstream.connections).toBe(0);
    client.dispose();
  });
});
