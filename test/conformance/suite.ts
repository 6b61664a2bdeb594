/**
 * The HTTP contract of the gateway (README, "The HTTP contract"), as one
 * conformance suite run against every runtime: the Node server and the Worker
 * on workerd, each over real sockets against a real graphql-ws upstream.
 * A behaviour that differs between the runtimes fails here.
 */
import { describe, expect, it } from 'vitest';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { freePort } from '../fixtures/ports.ts';
import { startTarget, type Target, type TargetConfig, type TargetKind } from '../fixtures/target.ts';

/** Where the target can show its own counters (Node), they are back to zero. */
function expectIdle(target: Target): void {
  const stats = target.stats();
  if (stats) expect(stats).toEqual({ streams: 0, upstreamConnections: 0 });
}

/** The `retry:` delay of a stream that is exactly `before` then the upstream-unavailable hint (no `complete`). */
function retryHint(raw: string, before: string): number {
  expect(raw.startsWith(before)).toBe(true);
  const hint = raw.slice(before.length);
  expect(hint).toMatch(/^: upstream unavailable\nretry: \d+\n\n$/);
  return Number(/retry: (\d+)/.exec(hint)![1]);
}

function expectWithin(value: number, min: number, max: number): void {
  expect(value).toBeGreaterThanOrEqual(min);
  expect(value).toBeLessThanOrEqual(max);
}

export function conformanceSuite(kind: TargetKind): void {
  const start = (upstreamUrl: string, config?: TargetConfig) => startTarget(kind, upstreamUrl, config);

  const SSE_HEAD = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  };

  describe('persisted ids', () => {
    it.each([
      ['sha256:<hex>', (id: string) => ({ id: `sha256:${id}` })],
      ['bare <hex>', (id: string) => ({ id })],
      ['upper-case <hex>', (id: string) => ({ id: id.toUpperCase() })],
      ['operation name', () => ({ id: 'Ticks' })],
      ['documentId', (id: string) => ({ documentId: `sha256:${id}` })],
      ['extensions.persistedQuery', (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } })],
    ])('resolves %s and streams its events', async (_, params) => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      const id = gw.registry.resolve('Ticks')!.id;
      const sse = await openSse(`${gw.url}/graphql${query({ ...params(id), variables: { symbol: 'ACME' } })}`);
      expect(sse.status).toBe(200);
      await upstream.until(() => upstream.listeners('ACME') === 1, 'the subscription');
      upstream.publish('ACME', { symbol: 'ACME', price: 1.5 });
      await sse.until((raw) => raw.includes('1.5'));
      expect(sse.raw).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"ACME","price":1.5}}}\n\n');
    });
  });

  describe('the stream', () => {
    it('frames next and complete byte for byte, with the SSE headers and no hop-by-hop headers', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'X' } })}`);
      expect(sse.headers).toMatchObject(SSE_HEAD);
      await upstream.until(() => upstream.listeners('X') === 1);
      upstream.publish('X', { symbol: 'X', price: 1 });
      upstream.publish('X', { symbol: 'X', price: 2 });
      upstream.finish('X');
      expect(await sse.done()).toBe(
        ':\n\n' +
          'event: next\ndata: {"data":{"ticks":{"symbol":"X","price":1}}}\n\n' +
          'event: next\ndata: {"data":{"ticks":{"symbol":"X","price":2}}}\n\n' +
          'event: complete\ndata:\n\n',
      );
      await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
    });

    it('runs a query operation as one next and complete', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'subway' } })}`);
      expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello subway"}}\n\nevent: complete\ndata:\n\n');
    });

    it('streams a burst in order, then completes', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 500 } })}`);
      await sse.done();
      const events = sse.events;
      expect(events).toHaveLength(501);
      expect(events.slice(0, 500).map((e) => JSON.parse(e.data).data.greetings)).toEqual(Array.from({ length: 500 }, (_, i) => `hi ${i}`));
      expect(events[500]).toEqual({ event: 'complete', data: '' });
    });

    it('sends a heartbeat comment every HEARTBEAT_MS', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 30 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'HB' } })}`);
      await sse.until((raw) => raw === ':\n\n'.repeat(4), 'three heartbeats after the first comment');
      expect(sse.events).toEqual([]);
    });

    it('forwards GraphQL errors from the upstream as a next carrying errors, then complete', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Failing' })}`);
      await upstream.until(() => upstream.listeners('failing') === 1);
      upstream.publish('failing', {});
      await sse.until((raw) => raw.includes('tick failed upstream'));
      const [first] = sse.events;
      expect(first!.event).toBe('next');
      expect(JSON.parse(first!.data)).toEqual({ data: null, errors: [{ message: 'tick failed upstream', locations: [{ line: 2, column: 3 }], path: ['failing'] }] });
      upstream.finish('failing');
      await sse.done();
      expect(sse.events.at(-1)).toEqual({ event: 'complete', data: '' });
    });
  });

  describe('teardown', () => {
    // workerd notices a client that went away only when writing to it fails
    // (README, "Cloudflare Workers"): heartbeats make that happen on an idle stream.
    it('on client abort, sends complete upstream and closes the socket', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 50 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'AB' } })}`);
      await upstream.until(() => upstream.listeners('AB') === 1);
      expect(upstream.sockets).toBe(1);
      const subscribe = upstream.received.find((m) => m.type === 'subscribe')!;
      sse.abort();
      await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
      expect(upstream.received.filter((m) => m.type === 'complete')).toEqual([{ type: 'complete', id: subscribe.id }]);
      expect(upstream.listeners('AB')).toBe(0);
      expectIdle(gw);
    });

    it('many aborted clients leave no upstream socket and no open stream behind', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 50 });
      const streams = await Promise.all(
        Array.from({ length: 25 }, (_, i) => openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: `S${i}` } })}`)),
      );
      const running = () => streams.filter((_, i) => upstream.listeners(`S${i}`) === 1).length;
      await upstream.until(() => running() === 25, '25 running subscriptions');
      expect(upstream.sockets).toBe(25);
      for (const s of streams) s.abort();
      await upstream.until(() => upstream.sockets === 0, 'every upstream socket to close');
      expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(25);
      expectIdle(gw);
    });
  });

  describe('bad input is refused before any upstream connection', () => {
    const cases: [string, Record<string, unknown>, number, string, string][] = [
      ['an unknown id', { id: 'Nope' }, 404, 'PERSISTED_QUERY_NOT_IN_LIST', 'No registered operation has the id "Nope".'],
      ['an unknown hash', { id: `sha256:${'0'.repeat(64)}` }, 404, 'PERSISTED_QUERY_NOT_IN_LIST', `No registered operation has the id "sha256:${'0'.repeat(64)}".`],
      ['a missing id', { variables: {} }, 400, 'PERSISTED_QUERY_ID_REQUIRED', 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".'],
      ['malformed variables JSON', { id: 'Ticks', variables: '{"symbol":' }, 400, 'BAD_USER_INPUT', 'The "variables" parameter is not valid JSON.'],
      ['variables that are not an object', { id: 'Ticks', variables: '[1]' }, 400, 'BAD_USER_INPUT', 'The "variables" parameter must be a JSON object.'],
      ['malformed extensions JSON', { extensions: '{' }, 400, 'BAD_USER_INPUT', 'The "extensions" parameter is not valid JSON.'],
      ['a wrong variable type', { id: 'Ticks', variables: { symbol: 5 } }, 400, 'BAD_USER_INPUT', 'Variable "$symbol" got invalid value 5; String cannot represent a non string value: 5'],
      ['a missing required variable', { id: 'Ticks', variables: {} }, 400, 'BAD_USER_INPUT', 'Variable "$symbol" of required type "String!" was not provided.'],
      ['an undeclared variable', { id: 'Ticks', variables: { symbol: 'A', extra: 1 } }, 400, 'BAD_USER_INPUT', 'Variable "$extra" is not defined by operation "Ticks".'],
      ['a bad enum deep in an input object', { id: 'Orders', variables: { filter: { symbols: ['A'], side: 'HOLD' } } }, 400, 'BAD_USER_INPUT', 'Variable "$filter" got invalid value "HOLD" at "filter.side"; Value "HOLD" does not exist in "Side" enum.'],
      ['a missing nested required field', { id: 'Orders', variables: { filter: { symbols: ['A'], range: {} } } }, 400, 'BAD_USER_INPUT', 'Variable "$filter" got invalid value {} at "filter.range"; Field "min" of required type "Int!" was not provided.'],
      ['a list of the wrong type', { id: 'Orders', variables: { filter: { symbols: [1] } } }, 400, 'BAD_USER_INPUT', 'Variable "$filter" got invalid value 1 at "filter.symbols[0]"; String cannot represent a non string value: 1'],
      ['a mutation', { id: 'Bump' }, 405, 'METHOD_NOT_ALLOWED', 'Operation "Bump" is a mutation; mutations are not served over GET.'],
      ['two different ids', { id: 'Ticks', documentId: 'Hello' }, 400, 'BAD_USER_INPUT', 'The request names more than one operation id, and they differ.'],
    ];
    it.each(cases)('%s', async (_, params, status, code, message) => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url);
      const res = await fetch(`${gw.url}/graphql${query(params)}`, { headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.extensions.code).toBe(code);
      expect(body.errors[0]!.message).toBe(message);
      expect(upstream.connections).toBe(0);
      expectIdle(gw);
    });

    it('names the offending variable in extensions', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url);
      const res = await fetch(`${gw.url}/graphql${query({ id: 'Orders', variables: { filter: { symbols: 'A', side: 'SELL', range: { min: 'x' } } } })}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [{ message: 'Variable "$filter" got invalid value "x" at "filter.range.min"; Int cannot represent non-integer value: "x"', extensions: { variable: 'filter', code: 'BAD_USER_INPUT' } }],
      });
      expect(upstream.connections).toBe(0);
    });

    it('coerces variables with the operation definitions and the schema (lists, enums, defaults)', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url, { heartbeatMs: 0 });
      // A single string stands for a one-element list; `max` and `tags` take their defaults upstream.
      const filter = { symbols: 'A', side: 'SELL', range: { min: 1 } };
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Orders', variables: { filter } })}`);
      await upstream.until(() => upstream.listeners('orders') === 1);
      upstream.publish('orders', { symbol: 'A', side: 'SELL' });
      await sse.until((raw) => raw.includes('event: next'));
      expect(JSON.parse(sse.events[0]!.data)).toEqual({
        data: { orders: { symbol: 'A', side: 'SELL', filter: JSON.stringify({ symbols: ['A'], side: 'SELL', range: { min: 1, max: 100 }, tags: [] }) } },
      });
      expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toEqual({
        query: gw.registry.resolve('Orders')!.body,
        operationName: 'Orders',
        variables: { filter },
      });
    });

    it('refuses a client that does not accept text/event-stream with 406', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url);
      const res = await fetch(`${gw.url}/graphql${query({ id: 'Hello' })}`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(406);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('NOT_ACCEPTABLE');
      expect(upstream.connections).toBe(0);
    });

    it('answers other methods with 405 and an Allow header, unknown paths with 404', async () => {
      const upstream = await startUpstream();
      const gw = await start(upstream.url);
      const put = await fetch(`${gw.url}/graphql?id=Ticks`, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
      const missing = await fetch(`${gw.url}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ errors: [{ message: 'No route for GET /nope.', extensions: { code: 'NOT_FOUND' } }] });
      expect(upstream.connections).toBe(0);
    });
  });

  describe('an upstream that cannot be reached', () => {
    it('ends the stream with a retry hint and no complete, so EventSource retries later; the gateway stays up', async () => {
      const port = await freePort();
      // RETRY_MS=1000: the hints are 1000 ms ±20 % jitter, doubling with each outage round in a row.
      const gw = await start(`ws://127.0.0.1:${port}/graphql`, { heartbeatMs: 0, retryMs: 1000 });
      const first = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      expect(first.status).toBe(200);
      expectWithin(retryHint(await first.done(), ':\n\n'), 800, 1200);
      // A second failure within the same outage is the same round: the same base delay, not a doubled one
      // (the doubling once a round's delay has passed is tested with an injected clock in gateway.test.ts).
      const second = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      expectWithin(retryHint(await second.done(), ':\n\n'), 800, 1200);
      expectIdle(gw);

      // Once the upstream is there, the same gateway serves, and the delay resets.
      const upstream = await startUpstream({ port });
      const third = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      await upstream.until(() => upstream.listeners('A') === 1);
      upstream.publish('A', { symbol: 'A', price: 3 });
      await third.until((raw) => raw.includes('"price":3'));
      upstream.killSockets();
      expectWithin(retryHint(await third.done(), ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"A","price":3}}}\n\n'), 800, 1200);
    });
  });
}
