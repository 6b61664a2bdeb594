/**
 * Safelisted text and POST: a request may carry the full document instead of
 * an id, served only when the SHA-256 of that exact text is registered; an
 * unmodified graphql-sse client works that way. Real sockets, real upstream.
 */
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { TEST_OPERATIONS, startGateway } from './fixtures/gateway.ts';
import { openSse, query, parseEvents } from './fixtures/sse.ts';
import { startUpstream } from './fixtures/upstream.ts';

const TICKS = TEST_OPERATIONS.Ticks!;

interface ErrorBody {
  errors: { message: string; extensions: { code: string } }[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('safelisted text', () => {
  it('serves a GET carrying the exact registered text', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}/graphql${query({ query: TICKS, variables: { symbol: 'T' } })}`);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('T') === 1);
    upstream.publish('T', { symbol: 'T', price: 1 });
    upstream.finish('T');
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"T","price":1}}}\n\nevent: complete\ndata:\n\n');
  });

  it('serves a POST with a JSON body carrying the text, the id, or both', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const id = gw.registry.resolve('Ticks')!.id;
    for (const [i, body] of [{ query: TICKS }, { id }, { query: TICKS, extensions: { persistedQuery: { version: 1, sha256Hash: id } }, operationName: 'Ticks' }].entries()) {
      const res = await post(`${gw.url}/graphql`, { ...body, variables: { symbol: `P${i}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      await upstream.until(() => upstream.listeners(`P${i}`) === 1);
      upstream.publish(`P${i}`, { symbol: `P${i}`, price: i });
      upstream.finish(`P${i}`);
      expect(await res.text()).toBe(`:\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"P${i}","price":${i}}}}\n\nevent: complete\ndata:\n\n`);
    }
    await upstream.until(() => upstream.sockets === 0);
  });

  it.each<[string, Record<string, unknown>, number, string, string]>([
    ['text that is not registered', { query: 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { symbol price } }' }, 400, 'PERSISTED_QUERY_ID_REQUIRED', 'Only registered operations are served, and this query text is not registered: send the id of a registered operation.'],
    ['registered text with one byte changed', { query: TICKS.replace(/\n$/, ' \n') }, 400, 'PERSISTED_QUERY_ID_REQUIRED', 'Only registered operations are served, and this query text is not registered: send the id of a registered operation.'],
    ['text and an id of different operations', { query: TICKS, id: 'Hello' }, 400, 'BAD_USER_INPUT', 'The query text and the id name different operations.'],
    ['an operationName that is not the operation\'s', { query: TICKS, operationName: 'Other' }, 400, 'BAD_USER_INPUT', 'The operation is named "Ticks", not "Other".'],
    ['a query that is not a string', { query: 5 }, 400, 'BAD_USER_INPUT', 'The "query" parameter must be a string.'],
  ])('refuses %s, over GET and POST, before any upstream connection', async (_, params, status, code, message) => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url);
    const viaGet = await fetch(`${gw.url}/graphql${query({ ...params, variables: { symbol: 'X' } })}`, { headers: { accept: 'text/event-stream' } });
    const viaPost = await post(`${gw.url}/graphql`, { ...params, variables: { symbol: 'X' } });
    for (const res of typeof params.query === 'number' ? [viaPost] : [viaGet, viaPost]) {
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ errors: [{ message, extensions: expect.objectContaining({ code }) }] });
    }
    expect(upstream.connections).toBe(0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
  });
});

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

describe('POST /graphql and the query-string limit', () => {
  it('answers 414 above the query-string limit, and serves the same request as POST', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const filter = { symbols: ['A'], tags: Array.from({ length: 600 }, (_, i) => `tag-${i}`) };
    const url = `${gw.url}/graphql${query({ id: 'Orders', variables: { filter } })}`;
    expect(url.length - url.indexOf('?') - 1).toBeGreaterThan(8192);
    const refused = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(414);
    const length = url.length - url.indexOf('?') - 1;
    expect(await refused.json()).toEqual({
      errors: [{ message: `The query string is ${length} bytes, over the limit of 8192: send the request as POST with a JSON body.`, extensions: { code: 'URI_TOO_LONG', limit: 8192 } }],
    });
    expect(upstream.connections).toBe(0);

    const res = await post(`${gw.url}/graphql`, { id: 'Orders', variables: { filter } });
    expect(res.status).toBe(200);
    await upstream.until(() => upstream.listeners('orders') === 1);
    upstream.publish('orders', { symbol: 'A' });
    upstream.finish('orders');
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual(['next', 'complete']);
    expect(JSON.parse(JSON.parse(events[0]!.data).data.orders.filter).tags).toHaveLength(600);
  });

  it('takes its limit from the option, and serves a query string exactly at the limit', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxQueryStringBytes: 300 });
    const base = `${gw.url}/graphql?id=Hello&variables=`;
    const at = `${base}${encodeURIComponent(JSON.stringify({ name: 'x'.repeat(300 - 'id=Hello&variables='.length - encodeURIComponent('{"name":""}').length) }))}`;
    expect(at.length - at.indexOf('?') - 1).toBe(300);
    const sse = await openSse(at);
    expect(sse.status).toBe(200);
    await sse.done();
    const over = await fetch(`${at.slice(0, -encodeURIComponent('"}').length)}y${encodeURIComponent('"}')}`, { headers: { accept: 'text/event-stream' } });
    expect(over.status).toBe(414);
  });

  it.each<[string, Record<string, string>, string, number, string, string]>([
    ['a body that is not JSON', {}, '{"id":', 400, 'BAD_USER_INPUT', 'The request body is not valid JSON.'],
    ['a JSON array', {}, '[]', 400, 'BAD_USER_INPUT', 'The request body must be a JSON object.'],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'id=Ticks', 415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON: send "Content-Type: application/json".'],
    ['a body over the limit', {}, JSON.stringify({ id: 'Ticks', variables: { symbol: 'x'.repeat(200_000) } }), 413, 'PAYLOAD_TOO_LARGE', 'The request body is over the limit of 102400 bytes.'],
    ['no id and no text', {}, '{"variables":{}}', 400, 'PERSISTED_QUERY_ID_REQUIRED', 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".'],
    ['an unknown id', {}, '{"id":"Nope"}', 404, 'PERSISTED_QUERY_NOT_IN_LIST', 'No registered operation has the id "Nope".'],
  ])('refuses %s', async (_, headers, body, status, code, message) => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url);
    const res = await post(`${gw.url}/graphql`, body, headers);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ errors: [{ message, extensions: { code } }] });
    expect(upstream.connections).toBe(0);
  });

  it('serves a mutation over POST (one next, then complete), never over GET', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const res = await post(`${gw.url}/graphql`, { id: 'Bump' });
    expect(res.status).toBe(200);
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual(['next', 'complete']);
    expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toMatchObject({ operationName: 'Bump' });
  });
});

describe('GET /operations', () => {
  it('lists the registered operations with their ids, kinds and variable types', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url);
    const res = await fetch(`${gw.url}/operations`);
    expect(res.status).toBe(200);
    const id = (name: string) => gw.registry.resolve(name)!.id;
    expect(await res.json()).toEqual({
      operations: [
        { name: 'Bump', id: id('Bump'), aliases: [], type: 'mutation', variables: [] },
        { name: 'Failing', id: id('Failing'), aliases: [], type: 'subscription', variables: [] },
        { name: 'Greetings', id: id('Greetings'), aliases: [], type: 'subscription', variables: [{ name: 'count', type: 'Int!' }] },
        { name: 'Hello', id: id('Hello'), aliases: [], type: 'query', variables: [{ name: 'name', type: 'String' }] },
        { name: 'Orders', id: id('Orders'), aliases: [], type: 'subscription', variables: [{ name: 'filter', type: 'OrderFilter!' }] },
        { name: 'Ticks', id: id('Ticks'), aliases: [], type: 'subscription', variables: [{ name: 'symbol', type: 'String!' }] },
      ],
    });
    const put = await fetch(`${gw.url}/operations`, { method: 'POST' });
    expect(put.status).toBe(404);
  });

  it('is not served when disabled', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { listOperations: false });
    const res = await fetch(`${gw.url}/operations`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).errors[0]!.extensions.code).toBe('NOT_FOUND');
  });
});
