/**
 * Variables of every shape and depth, generated: objects and lists mixed,
 * strings full of brackets, quotes and escapes, depths around the limit and
 * far past it (thousands of levels, the values that used to crash the
 * process), over GET and POST, against `npm start` in its own process with
 * default settings. Every request gets exactly the answer its size and depth
 * call for (414, 413, the depth 400 naming the limit, or the type check's
 * verdict), never a 5xx; nothing but the 200s reaches the upstream; the process is alive and serving afterwards.
 * Seeded, so a failure replays.
 */
import type http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { ECHO_OPERATION, TEST_OPERATIONS } from '../fixtures/gateway.ts';
import { startGatewayProcess } from '../fixtures/gateway-process.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { prng, type Rng } from '../fixtures/prng.ts';
import { connectHttp2, openSseHttp2, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const REQUESTS = 1200;
const CONCURRENCY = 16;
const MAX_DEPTH = 64;
const MAX_QUERY_STRING = 8192;
const MAX_VARIABLES = 65_536;
const MAX_BODY = 102_400;


const TRICKY = ['[', ']', '{', '}', '"', '\\', '\\"]]', '[[[[', '{"a":[', '\u2028', 'é', '😀', '\u0000', ':', ','];

function leaf(r: Rng): unknown {
  switch (r.int(6)) {
    case 0:
      return Array.from({ length: 1 + r.int(6) }, () => r.pick(TRICKY)).join('');
    case 1:
      return r.int(1000) - 500;
    case 2:
      return r.next() < 0.5;
    case 3:
      return null;
    case 4:
      return r.next() * 1e6;
    default:
      return 'plain';
  }
}

/** A value nesting exactly `depth` levels (0: a leaf), built from the inside out, with siblings on the way. */
function nested(r: Rng, depth: number): unknown {
  let value = leaf(r);
  for (let level = 0; level < depth; level++) {
    const siblings = r.next() < 0.3 ? Array.from({ length: r.int(3) }, () => leaf(r)) : [];
    if (r.next() < 0.5) value = r.next() < 0.5 ? [value, ...siblings] : [...siblings, value];
    else value = Object.fromEntries([[r.pick(['a', 'b[', 'c"', '{d}', 'key']), value], ...siblings.map((s, i) => [`s${i}`, s])]);
  }
  return value;
}

function pickDepth(r: Rng): number {
  return r.pick([
    () => 1 + r.int(10),
    () => MAX_DEPTH - 6 + r.int(12), // around the limit
    () => MAX_DEPTH + r.int(200),
    () => 1000 + r.int(4000), // what crashed the process
    () => 20_000 + r.int(40_000),
  ])();
}

interface Case {
  method: 'GET' | 'POST';
  operation: string;
  variablesText: string;
  /** The variables' depth, the object included. */
  depth: number;
}

function generate(r: Rng): Case {
  const operation = r.pick(['Echo', 'Echo', 'Ticks', 'Orders', 'Greetings']);
  const name = { Echo: 'value', Ticks: 'symbol', Orders: 'filter', Greetings: 'count' }[operation]!;
  const inner = pickDepth(r) - 1;
  // Deep values are cheap to write as text and costly to build as objects.
  const innerText = inner > 2000 ? `${'['.repeat(inner)}1${']'.repeat(inner)}` : JSON.stringify(nested(r, inner));
  const variablesText = `{"${name}":${innerText}}`;
  // A URL past ~16 KiB is refused by Node's HTTP/2 layer itself (header list size), before the gateway: those go as POST.
  const method = r.next() < 0.5 && encodeURIComponent(variablesText).length < 15_000 ? 'GET' : 'POST';
  return { method, operation, variablesText, depth: inner + 1 };
}

interface Expected {
  status: number;
  code?: string;
  message?: string;
}

function expected(c: Case): Expected | 'typed' {
  const tooDeep = { status: 400, code: 'BAD_USER_INPUT' };
  if (c.method === 'GET') {
    const qs = `id=${c.operation}&variables=${encodeURIComponent(c.variablesText)}`;
    if (qs.length > MAX_QUERY_STRING) return { status: 414, code: 'URI_TOO_LONG' };
    if (Buffer.byteLength(c.variablesText) > MAX_VARIABLES) return { status: 413, code: 'VARIABLES_TOO_LARGE' };
    if (c.depth > MAX_DEPTH) return { ...tooDeep, message: `The "variables" parameter is nested deeper than the limit of ${MAX_DEPTH} levels.` };
  } else {
    const body = `{"id":"${c.operation}","variables":${c.variablesText}}`;
    if (Buffer.byteLength(body) > MAX_BODY) return { status: 413, code: 'PAYLOAD_TOO_LARGE' };
    if (c.depth > MAX_DEPTH) return { ...tooDeep, message: `The request body is nested deeper than the limit of ${MAX_DEPTH} levels (below its top-level object).` };
    if (Buffer.byteLength(c.variablesText) > MAX_VARIABLES) return { status: 413, code: 'VARIABLES_TOO_LARGE' };
  }
  // Within every bound: a JSON scalar takes anything; the other types decide by value.
  return c.operation === 'Echo' ? { status: 200 } : 'typed';
}

function send(session: http2.ClientHttp2Session, c: Case): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders =
      c.method === 'GET'
        ? { ':path': `/graphql?id=${c.operation}&variables=${encodeURIComponent(c.variablesText)}`, accept: 'text/event-stream' }
        : { ':method': 'POST', ':path': '/graphql', accept: 'text/event-stream', 'content-type': 'application/json' };
    const stream = session.request(headers);
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      // A subscription: its head is the answer; close it as a leaving client does.
      if (status === 200) {
        stream.close();
        resolve({ status, body: '' });
      }
    });
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    if (c.method === 'POST') stream.end(`{"id":"${c.operation}","variables":${c.variablesText}}`);
  });
}

describe('generated variables, every shape and depth', () => {
  it(`${REQUESTS} requests over GET and POST: the right refusal for each, no 5xx, the process serving on`, async () => {
    const upstream = await startUpstream();
    const gw = await startGatewayProcess(upstream.url, { LOG_STREAMS: 'false' }, '', { ...TEST_OPERATIONS, ...ECHO_OPERATION });
    const r = prng(0xdee9);
    const cases = Array.from({ length: REQUESTS }, () => generate(r));
    const sessions = [connectHttp2(gw.url), connectHttp2(gw.url)];
    const failures: string[] = [];
    const tally = new Map<string, number>();
    let served = 0;
    let index = 0;
    const worker = async (w: number) => {
      while (index < cases.length) {
        const i = index++;
        const c = cases[i]!;
        const want = expected(c);
        const what = `#${i} ${c.method} ${c.operation} depth ${c.depth} (${c.variablesText.length} chars)`;
        let got: { status: number; body: string };
        try {
          got = await send(sessions[w % sessions.length]!, c);
        } catch (err) {
          failures.push(`${what}: ${String(err)}`);
          continue;
        }
        const key = `${c.method} ${got.status}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        if (got.status === 200) served++;
        if (got.status >= 500) failures.push(`${what}: ${got.status} ${got.body.slice(0, 200)}`);
        if (want === 'typed') {
          if (got.status === 200) continue;
          const error = got.status === 400 ? (JSON.parse(got.body) as { errors: { message: string; extensions: { code: string } }[] }).errors[0] : undefined;
          if (error?.extensions.code !== 'BAD_USER_INPUT' || /nested deeper/.test(error.message)) failures.push(`${what}: expected 200 or a type error, got ${got.status} ${got.body.slice(0, 200)}`);
          continue;
        }
        if (got.status !== want.status) {
          failures.push(`${what}: expected ${want.status}, got ${got.status} ${got.body.slice(0, 200)}`);
          continue;
        }
        if (want.code) {
          const error = (JSON.parse(got.body) as { errors: { message: string; extensions: { code: string; limit?: number } }[] }).errors[0]!;
          if (error.extensions.code !== want.code) failures.push(`${what}: expected ${want.code}, got ${error.extensions.code}`);
          if (want.message && (error.message !== want.message || error.extensions.limit !== MAX_DEPTH)) failures.push(`${what}: ${JSON.stringify(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    onTeardown(() => console.log(JSON.stringify(Object.fromEntries([...tally].sort()))));

    expect(failures).toEqual([]);
    // Every kind of answer came up, over both methods.
    for (const key of ['GET 200', 'GET 400', 'GET 414', 'POST 200', 'POST 400', 'POST 413']) expect(tally.get(key) ?? 0, key).toBeGreaterThan(0);
    // Only what was served reached the upstream (a stream closed at once may leave before its upgrade), and all of it was closed.
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket closed');
    expect(upstream.connections).toBeGreaterThan(0);
    expect(upstream.connections).toBeLessThanOrEqual(served);
    expect(gw.alive).toBe(true);
    const health = await openSseHttp2(sessions[0]!, '/healthz');
    expect(await health.done()).toBe('{"status":"ok"}');
    const sse = await openSseHttp2(sessions[1]!, `/graphql${query({ id: 'Ticks', variables: { symbol: 'AFTER' } })}`);
    await upstream.until(() => upstream.listeners('AFTER') === 1);
    expect(sse.status).toBe(200);
  }, 60_000);
});
