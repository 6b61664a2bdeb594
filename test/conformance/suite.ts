/**
 * The HTTP contract of the gateway (README, "The HTTP contract"), as one
 * conformance suite run against every runtime: the Node server and the Worker
 * on workerd, each over real sockets against a real graphql-ws upstream.
 * A behaviour that differs between the runtimes fails here.
 */
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startScriptedServer, startSilentServer } from '../fixtures/faulty.ts';
import { TEST_OPERATIONS } from '../fixtures/gateway.ts';
import { startLegacyUpstream, type LegacyUpstreamOptions } from '../fixtures/legacy-upstream.ts';
import { openSse, parseEvents, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { freePort } from '../fixtures/ports.ts';
import { disposeTargets, startTarget, TEST_ALIASES, type Target, type TargetConfig, type TargetKind } from '../fixtures/target.ts';

const TICKS = TEST_OPERATIONS.Ticks!;

interface ErrorBody {
  errors: { message: string; extensions: { code: string } }[];
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

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

/**
 * @param base settings every target of the suite gets: the Node run repeats
 *   the suite in each `UPSTREAM_SHARING` mode, the Worker in each mode too
 *   (the shared ones through its Durable Objects). Where the contract lets the
 *   modes differ (how many upstream sockets carry the subscriptions, what a
 *   shared socket does with a message over the size limit, where what
 *   `auto` learned is kept), the tests say so.
 */
export function conformanceSuite(kind: TargetKind, base: TargetConfig = {}): void {
  const start = (upstreamUrl: string, config?: TargetConfig) => startTarget(kind, upstreamUrl, { ...base, ...config });
  const mode = base.UPSTREAM_SHARING ?? 'off';
  /**
   * Whether different subscriptions of one credential share upstream sockets here: on Node in
   * both shared modes; on a Worker in `connection` mode (one Durable Object per credential),
   * not in `subscription` mode (one object, and its socket, per distinct subscription).
   */
  const shared = mode === 'connection' || (kind === 'node' && mode === 'subscription');
  /** Whether each distinct subscription is served by a Durable Object of its own (a Worker in `subscription` mode). */
  const objectPerSubscription = kind === 'worker' && mode === 'subscription';
  /** Upstream sockets that carry `n` subscriptions of one credential. */
  const socketsFor = (n: number) => (shared ? Math.ceil(n / 100) : n);
  // Each test's upstream listens on the same port, so tests with the same settings can share one Worker.
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(disposeTargets);
  const upstreamServer = () => startUpstream({ port });
  const legacyServer = (options: LegacyUpstreamOptions = {}) => startLegacyUpstream({ port, ...options });

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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'subway' } })}`);
      expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello subway"}}\n\nevent: complete\ndata:\n\n');
    });

    it('streams a burst in order, then completes', async () => {
      const upstream = await upstreamServer();
      // Unbounded: a Worker ends a stream it writes itself after 200 events by default (MAX_STREAM_EVENTS, docs/workers.md).
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, MAX_STREAM_EVENTS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 500 } })}`);
      await sse.done();
      const events = sse.events;
      expect(events).toHaveLength(501);
      expect(events.slice(0, 500).map((e) => JSON.parse(e.data).data.greetings)).toEqual(Array.from({ length: 500 }, (_, i) => `hi ${i}`));
      expect(events[500]).toEqual({ event: 'complete', data: '' });
    });

    it('sends a heartbeat comment every HEARTBEAT_MS', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 30 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'HB' } })}`);
      // Under load two heartbeats may arrive in one read: wait for at least three, then check there is nothing else.
      await sse.until((raw) => raw.length >= ':\n\n'.length * 4, 'three heartbeats after the first comment');
      expect(sse.raw).toMatch(/^(:\n\n){4,}$/);
      expect(sse.events).toEqual([]);
    });

    it('keeps sending heartbeats to a stream after a stream opened before it ended', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 30 });
      const first = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'H1' } })}`);
      await upstream.until(() => upstream.listeners('H1') === 1);
      const second = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'H2' } })}`);
      await upstream.until(() => upstream.listeners('H2') === 1);
      upstream.finish('H1');
      await first.done();
      const before = second.raw.length;
      await second.until((raw) => raw.length >= before + ':\n\n'.length * 3, 'three more heartbeats');
      expect(second.raw).toMatch(/^(:\n\n)+$/);
    });

    it('forwards GraphQL errors from the upstream as a next carrying errors, then complete', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 50 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 50 });
      const streams = await Promise.all(
        Array.from({ length: 25 }, (_, i) => openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: `S${i}` } })}`)),
      );
      const running = () => streams.filter((_, i) => upstream.listeners(`S${i}`) === 1).length;
      await upstream.until(() => running() === 25, '25 running subscriptions');
      expect(upstream.sockets).toBe(socketsFor(25));
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const res = await fetch(`${gw.url}/graphql${query({ id: 'Orders', variables: { filter: { symbols: 'A', side: 'SELL', range: { min: 'x' } } } })}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [{ message: 'Variable "$filter" got invalid value "x" at "filter.range.min"; Int cannot represent non-integer value: "x"', extensions: { variable: 'filter', code: 'BAD_USER_INPUT' } }],
      });
      expect(upstream.connections).toBe(0);
    });

    it('coerces variables with the operation definitions and the schema (lists, enums, defaults)', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const res = await fetch(`${gw.url}/graphql${query({ id: 'Hello' })}`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(406);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('NOT_ACCEPTABLE');
      expect(upstream.connections).toBe(0);
    });

    it('answers other methods with 405 and an Allow header, unknown paths with 404', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const put = await fetch(`${gw.url}/graphql?id=Ticks`, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
      // A HEAD would run the GET route: it must not open an upstream subscription.
      const head = await fetch(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'H' } })}`, { method: 'HEAD', headers: { accept: 'text/event-stream' } });
      expect(head.status).toBe(405);
      expect(head.headers.get('allow')).toBe('GET, POST');
      for (const route of ['/healthz', '/readyz', '/operations']) {
        const res = await fetch(`${gw.url}${route}`, { method: 'DELETE' });
        expect(res.status, route).toBe(405);
        expect(res.headers.get('allow'), route).toBe('GET, HEAD');
        expect(await res.json()).toEqual({ errors: [{ message: `Only GET and HEAD are served on ${route}.`, extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
      }
      const mutation = await fetch(`${gw.url}/graphql?id=Bump`, { headers: { accept: 'text/event-stream' } });
      expect(mutation.status).toBe(405);
      expect(mutation.headers.get('allow')).toBe('POST');
      const missing = await fetch(`${gw.url}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ errors: [{ message: 'No route for GET /nope.', extensions: { code: 'NOT_FOUND' } }] });
      expect(upstream.connections).toBe(0);
    });
  });

  describe('an upstream that cannot be reached', () => {
    it('ends the stream with a retry hint and no complete, so EventSource retries later; the gateway stays up', async () => {
      const port = await freePort();
      // RETRY_MS=5000: the hints are 5000 ms ±20 % jitter, doubling with each outage round in a row; a round
      // that long keeps the second request inside it even on a loaded machine (the hints are read, never waited for).
      const gw = await start(`ws://127.0.0.1:${port}/graphql`, { HEARTBEAT_MS: 0, RETRY_MS: 5000, fresh: true });
      const first = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      expect(first.status).toBe(200);
      expectWithin(retryHint(await first.done(), ':\n\n'), 4000, 6000);
      // A second failure within the same outage is the same round: the same base delay, not a doubled one
      // (the doubling once a round's delay has passed is tested with an injected clock in gateway.test.ts).
      const second = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      expectWithin(retryHint(await second.done(), ':\n\n'), 4000, 6000);
      expectIdle(gw);

      // Once the upstream is there, the same gateway serves, and the delay resets.
      const upstream = await startUpstream({ port });
      const third = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`);
      await upstream.until(() => upstream.listeners('A') === 1);
      upstream.publish('A', { symbol: 'A', price: 3 });
      await third.until((raw) => raw.includes('"price":3'));
      upstream.killSockets();
      expectWithin(retryHint(await third.done(), ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"A","price":3}}}\n\n'), 4000, 6000);
    });
  });
  describe('safelisted text and POST', () => {
    it('serves a GET carrying the exact registered text', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ query: TICKS, variables: { symbol: 'T' } })}`);
      expect(sse.status).toBe(200);
      await upstream.until(() => upstream.listeners('T') === 1);
      upstream.publish('T', { symbol: 'T', price: 1 });
      upstream.finish('T');
      expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"T","price":1}}}\n\nevent: complete\ndata:\n\n');
      expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toEqual({ query: TICKS, operationName: 'Ticks', variables: { symbol: 'T' } });
    });

    it('serves a POST with a JSON body carrying the text, the id, or both', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      await upstream.until(() => upstream.sockets === 0, 'the upstream sockets to close');
    });

    it.each<[string, Record<string, unknown>, number, string, string]>([
      ['text that is not registered', { query: 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { symbol price } }' }, 400, 'PERSISTED_QUERY_ID_REQUIRED', 'Only registered operations are served, and this query text is not registered: send the id of a registered operation.'],
      ['registered text with one byte changed', { query: TICKS.replace(/\n$/, ' \n') }, 400, 'PERSISTED_QUERY_ID_REQUIRED', 'Only registered operations are served, and this query text is not registered: send the id of a registered operation.'],
      ['text and an id of different operations', { query: TICKS, id: 'Hello' }, 400, 'BAD_USER_INPUT', 'The query text and the id name different operations.'],
      ["an operationName that is not the operation's", { query: TICKS, operationName: 'Other' }, 400, 'BAD_USER_INPUT', 'The operation is named "Ticks", not "Other".'],
      ['a query that is not a string', { query: 5 }, 400, 'BAD_USER_INPUT', 'The "query" parameter must be a string.'],
    ])('refuses %s, over GET and POST, before any upstream connection', async (_, params, status, code, message) => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const viaGet = await fetch(`${gw.url}/graphql${query({ ...params, variables: { symbol: 'X' } })}`, { headers: { accept: 'text/event-stream' } });
      const viaPost = await post(`${gw.url}/graphql`, { ...params, variables: { symbol: 'X' } });
      // Over GET every parameter is text: a number is only a number in a JSON body.
      for (const res of typeof params.query === 'number' ? [viaPost] : [viaGet, viaPost]) {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await res.json()).toEqual({ errors: [{ message, extensions: expect.objectContaining({ code }) }] });
      }
      expect(upstream.connections).toBe(0);
      expectIdle(gw);
    });

    it.each<[string, Record<string, string>, string, number, string, string]>([
      ['a body that is not JSON', {}, '{"id":', 400, 'BAD_USER_INPUT', 'The request body is not valid JSON.'],
      ['a JSON array', {}, '[]', 400, 'BAD_USER_INPUT', 'The request body must be a JSON object.'],
      ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'id=Ticks', 415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON: send "Content-Type: application/json".'],
      ['a body over the limit', {}, JSON.stringify({ id: 'Ticks', variables: { symbol: 'x'.repeat(200_000) } }), 413, 'PAYLOAD_TOO_LARGE', 'The request body is over the limit of 102400 bytes.'],
      ['no id and no text', {}, '{"variables":{}}', 400, 'PERSISTED_QUERY_ID_REQUIRED', 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".'],
      ['an unknown id', {}, '{"id":"Nope"}', 404, 'PERSISTED_QUERY_NOT_IN_LIST', 'No registered operation has the id "Nope".'],
    ])('refuses a POST with %s', async (_, headers, body, status, code, message) => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const res = await post(`${gw.url}/graphql`, body, headers);
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ errors: [{ message, extensions: { code } }] });
      expect(upstream.connections).toBe(0);
      expectIdle(gw);
    });

    it('serves a mutation over POST (one next, then complete), never over GET', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const res = await post(`${gw.url}/graphql`, { id: 'Bump' });
      expect(res.status).toBe(200);
      const events = parseEvents(await res.text());
      expect(events.map((e) => e.event)).toEqual(['next', 'complete']);
      expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toMatchObject({ operationName: 'Bump' });
    });
  });

  describe('the query-string limit (MAX_QUERY_STRING_BYTES)', () => {
    it('answers 414 above the default limit, and serves the same request as POST', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const filter = { symbols: ['A'], tags: Array.from({ length: 600 }, (_, i) => `tag-${i}`) };
      const url = `${gw.url}/graphql${query({ id: 'Orders', variables: { filter } })}`;
      const length = url.length - url.indexOf('?') - 1;
      expect(length).toBeGreaterThan(8192);
      const refused = await fetch(url, { headers: { accept: 'text/event-stream' } });
      expect(refused.status).toBe(414);
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

    it('takes its limit from the setting, and serves a query string exactly at the limit', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, MAX_QUERY_STRING_BYTES: 300 });
      const base = `${gw.url}/graphql?id=Hello&variables=`;
      const at = `${base}${encodeURIComponent(JSON.stringify({ name: 'x'.repeat(300 - 'id=Hello&variables='.length - encodeURIComponent('{"name":""}').length) }))}`;
      expect(at.length - at.indexOf('?') - 1).toBe(300);
      const sse = await openSse(at);
      expect(sse.status).toBe(200);
      await sse.done();
      const over = await fetch(`${at.slice(0, -encodeURIComponent('"}').length)}y${encodeURIComponent('"}')}`, { headers: { accept: 'text/event-stream' } });
      expect(over.status).toBe(414);
      expect(((await over.json()) as ErrorBody).errors[0]!.message).toBe('The query string is 301 bytes, over the limit of 300: send the request as POST with a JSON body.');
    });
  });

  describe('GET /operations (OPERATIONS_LIST)', () => {
    it('lists the registered operations with their ids, aliases, kinds and variable types', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const res = await fetch(`${gw.url}/operations`);
      expect(res.status).toBe(200);
      const id = (name: string) => gw.registry.resolve(name)!.id;
      expect(await res.json()).toEqual({
        operations: [
          { name: 'Bump', id: id('Bump'), aliases: [], type: 'mutation', variables: [] },
          { name: 'Failing', id: id('Failing'), aliases: [], type: 'subscription', variables: [] },
          { name: 'Greetings', id: id('Greetings'), aliases: [], type: 'subscription', variables: [{ name: 'count', type: 'Int!' }] },
          { name: 'Hello', id: id('Hello'), aliases: [TEST_ALIASES.custom], type: 'query', variables: [{ name: 'name', type: 'String' }] },
          { name: 'Orders', id: id('Orders'), aliases: [], type: 'subscription', variables: [{ name: 'filter', type: 'OrderFilter!' }] },
          { name: 'Ticks', id: id('Ticks'), aliases: [TEST_ALIASES.sha1, TEST_ALIASES.md5].sort(), type: 'subscription', variables: [{ name: 'symbol', type: 'String!' }] },
        ],
      });
      const viaPost = await fetch(`${gw.url}/operations`, { method: 'POST' });
      expect(viaPost.status).toBe(405);
      expect(viaPost.headers.get('allow')).toBe('GET, HEAD');
      expect(upstream.connections).toBe(0);
    });

    it('is not served with OPERATIONS_LIST=off', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, OPERATIONS_LIST: 'off' });
      const res = await fetch(`${gw.url}/operations`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ errors: [{ message: 'No route for GET /operations.', extensions: { code: 'NOT_FOUND' } }] });
    });
  });

  describe('foreign ids (aliases recorded by register --import)', () => {
    it.each([
      ['a Relay MD5', () => ({ id: TEST_ALIASES.md5 }), 'Ticks'],
      ['a codegen SHA-1 with its prefix, as documentId', () => ({ documentId: `sha1:${TEST_ALIASES.sha1}` }), 'Ticks'],
      ['an upper-case MD5 in extensions.persistedQuery', () => ({ extensions: { persistedQuery: { version: 1, sha256Hash: TEST_ALIASES.md5.toUpperCase() } } }), 'Ticks'],
      ['a custom id', () => ({ id: TEST_ALIASES.custom }), 'Hello'],
    ])('resolves %s to its operation', async (_, params, name) => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const variables = name === 'Ticks' ? { symbol: 'AL' } : { name: 'alias' };
      const sse = await openSse(`${gw.url}/graphql${query({ ...params(), variables })}`);
      expect(sse.status).toBe(200);
      if (name === 'Ticks') {
        await upstream.until(() => upstream.listeners('AL') === 1, 'the subscription');
        upstream.publish('AL', { symbol: 'AL', price: 4 });
        upstream.finish('AL');
        expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"AL","price":4}}}\n\nevent: complete\ndata:\n\n');
      } else {
        expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello alias"}}\n\nevent: complete\ndata:\n\n');
      }
      expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toEqual({ query: gw.registry.resolve(name)!.body, operationName: name, variables });
    });
  });

  describe('the legacy upstream protocol (subscriptions-transport-ws)', () => {
    // A Worker of its own: what `auto` learns about the upstream is kept by the gateway, in the isolate.
    it('auto: a server that takes the first offered protocol and then refuses it is asked again with graphql-ws alone, once', async () => {
      const upstream = await legacyServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, fresh: true });
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
      // The client may read `complete` before the gateway's goodbye reaches the upstream: wait for the socket to close first.
      await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
      const legacy = upstream.perConnection[1]!;
      expect(legacy.map((m) => m.type)).toEqual(['connection_init', 'start', 'connection_terminate']);
      expect(legacy[1]).toEqual({ id: '1', type: 'start', payload: { query: TICKS, variables: { symbol: 'L' }, operationName: 'Ticks' } });

      // The gateway remembers: the next subscription offers graphql-ws alone. (A Worker in `subscription`
      // mode serves another subscription from another Durable Object, which learns on its own.)
      const again = await openSse(`${gw.url}/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
      expect(await again.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: next\ndata: {"data":{"greetings":"hi 1"}}\n\nevent: complete\ndata:\n\n');
      expect(upstream.protocols).toEqual(['graphql-transport-ws', 'graphql-ws', ...(objectPerSubscription ? ['graphql-transport-ws'] : []), 'graphql-ws']);
      await upstream.until(() => upstream.sockets === 0);
      expectIdle(gw);
    });

    it('auto: a server that selects graphql-ws is spoken to on the first connection', async () => {
      const upstream = await legacyServer({ selectsLegacy: true });
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'legacy' } })}`);
      expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"hello":"hello legacy"}}\n\nevent: complete\ndata:\n\n');
      expect(upstream.protocols).toEqual(['graphql-ws']);
      await upstream.until(() => upstream.sockets === 0);
    });

    it('pinned (UPSTREAM_PROTOCOL): on client abort, sends stop and connection_terminate and closes the socket', async () => {
      const upstream = await legacyServer();
      // Heartbeats: workerd notices the client left at the next write (README, "Cloudflare Workers").
      const gw = await start(upstream.url, { HEARTBEAT_MS: 50, UPSTREAM_PROTOCOL: 'subscriptions-transport-ws' });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'AB' } })}`);
      await upstream.until(() => upstream.listeners('AB') === 1);
      upstream.publish('AB', { symbol: 'AB', price: 7 });
      await sse.until((raw) => raw.includes('"price":7'));
      sse.abort();
      await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
      expect(upstream.protocols).toEqual(['graphql-ws']);
      expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'start', 'stop', 'connection_terminate']);
      expect(upstream.received[2]).toEqual({ id: '1', type: 'stop' });
      expect(upstream.listeners('AB')).toBe(0);
      expectIdle(gw);
    });
    it('forwards an error message as a next carrying errors, then complete', async () => {
      const upstream = await legacyServer({ selectsLegacy: true });
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Failing' })}`);
      await upstream.until(() => upstream.listeners('failing') === 1);
      upstream.fail('feed broke');
      // The server sends {"type":"error","payload":{"name":"Error","message":"feed broke"}}; only GraphQL's fields pass.
      expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"errors":[{"message":"feed broke"}]}\n\nevent: complete\ndata:\n\n');
      await upstream.until(() => upstream.sockets === 0);
    });

    it('a refused connection (connection_error) is an UPSTREAM_ERROR, then complete; no start is sent', async () => {
      const upstream = await legacyServer({ selectsLegacy: true, onConnect: () => false });
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'N' } })}`);
      expect(await sse.done()).toBe(
        ':\n\nevent: next\ndata: {"errors":[{"message":"The upstream refused the connection: Prohibited connection!","extensions":{"code":"UPSTREAM_ERROR"}}]}\n\nevent: complete\ndata:\n\n',
      );
      await upstream.until(() => upstream.sockets === 0);
      expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'connection_terminate']);
    });

    it('pinned to graphql-transport-ws, a legacy server refuses it: UPSTREAM_ERROR with closeCode 1002, then complete; no fallback', async () => {
      const upstream = await legacyServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, UPSTREAM_PROTOCOL: 'graphql-transport-ws' });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Hello', variables: { name: 'x' } })}`);
      expect(await sse.done()).toBe(
        ':\n\nevent: next\ndata: {"errors":[{"message":"Upstream closed the connection (1002)","extensions":{"code":"UPSTREAM_ERROR","closeCode":1002}}]}\n\nevent: complete\ndata:\n\n',
      );
      expect(upstream.protocols).toEqual(['graphql-transport-ws']);
    });

    it('a message over UPSTREAM_MAX_MESSAGE_BYTES ends that stream with UPSTREAM_ERROR and complete', async () => {
      const upstream = await legacyServer({ selectsLegacy: true });
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, UPSTREAM_MAX_MESSAGE_BYTES: 1024 });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'BIG' } })}`);
      await upstream.until(() => upstream.listeners('BIG') === 1);
      upstream.publish('BIG', { symbol: 'x'.repeat(1400), price: 1 }); // over the limit, under a shared socket's frame limit (twice it)
      expect(await sse.done()).toBe(
        ':\n\nevent: next\ndata: {"errors":[{"message":"An upstream message exceeded the size limit of 1024 bytes","extensions":{"code":"UPSTREAM_ERROR","closeCode":1009}}]}\n\nevent: complete\ndata:\n\n',
      );
      await upstream.until(() => upstream.sockets === 0);
      // ws (Node) refuses the frame and closes with 1009; workerd receives it and the gateway ends the operation
      // (README, "Differences from the Node server").
      expect(upstream.received.map((m) => m.type)).toEqual(kind === 'node' && !shared ? ['connection_init', 'start'] : ['connection_init', 'start', 'stop', 'connection_terminate']);
      expect(upstream.listeners('BIG')).toBe(0);
    });
  });

  describe('the upstream message size limit (UPSTREAM_MAX_MESSAGE_BYTES)', () => {
    it('a message over the limit ends that stream with UPSTREAM_ERROR and complete; the other streams go on', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, UPSTREAM_MAX_MESSAGE_BYTES: 1024 });
      const big = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'BIG' } })}`);
      const other = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'SMALL' } })}`);
      await upstream.until(() => upstream.listeners('BIG') === 1 && upstream.listeners('SMALL') === 1);
      upstream.publish('BIG', { symbol: 'BIG', price: 1 });
      upstream.publish('BIG', { symbol: 'é'.repeat(600), price: 2 }); // 1200 bytes of UTF-8, 600 characters
      expect(await big.done()).toBe(
        ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"BIG","price":1}}}\n\n' +
          'event: next\ndata: {"errors":[{"message":"An upstream message exceeded the size limit of 1024 bytes","extensions":{"code":"UPSTREAM_ERROR","closeCode":1009}}]}\n\n' +
          'event: complete\ndata:\n\n',
      );
      // Node hands the limit to ws (maxPayload), which closes the socket with 1009 while the frame arrives;
      // workerd's WebSocket has no such limit, so the gateway checks the message and ends the operation first
      // (README, "Differences from the Node server"); so does Node on a shared socket, which carries SMALL too
      // (docs/sharing.md).
      const refusedByWs = kind === 'node' && !shared;
      if (refusedByWs) await upstream.until(() => upstream.sockets === 1, 'the BIG socket to close');
      // Otherwise the BIG socket (unshared on workerd, or a Durable Object of its own) closes just after its complete: wait for both.
      else await upstream.until(() => upstream.sockets === 1 && upstream.received.some((m) => m.type === 'complete'), 'the BIG operation to end upstream');
      expect(upstream.sockets).toBe(1);
      expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(refusedByWs ? 0 : 1);
      upstream.publish('SMALL', { symbol: 'SMALL', price: 3 });
      await other.until((raw) => raw.includes('"price":3'));
      expect(other.ended).toBe(false);
    });
  });
  // Each with an upstream of its own and a Worker of its own: a failed round changes the isolate's retry back-off.
  describe('upstream timeouts and faults (UPSTREAM_*_TIMEOUT_MS, UPSTREAM_KEEPALIVE_MS)', () => {
    it('a server that accepts TCP but never answers the upgrade: a retry hint after UPSTREAM_CONNECT_TIMEOUT_MS, the TCP connection closed', async () => {
      const silent = await startSilentServer();
      const gw = await start(silent.url, { HEARTBEAT_MS: 0, UPSTREAM_CONNECT_TIMEOUT_MS: 100, fresh: true });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'T' } })}`);
      expectWithin(retryHint(await sse.done(), ':\n\n'), 1600, 2400);
      expect(silent.accepted).toBe(1);
      await silent.until(() => silent.open === 0, 'the gateway to drop the TCP connection');
      expectIdle(gw);
    });

    it('a server that never sends connection_ack: a retry hint after UPSTREAM_ACK_TIMEOUT_MS, the socket closed', async () => {
      const mute = await startScriptedServer('graphql-transport-ws', () => []);
      const gw = await start(mute.url, { HEARTBEAT_MS: 0, UPSTREAM_ACK_TIMEOUT_MS: 100, fresh: true });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'T' } })}`);
      expectWithin(retryHint(await sse.done(), ':\n\n'), 1600, 2400);
      await mute.until(() => mute.open === 0, 'the socket to close');
      expect(mute.received).toEqual(['{"type":"connection_init"}']);
      // Node drops it without a close handshake (1006); the Web API on workerd can only close() it.
      if (kind === 'node') expect(mute.closes).toEqual([1006]);
      expectIdle(gw);
    });

    it('pings keep a healthy stream open; a black-holed upstream is noticed by the missing pong', async () => {
      const upstream = await upstreamServer();
      const proxy = await startProxy(upstream.port);
      const gw = await start(proxy.url, { HEARTBEAT_MS: 0, UPSTREAM_KEEPALIVE_MS: 20, UPSTREAM_PONG_TIMEOUT_MS: 1000, fresh: true });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'P' } })}`);
      await upstream.until(() => upstream.received.filter((m) => m.type === 'ping').length >= 3, 'three pings');
      expect(sse.ended).toBe(false);
      upstream.publish('P', { symbol: 'P', price: 1 });
      await sse.until((raw) => raw.includes('"price":1'));
      proxy.blackhole();
      expectWithin(retryHint(await sse.done(), ':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"P","price":1}}}\n\n'), 1600, 2400);
      expectIdle(gw);
      // Node drops the socket at once (ws's terminate). The Web API has no way to drop a socket without the
      // close handshake, so workerd waits for the silent peer's close frame (about 23 s locally; README,
      // "Differences from the Node server"). The client's bytes above are the same on both.
      if (kind === 'node') await proxy.until(() => proxy.open === 0, 'the gateway to drop the socket');
    });

    it('an upstream that answers with garbage: UPSTREAM_ERROR with closeCode 4004, then complete; the socket closed with 4004', async () => {
      const server = await startScriptedServer('graphql-transport-ws', () => ['garbage{']);
      const gw = await start(server.url, { HEARTBEAT_MS: 0, fresh: true });
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'G' } })}`);
      expect(await sse.done()).toBe(
        ':\n\nevent: next\ndata: {"errors":[{"message":"The upstream sent a message that is not valid graphql-transport-ws","extensions":{"code":"UPSTREAM_ERROR","closeCode":4004}}]}\n\nevent: complete\ndata:\n\n',
      );
      await server.until(() => server.open === 0, 'the socket to close');
      expect(server.closes).toEqual([4004]);
    });
  });

  describe('hostile input: variables nested too deep (MAX_VARIABLES_DEPTH)', () => {
    /** `{"symbol": [[…"A"…]]}` nesting `depth` levels, the variables object included. */
    const nested = (name: string, depth: number, leaf = '"A"') => `{"${name}":${'['.repeat(depth - 1)}${leaf}${']'.repeat(depth - 1)}}`;
    const tooDeep = (limit: number, where: 'get' | 'post') => ({
      message:
        where === 'get'
          ? `The "variables" parameter is nested deeper than the limit of ${limit} levels.`
          : `The request body is nested deeper than the limit of ${limit} levels (below its top-level object).`,
      extensions: { code: 'BAD_USER_INPUT', limit, ...(where === 'get' ? { parameter: 'variables' } : {}) },
    });

    it('refuses one level past 64 with a 400 naming the limit, over GET and POST, and checks 64 levels as usual', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      const get = (variables: string) => fetch(`${gw.url}/graphql?id=Ticks&variables=${encodeURIComponent(variables)}`, { headers: { accept: 'text/event-stream' } });
      const over = await get(nested('symbol', 65));
      expect(over.status).toBe(400);
      expect(await over.json()).toEqual({ errors: [tooDeep(64, 'get')] });
      const overPost = await post(`${gw.url}/graphql`, `{"id":"Ticks","variables":${nested('symbol', 65)}}`);
      expect(overPost.status).toBe(400);
      expect(await overPost.json()).toEqual({ errors: [tooDeep(64, 'post')] });
      // 64 levels pass the depth check and meet the type check.
      for (const res of [await get(nested('symbol', 64)), await post(`${gw.url}/graphql`, `{"id":"Ticks","variables":${nested('symbol', 64)}}`)]) {
        expect(res.status).toBe(400);
        expect(((await res.json()) as ErrorBody).errors[0]!.message).toMatch(/^Variable "\$symbol" got invalid value/);
      }
      // Brackets inside strings are text, not nesting.
      const inString = await get(`{"symbol":"${'['.repeat(500)}"}`);
      expect(inString.status).toBe(200);
      await upstream.until(() => upstream.listeners('['.repeat(500)) === 1, 'the subscription with a bracketed symbol');
      expect(upstream.connections).toBe(1);
    });

    it('refuses the values that crashed it (4,400 levels, 50,000 levels in an Int) with a 400, and keeps serving', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
      for (const body of [
        `{"id":"Ticks","variables":${nested('symbol', 4400)}}`,
        `{"id":"Greetings","variables":${nested('count', 50_000, '1')}}`,
        `{"id":"Orders","variables":{"filter":${'{"range":'.repeat(3000)}1${'}'.repeat(3000)}}}`,
        `{"id":"Ticks","extensions":${'{"a":'.repeat(4400)}1${'}'.repeat(4400)}}`,
      ]) {
        const res = await post(`${gw.url}/graphql`, body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ errors: [tooDeep(64, 'post')] });
      }
      const extensions = await fetch(`${gw.url}/graphql?id=Ticks&extensions=${encodeURIComponent(`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`)}`);
      expect(extensions.status).toBe(400);
      expect(await extensions.json()).toEqual({
        errors: [{ message: 'The "extensions" parameter is nested deeper than the limit of 64 levels.', extensions: { code: 'BAD_USER_INPUT', limit: 64, parameter: 'extensions' } }],
      });
      expect(upstream.connections).toBe(0);
      const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'ALIVE' } })}`);
      await upstream.until(() => upstream.listeners('ALIVE') === 1, 'a subscription afterwards');
      expect(sse.status).toBe(200);
    });

    it('takes its limit from the setting', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0, MAX_VARIABLES_DEPTH: 3 });
      const over = await post(`${gw.url}/graphql`, `{"id":"Orders","variables":{"filter":{"symbols":["A"],"range":{"min":[1]}}}}`);
      expect(await over.json()).toEqual({ errors: [tooDeep(3, 'post')] });
      const at = await post(`${gw.url}/graphql`, { id: 'Orders', variables: { filter: { symbols: ['A'], range: { min: 1 } } } });
      expect(at.status).toBe(200);
      await upstream.until(() => upstream.listeners('orders') === 1, 'the subscription at the limit');
    });
  });

  describe('hostile upstream errors: extensions filtered (UPSTREAM_ERROR_EXTENSIONS)', () => {
    const LEAKY = {
      message: 'boom',
      locations: [{ line: 2, column: 3 }],
      path: ['ticks'],
      stack: 'Error: boom\n    at /srv/app/resolvers.js:12:7',
      extensions: {
        code: 'INTERNAL_SERVER_ERROR',
        classification: 'DataFetchingException',
        stacktrace: ['Error: boom', '    at /srv/app/resolvers.js:12:7'],
        exception: { stacktrace: ['at /srv/app/db.js:1:1'], sql: 'SELECT * FROM users' },
      },
    };
    /** A graphql-transport-ws server whose one result and final error carry a development server's extensions. */
    const leakyServer = () =>
      startScriptedServer('graphql-transport-ws', (message) => {
        const m = JSON.parse(message) as { type: string; id?: string };
        if (m.type === 'connection_init') return ['{"type":"connection_ack"}'];
        if (m.type !== 'subscribe') return [];
        return [
          JSON.stringify({ type: 'next', id: m.id, payload: { data: null, errors: [LEAKY] } }),
          JSON.stringify({ type: 'error', id: m.id, payload: [LEAKY] }),
        ];
      });
    const events = async (url: string) => {
      const sse = await openSse(`${url}/graphql${query({ id: 'Ticks', variables: { symbol: 'E' } })}`);
      return parseEvents(await sse.done());
    };

    it('keeps message, locations, path and extensions.code by default, in next payloads and final errors', async () => {
      const server = await leakyServer();
      const gw = await start(server.url, { HEARTBEAT_MS: 0, fresh: true });
      const safe = { message: 'boom', locations: [{ line: 2, column: 3 }], path: ['ticks'], extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      expect(await events(gw.url)).toEqual([
        { event: 'next', data: JSON.stringify({ data: null, errors: [safe] }) },
        { event: 'next', data: JSON.stringify({ errors: [safe] }) },
        { event: 'complete', data: '' },
      ]);
    });

    it('passes the keys the operator lists, or everything with "*"', async () => {
      const server = await leakyServer();
      const listed = await start(server.url, { HEARTBEAT_MS: 0, UPSTREAM_ERROR_EXTENSIONS: 'classification', fresh: true });
      const [first] = await events(listed.url);
      expect(JSON.parse(first!.data).errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', classification: 'DataFetchingException' });
      const all = await start(server.url, { HEARTBEAT_MS: 0, UPSTREAM_ERROR_EXTENSIONS: '*', fresh: true });
      const [verbatim, last] = await events(all.url);
      expect(JSON.parse(verbatim!.data)).toEqual({ data: null, errors: [LEAKY] });
      expect(JSON.parse(last!.data)).toEqual({ errors: [LEAKY] });
    });
  });

  describe('an unmodified graphql-sse client (distinct connections mode)', () => {
    it('subscribes by safelisted text and receives every event and the completion', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
      const upstream = await upstreamServer();
      // Heartbeats: workerd notices the client left at the next write (README, "Cloudflare Workers").
      const gw = await start(upstream.url, { HEARTBEAT_MS: 50 });
      const client = createClient({ url: `${gw.url}/graphql`, singleConnection: false, retryAttempts: 0 });
      const next: unknown[] = [];
      const unsubscribe = client.subscribe({ query: TICKS, variables: { symbol: 'U' } }, { next: (v) => next.push(v), error: () => {}, complete: () => {} });
      await upstream.until(() => upstream.listeners('U') === 1, 'the subscription');
      unsubscribe();
      await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
      expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(1);
      expectIdle(gw);
      client.dispose();
    });

    it('is refused text that is not registered, and opens no upstream connection', async () => {
      const upstream = await upstreamServer();
      const gw = await start(upstream.url, { HEARTBEAT_MS: 0 });
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
}
