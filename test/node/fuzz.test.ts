/**
 * Bad input, generated: a few thousand malformed requests (random ids, broken
 * and oversized JSON, wrong types, deep input objects, odd encodings, huge
 * headers, wrong methods, garbage on the socket). The gateway answers every
 * one without a 5xx, never crashes, and opens no upstream connection.
 * Seeded, so a failure replays.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { prng } from '../fixtures/prng.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const REQUESTS = 3000;
const CONCURRENCY = 16;


interface Case {
  kind: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Lone surrogates (from slicing emoji) become U+FFFD; raw invalid UTF-8 comes from the odd-encoding cases. */
const enc = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const JUNK = `{}[]":,0123456789.eE+-truefalsnl \\/\u0000\u001f\u2028é😀`;

function generate(r: ReturnType<typeof prng>): Case {
  const v = (id: string, variables: string, extra = '') => `/graphql?id=${enc(id)}&variables=${enc(variables)}${extra}`;
  const wrongScalar = () => r.pick(['5', '-1', '1.5', 'true', 'false', 'null', '[]', '[1]', '{}', '{"a":1}', '9007199254740993', '1e400']);
  const deep = (depth: number, open: string, close: string, leaf = '1') => open.repeat(depth) + leaf + close.repeat(depth);
  switch (r.int(12)) {
    case 0: {
      const id = r.pick([
        () => r.chars(ALNUM, 1 + r.int(40)),
        () => `sha256:${r.chars(HEX, r.pick([0, 1, 63, 65, 128]))}`,
        () => r.chars(HEX, 64),
        () => `x${r.chars('é😀\u0000\u202e<>"\'\\', 1 + r.int(10))}`,
        () => 'Ticks'.repeat(1 + r.int(200)),
      ])();
      return { kind: 'random id', path: `/graphql?${r.pick(['id', 'documentId'])}=${enc(id)}` };
    }
    case 1: {
      const valid = JSON.stringify({ symbol: 'A' });
      const broken = r.pick([() => valid.slice(0, r.int(valid.length - 1)), () => r.chars(JUNK, 1 + r.int(60)), () => `${valid}}`, () => "{'symbol':'A'}", () => '{"symbol":"A",}'])();
      return { kind: 'broken JSON', path: v('Ticks', broken) };
    }
    case 2: {
      const size = r.pick([5000, 9000, 20000]);
      return { kind: 'oversized JSON', path: v('Ticks', JSON.stringify({ symbol: r.chars(ALNUM, size) })) };
    }
    case 3: {
      const [id, name] = r.pick([['Ticks', 'symbol'], ['Greetings', 'count'], ['Hello', 'name'], ['Orders', 'filter']] as const);
      const value = name === 'count' ? r.pick(['"5"', '1.5', '1099511627776', 'null', '[1,2]', 'true']) : name === 'filter' ? r.pick(['5', '"A"', '[]', 'null', '{"symbols":[1]}', '{"symbols":["A"],"side":"HOLD"}', '{"symbols":["A"],"range":{"min":"x"}}', '{"symbols":["A"],"nope":1}']) : name === 'symbol' ? wrongScalar().replace(/^(null)$/, 'null') : r.pick(['5', 'true', '[]', '{}', '1.5']);
      return { kind: 'wrong type', path: v(id, `{"${name}":${value}}`) };
    }
    case 4: {
      const depth = 50 + r.int(750);
      const variables = r.pick([
        () => `{"filter":{"symbols":["A"],"range":${deep(depth, '{"min":', '}')}}}`,
        () => `{"filter":{"symbols":${deep(depth, '[', ']', '"A"')}}}`,
        () => `{"symbol":${deep(depth, '[', ']')}}`,
        () => `{"filter":${deep(depth, '{"a":', '}')}}`,
      ])();
      return { kind: 'deep input', path: v(r.pick(['Orders', 'Ticks']), variables) };
    }
    case 5: {
      const tail = r.pick(['%zz', '%', '%F', '%FF%FE', '%00', '%ED%A0%80', '%C0%AF', '%F0%9F', '+%2B+', '%E2%80%AE', '%0D%0A']);
      return { kind: 'odd encoding', path: r.pick([`/graphql?id=Ticks&variables=%7B%22symbol%22%3A${tail}`, `/graphql?id=${tail}`, `/graphql?${tail}=1&id=Nope`, `/graphql?extensions=${tail}`]) };
    }
    case 6: {
      const size = r.pick([4000, 12000, 15000, 30000]);
      const name = r.pick(['cookie', 'authorization', 'x-junk', 'accept']);
      return { kind: 'huge header', path: v('Nope', '{}'), headers: { [name]: r.chars(ALNUM, size) } };
    }
    case 7: {
      const path = r.pick([
        '/graphql?id=Ticks&id=Hello',
        '/graphql?id=Ticks&variables={}&variables={}',
        `/graphql?extensions=${enc('{"persistedQuery":{"version":2,"sha256Hash":"ab"}}')}`,
        `/graphql?extensions=${enc('{"persistedQuery":{"version":1,"sha256Hash":5}}')}`,
        `/graphql?extensions=${enc('{"persistedQuery":null}')}`,
        `/graphql?extensions=${enc('[]')}`,
        '/graphql?id=Ticks&documentId=Greetings',
        `/graphql?id=Ticks&variables=${enc('[]')}`,
        `/graphql?id=Ticks&variables=${enc('"str"')}`,
        '/graphql?id=Bump',
        '/graphql',
        '/graphql?',
        `/graphql?id=Ticks&variables=${enc(`{"${r.chars(ALNUM, 8)}":1}`)}`,
      ]);
      return { kind: 'wrong shape', path };
    }
    case 8: {
      const method = r.pick(['POST', 'PUT', 'DELETE', 'PATCH']);
      return { kind: 'wrong method', method, path: v('Ticks', '{"symbol":"A"}'), body: r.chars(JUNK, r.int(200)) };
    }
    case 9:
      return { kind: 'not acceptable', path: v('Ticks', '{"symbol":"A"}'), headers: { accept: r.pick(['application/json', 'text/html', 'text/event-stream;q=0', 'image/*']) } };
    case 10:
      return { kind: 'random path', path: `/${r.chars(ALNUM + '/%.-_', r.int(80))}` };
    default: {
      // Valid id, one undeclared variable beside a valid one.
      return { kind: 'undeclared variable', path: v('Ticks', JSON.stringify({ symbol: 'A', [r.chars(ALNUM, 1 + r.int(12))]: r.int(10) })) };
    }
  }
}

/** Raw bytes on a socket: what a fetch client would never send. Resolves with the status line, or '' if the server just closed. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.end(bytes, 'latin1');
  });
}

describe('generated bad input', () => {
  it(`${REQUESTS} malformed requests: no 5xx, no crash, no upstream connection`, async () => {
    const upstream = await startUpstream();
    // A variables limit under the query-string limit, so oversized JSON meets both the 413 and the 414.
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, maxVariablesBytes: 4096 });
    const r = prng(0x5eed);
    const statuses = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    const cases = Array.from({ length: REQUESTS }, () => generate(r));
    let index = 0;
    const worker = async () => {
      while (index < cases.length) {
        const c = cases[index++]!;
        let status: number;
        try {
          const res = await fetch(`${gw.url}${c.path}`, {
            method: c.method ?? 'GET',
            headers: { accept: 'text/event-stream', ...c.headers },
            body: c.body,
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          const text = await res.text();
          if (status !== 431) {
            const body = JSON.parse(text) as { errors: { message: string; extensions: { code: string } }[] };
            if (typeof body.errors[0]?.extensions.code !== 'string') failures.push(`${c.kind} ${c.path.slice(0, 120)}: no error code in ${text.slice(0, 200)}`);
          }
        } catch (err) {
          failures.push(`${c.kind} ${c.path.slice(0, 120)}: ${String(err)}`);
          continue;
        }
        if (status < 400 || status >= 500) failures.push(`${c.kind} ${c.path.slice(0, 120)}: status ${status}`);
        const byKind = statuses.get(c.kind) ?? new Map<number, number>();
        byKind.set(status, (byKind.get(status) ?? 0) + 1);
        statuses.set(c.kind, byKind);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    // Garbage a fetch client would never send: Node's parser answers 400 (or 431) and closes.
    const port = gw.node.port;
    const garbage = [
      'GET /graphql?id=Ticks HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
      'GET /graphql?id=Ti\u0000cks HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /graphql?id=Ticks HTTP/9.9\r\nHost: x\r\n\r\n',
      'NOTAMETHOD / HTTP/1.1\r\n\r\n',
      '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003',
      `GET /graphql?id=Ticks HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`,
      'GET /graphql?id=Ticks HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /graphql?id=Ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ];
    for (let i = 0; i < 50; i++) {
      const line = await raw(port, garbage[i % garbage.length]!);
      if (/^HTTP\/1\.1 5/.test(line)) failures.push(`raw ${i}: ${line}`);
    }

    expect(failures).toEqual([]);
    expect(upstream.connections).toBe(0);
    expect(gw.gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    // Every kind of case was generated, and each was refused with a 4xx.
    expect([...statuses.keys()].sort()).toEqual([
      'broken JSON', 'deep input', 'huge header', 'not acceptable', 'odd encoding', 'oversized JSON', 'random id', 'random path', 'undeclared variable', 'wrong method', 'wrong shape', 'wrong type',
    ]);
    onTeardown(() => console.log(JSON.stringify(Object.fromEntries([...statuses].map(([k, m]) => [k, Object.fromEntries(m)])))));

    // Still serving.
    const sse = await openSse(`${gw.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'OK' } })}`);
    await upstream.until(() => upstream.listeners('OK') === 1);
    expect(sse.status).toBe(200);
  }, 90_000); // 3,000 requests: about 5 s alone, several times that on a loaded 2-core machine
});
