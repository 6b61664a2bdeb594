/**
 * The Node adapter routes by the request's path alone and never builds a URL
 * from `Host`; it answers every method, hostile `Host` and odd target with
 * clean JSON, and no response carries a stack trace or a file path. Raw
 * bytes on real sockets (HTTP/1.1, plain and over TLS) and Node's HTTP/2 client.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/core/gateway.ts';
import { createRegistry } from '../../src/core/operations/registry.ts';
import { loadOperations } from '../../src/node/operations/load.ts';
import { NodeWebSocket, serveNode } from '../../src/node/serve.ts';
import { createStaticHandler, withStatic } from '../../src/node/static.ts';
import { registeredFolder, startGateway } from '../fixtures/gateway.ts';
import { leftover, onTeardown } from '../fixtures/leftovers.ts';
import { rawRequest, type RawResponse } from '../fixtures/raw-http.ts';
import { connectHttp2 } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const METRICS = 'subway_streams_open 0 (the metrics a proxy rule keeps private)';
/** What a stack trace or a file path looks like in a body. */
const LEAK = /\bat \S+ \(|\/work\/|\/home\/|node_modules|\.ts:\d|\.js:\d|Error: /;

const request = (method: string, target: string, headers: Record<string, string> = {}) =>
  `${method} ${target} HTTP/1.1\r\n${Object.entries({ host: 'subway.example', accept: 'text/event-stream', connection: 'close', ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

function json(res: RawResponse) {
  expect(res.body).not.toMatch(LEAK);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(res.body) as { errors: { message: string; extensions: { code: string } }[] };
}

async function gatewayWithMetrics(tls?: boolean) {
  const upstream = await startUpstream();
  const errors: unknown[] = [];
  const gw = await startGateway(upstream.url, {
    heartbeatMs: 0,
    metrics: async () => ({ contentType: 'text/plain', body: METRICS }),
    onInternalError: (err) => errors.push(err),
    ...(tls ? { tls: await testCertificate() } : {}),
  });
  return { upstream, gw, errors };
}

describe('Host never picks the route', () => {
  it.each([false, true])('hostile Host values are a 400 JSON error, never another route (TLS: %s)', async (secure) => {
    const { upstream, gw } = await gatewayWithMetrics(secure);
    for (const host of ['x/metrics?', 'x/operations#', 'x/healthz?a=', 'a b', '[', 'x@evil', 'x\\metrics', 'x:80:80/metrics']) {
      const res = await rawRequest(gw.node.port, request('GET', '/graphql?id=Ticks', { host }), { secure });
      expect(res.status, host).toBe(400);
      expect(res.body).not.toContain(METRICS);
      expect(json(res)).toEqual({ errors: [{ message: 'The Host header is not a valid host.', extensions: { code: 'BAD_REQUEST' } }] });
    }
    expect(upstream.connections).toBe(0);
  });

  it('serves by the path whatever a valid Host says; an absolute-form target by its path only', async () => {
    const { gw } = await gatewayWithMetrics();
    for (const host of ['subway.example', 'subway.example:8443', '127.0.0.1', '[::1]:4000', '']) {
      const res = await rawRequest(gw.node.port, request('GET', '/healthz', { host }));
      expect(res.status, host).toBe(200);
      expect(res.body).toBe('{"status":"ok"}');
    }
    const absolute = await rawRequest(gw.node.port, request('GET', 'http://evil.example/healthz'));
    expect(absolute.body).toBe('{"status":"ok"}');
    const other = await rawRequest(gw.node.port, request('GET', 'http://subway.example/metrics?x'));
    expect(other.body).toBe(METRICS);
    const star = await rawRequest(gw.node.port, request('OPTIONS', '*'));
    expect(star.status).toBe(400);
    expect(json(star).errors[0]!.extensions.code).toBe('BAD_REQUEST');
  });

  it('over HTTP/2, a hostile :authority never reaches a route (nghttp2 resets the stream); TRACE is a 405', async () => {
    const { gw } = await gatewayWithMetrics(true);
    const session = connectHttp2(gw.url);
    const send = (headers: Record<string, string>) =>
      new Promise<{ status?: number; body: string; rst: number }>((resolve) => {
        const stream = session.request(headers, { endStream: true });
        let body = '';
        let status: number | undefined;
        stream.setEncoding('utf8');
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (c: string) => (body += c));
        stream.on('error', () => {});
        stream.on('close', () => resolve({ status, body, rst: stream.rstCode ?? 0 }));
      });
    for (const authority of ['x/metrics?', 'a b']) {
      const res = await send({ ':path': '/graphql', ':authority': authority });
      expect(res.status).toBeUndefined();
      expect(res.body).toBe('');
      expect(res.rst).toBe(1); // PROTOCOL_ERROR
    }
    const trace = await send({ ':method': 'TRACE', ':path': '/graphql' });
    expect(trace.status).toBe(405);
    expect(JSON.parse(trace.body)).toEqual({ errors: [{ message: 'Only GET and POST are served on /graphql.', extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
    // The session carries on.
    expect((await send({ ':path': '/healthz' })).body).toBe('{"status":"ok"}');
  });
});

describe('methods', () => {
  it('TRACE, TRACK and other methods get 405 with the route\'s Allow, unknown paths 404, all JSON', async () => {
    const { gw } = await gatewayWithMetrics();
    const cases: [string, string, number, string | undefined][] = [
      ['TRACE', '/graphql', 405, 'GET, POST'],
      ['TRACE', '/graphql?id=Ticks', 405, 'GET, POST'],
      ['PUT', '/graphql', 405, 'GET, POST'],
      ['TRACE', '/healthz', 405, 'GET, HEAD'],
      ['PROPFIND', '/metrics', 405, 'GET, HEAD'],
      ['TRACE', '/nope', 404, undefined],
    ];
    for (const [method, target, status, allow] of cases) {
      const res = await rawRequest(gw.node.port, request(method, target));
      expect(res.status, `${method} ${target}`).toBe(status);
      expect(res.headers.allow, `${method} ${target}`).toBe(allow);
      expect(json(res).errors[0]!.extensions.code).toBe(status === 405 ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND');
    }
    // Methods Node's HTTP/1.1 parser does not know are its own 400, before any handler, with no body.
    for (const method of ['TRACK', 'trace', 'FOO BAR']) {
      const res = await rawRequest(gw.node.port, request(method, '/graphql'));
      expect(res.status, method).toBe(400);
      expect(res.body).toBe('');
    }
  });
});

describe('no response carries a stack trace or a file path', () => {
  it('an internal error is a generic 500 JSON body and one log line', async () => {
    const upstream = await startUpstream();
    const logged: string[] = [];
    const registry = createRegistry(await loadOperations(await registeredFolder()));
    const gateway = createGateway({
      registry,
      upstream: { url: upstream.url, webSocketImpl: NodeWebSocket },
      metrics: async () => {
        throw new Error(`cannot read ${join(tmpdir(), 'secret', 'metrics.db')}`);
      },
      onInternalError: (err) => {
        throw err;
      },
    });
    const node = leftover(await serveNode(gateway, { port: 0, host: '127.0.0.1', onError: (what, err) => logged.push(`${what}: ${(err as Error).message}`) }));
    const res = await rawRequest(node.port, request('GET', '/metrics'));
    expect(res.status).toBe(500);
    expect(json(res)).toEqual({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(logged).toEqual([`internal error: cannot read ${join(tmpdir(), 'secret', 'metrics.db')}`]);
  });

  it('the demo page handler: odd names fall through to a JSON 404, a file it cannot read is a generic 500', async () => {
    const upstream = await startUpstream();
    const root = await mkdtemp(join(tmpdir(), 'subway-demo-'));
    onTeardown(() => rm(root, { recursive: true, force: true }));
    await writeFile(join(root, 'index.html'), '<!doctype html>');
    await symlink('loop.js', join(root, 'loop.js')); // ELOOP
    const registry = createRegistry(await loadOperations(await registeredFolder()));
    const gateway = createGateway({ registry, upstream: { url: upstream.url, webSocketImpl: NodeWebSocket } });
    const logged: string[] = [];
    const node = leftover(await serveNode(withStatic(gateway, createStaticHandler(root)), { port: 0, host: '127.0.0.1', onError: (what) => logged.push(what) }));
    for (const target of ['/a%00b.js', `/${'a'.repeat(4096)}.js`, '/index.html/x.js', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd.js']) {
      const res = await rawRequest(node.port, request('GET', target));
      expect(res.status, target.slice(0, 40)).toBe(404);
      json(res);
    }
    const loop = await rawRequest(node.port, request('GET', '/loop.js'));
    expect(loop.status).toBe(500);
    expect(json(loop)).toEqual({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(loop.body).not.toContain(root);
    expect(logged).toEqual(['internal error']);
    for (const method of ['TRACE', 'POST', 'DELETE']) {
      const res = await rawRequest(node.port, request(method, '/', { 'content-length': '0' }));
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      json(res);
    }
  });
});
