/**
 * @subway-sse/client in Node, on the `eventsource` package, against a real gateway
 * and upstream; the failure paths a gateway cannot easily be made to take (a
 * 503 that then recovers, an HTML page) against a small real HTTP server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { createClient, operationUrl, subscribe, SubwayClientError, type EventSourceConstructor, type ExecutionResult } from '../../src/client/index.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const ES = EventSource as unknown as EventSourceConstructor;

/** Collects a subscription's callbacks; `until` resolves when the log satisfies a predicate. */
function sink() {
  const log: string[] = [];
  const results: ExecutionResult[] = [];
  const errors: SubwayClientError[] = [];
  const waiters = new Set<() => void>();
  const push = (entry: string) => {
    log.push(entry);
    for (const w of [...waiters]) w();
  };
  return {
    log,
    results,
    errors,
    callbacks: {
      next: (r: ExecutionResult) => {
        results.push(r);
        push('next');
      },
      error: (e: SubwayClientError) => {
        errors.push(e);
        push('error');
      },
      complete: () => push('complete'),
      open: () => push('open'),
      reconnecting: () => push('reconnecting'),
    },
    until: (predicate: (log: string[]) => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(log)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; log: ${log.join(', ')}`));
        }, 5000);
        waiters.add(check);
        check();
      }),
  };
}

/** A real HTTP server whose answers the test scripts, one per request. */
async function scriptedServer(answers: ((res: http.ServerResponse) => void)[]) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} accept=${req.headers.accept}`);
    const answer = answers.shift();
    if (answer) answer(res);
    else res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTeardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, requests };
}

describe('@subway-sse/client', () => {
  it('builds one URL per value: stable JSON, empty variables left out', () => {
    expect(operationUrl('http://gw.test/graphql', 'Ticks', { b: 1, a: { d: [2], c: 'x' } })).toBe(
      'http://gw.test/graphql?id=Ticks&variables=%7B%22a%22%3A%7B%22c%22%3A%22x%22%2C%22d%22%3A%5B2%5D%7D%2C%22b%22%3A1%7D',
    );
    expect(operationUrl('http://gw.test/graphql?tenant=t', 'Clock', {})).toBe('http://gw.test/graphql?tenant=t&id=Clock');
    expect(operationUrl('http://gw.test/graphql', 'sha256:ab', undefined)).toBe('http://gw.test/graphql?id=sha256%3Aab');
  });

  it('asks for an EventSource where the runtime has none', () => {
    expect(() => subscribe('Clock', {}, { next() {} }, { url: 'http://gw.test/graphql' })).toThrow(
      '@subway-sse/client: no EventSource in this runtime; pass options.EventSource.',
    );
  });

  it('streams results, and unsubscribing closes the upstream subscription', async () => {
    const upstream = await startUpstream();
    const { url, gateway } = await startGateway(upstream.url);
    const s = sink();
    const client = createClient({ url: `${url}/graphql`, EventSource: ES });
    const stop = client.subscribe('Ticks', { symbol: 'C' }, s.callbacks);
    await s.until((log) => log.includes('open'), 'open');
    await upstream.until(() => upstream.listeners('C') === 1, 'subscribed upstream');
    upstream.publish('C', { symbol: 'C', price: 1 });
    await s.until((log) => log.includes('next'), 'a result');
    expect(s.results).toEqual([{ data: { ticks: { symbol: 'C', price: 1 } } }]);
    stop();
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket closed');
    expect(gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(s.log).toEqual(['open', 'next']);
  });

  it('reads a refusal\'s JSON body with one probe and reports it as a typed error', async () => {
    const upstream = await startUpstream();
    const { url } = await startGateway(upstream.url);
    const s = sink();
    subscribe('Ticks', { symbol: 1 }, s.callbacks, { url: `${url}/graphql`, EventSource: ES });
    await s.until((log) => log.includes('error'), 'the error');
    const [error] = s.errors;
    expect(error).toBeInstanceOf(SubwayClientError);
    expect({ ...error, message: error!.message }).toEqual({
      name: 'SubwayClientError',
      code: 'BAD_USER_INPUT',
      status: 400,
      message: 'Variable "$symbol" got invalid value 1; String cannot represent a non string value: 1',
      errors: [{ message: 'Variable "$symbol" got invalid value 1; String cannot represent a non string value: 1', extensions: { code: 'BAD_USER_INPUT', variable: 'symbol' } }],
    });
    expect(s.log).toEqual(['error']);
    expect(upstream.connections).toBe(0);
  });

  it('treats a 503 as transient: honours Retry-After, reopens, and streams', async () => {
    const server = await scriptedServer([
      (res) => res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"errors":[{"message":"The gateway is shutting down.","extensions":{"code":"SHUTTING_DOWN"}}]}'),
      (res) => res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"errors":[{"message":"The gateway is shutting down.","extensions":{"code":"SHUTTING_DOWN"}}]}'),
      (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(':\n\nevent: next\ndata: {"data":{"n":1}}\n\nevent: complete\ndata:\n\n'),
    ]);
    const s = sink();
    subscribe('Clock', {}, s.callbacks, { url: server.url, EventSource: ES });
    await s.until((log) => log.includes('complete'), 'complete');
    expect(s.log).toEqual(['reconnecting', 'open', 'next', 'complete']);
    expect(s.results).toEqual([{ data: { n: 1 } }]);
    // EventSource's request, the probe that read the 503, then the reopened EventSource.
    expect(server.requests).toEqual([
      'GET /graphql?id=Clock accept=text/event-stream',
      'GET /graphql?id=Clock accept=text/event-stream',
      'GET /graphql?id=Clock accept=text/event-stream',
    ]);
  });

  it('fails with BAD_RESPONSE when the URL serves something else than an event stream', async () => {
    const page = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>not here</p>');
    const server = await scriptedServer([page, page]);
    const s = sink();
    subscribe('Clock', {}, s.callbacks, { url: server.url, EventSource: ES });
    await s.until((log) => log.includes('error'), 'the error');
    expect(s.errors[0]).toMatchObject({ code: 'BAD_RESPONSE', status: 200, message: `Expected a text/event-stream from ${server.url}?id=Clock, got 200 text/html.` });
    expect(server.requests).toHaveLength(2);
  });

  it('fails with BAD_EVENT on a "next" that is not JSON, and closes the source', async () => {
    const server = await scriptedServer([(res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).write('event: next\ndata: {oops\n\n')]);
    const s = sink();
    subscribe('Clock', {}, s.callbacks, { url: server.url, EventSource: ES });
    await s.until((log) => log.includes('error'), 'the error');
    expect(s.errors[0]).toMatchObject({ code: 'BAD_EVENT', message: 'A "next" event did not carry JSON: {oops' });
    expect(s.log).toEqual(['open', 'error']);
  });
});
