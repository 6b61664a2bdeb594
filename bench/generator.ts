/**
 * The load generator, run as its own process and driven over IPC by the
 * orchestrator. autocannon, k6 and Artillery do not read SSE, so this opens
 * the streams itself: HTTP/1.1 (one socket per stream, as EventSource without
 * HTTP/2) or HTTP/2 (many streams per TLS session), splits the bytes into SSE
 * events and reads each event's `seq` and `sentAt`.
 *
 * Latency: a direct graphql-ws subscriber in this same process receives every
 * event the upstream publishes; an event's added latency is its arrival on a
 * stream minus the arrival of the same `seq` on the direct subscriber, both on
 * this process's monotonic clock. End-to-end latency is the arrival minus the
 * upstream's `sentAt` stamp (same machine, same wall clock).
 */
import http from 'node:http';
import http2 from 'node:http2';
import * as hdr from 'hdr-histogram-js';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { BENCH_OPERATION, benchVariables } from './schema.ts';

export type Proto = 'h1' | 'h2';

interface Stream {
  close(): void;
}

/** Microseconds, up to a minute, 3 significant digits. */
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

// Arrival of each seq on the direct subscriber (a ring indexed by seq).
const RING = 1 << 21;
const directSeq = new Float64Array(RING).fill(-1);
const directAt = new Float64Array(RING);
// Stream arrivals during a measurement, resolved against the ring at the end.
const CAP = 4_000_000;
const pendingSeq = new Float64Array(CAP);
const pendingAt = new Float64Array(CAP);
let pending = 0;
let measuring = false;
let events = 0;
let e2e = histogram();
let directE2e = histogram();

const streams = new Set<Stream>();
/** Streams the server ended while we still wanted them (e.g. a `retry:` when the upstream refused). */
let endedByServer = 0;
const h2Sessions: http2.ClientHttp2Session[] = [];
let direct: Client | undefined;

const SEQ = /"seq":(-?\d+)/;
const SENT = /"sentAt":([\d.]+)/;

/** Called for each `data:` payload that arrived at `at` (performance.now()). */
function onData(data: string, at: number) {
  if (!measuring) return;
  events++;
  const m = SEQ.exec(data);
  if (!m) return;
  const seq = Number(m[1]);
  if (seq < 0) return;
  if (pending < CAP) {
    pendingSeq[pending] = seq;
    pendingAt[pending++] = at;
  }
  const s = SENT.exec(data);
  if (s) e2e.recordValue(Math.max(1, Math.round((performance.timeOrigin + at - Number(s[1])) * 1000)));
}

/** An SSE parser over text chunks: calls `onEvent(event, data)` per complete event. */
function sseParser(onEvent: (event: string, data: string, at: number) => void) {
  let buf = '';
  return (chunk: string) => {
    const at = performance.now();
    buf += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      let data: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data:')) data = line.slice(line[5] === ' ' ? 6 : 5);
      }
      if (data !== undefined) onEvent(event, data, at);
    }
  };
}

interface OpenResult {
  ok: boolean;
  error?: string;
}

/** Opens one stream; resolves once the response head arrived (and, with `firstEvent`, once one event did). */
function openStream(base: string, path: string, proto: Proto, firstEvent: boolean): Promise<{ stream: Stream } & OpenResult> {
  return new Promise((resolve) => {
    let settled = false;
    let headed = false;
    let stream!: Stream;
    let closing = false;
    const onServerEnd = () => {
      if (!closing && streams.delete(stream)) endedByServer++;
    };
    const settle = (r: OpenResult) => {
      if (settled) return;
      settled = true;
      resolve({ stream, ...r });
    };
    const parse = sseParser((event, data, at) => {
      if (event === 'next' || event === 'message') {
        onData(data, at);
        if (firstEvent) settle({ ok: true });
      }
    });
    const timer = setTimeout(() => settle({ ok: false, error: 'timed out opening the stream' }), 30_000);
    timer.unref();
    const onHead = (status: number) => {
      headed = true;
      if (status !== 200) settle({ ok: false, error: `status ${status}` });
      else if (!firstEvent) settle({ ok: true });
    };
    if (proto === 'h1') {
      const req = http.request(base + path, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        onHead(res.statusCode ?? 0);
        res.setEncoding('utf8');
        res.on('data', parse);
        res.on('error', () => {});
        res.on('close', () => {
          onServerEnd();
          settle({ ok: false, error: 'closed early' });
        });
      });
      req.on('error', (err) => settle({ ok: false, error: err.message }));
      req.end();
      stream = {
        close: () => {
          closing = true;
          req.destroy();
        },
      };
    } else {
      const session = pickSession(base);
      const req = session.request({ ':path': path, accept: 'text/event-stream' });
      req.setEncoding('utf8');
      req.on('response', (headers) => onHead(Number(headers[':status'])));
      req.on('data', parse);
      req.on('error', (err) => settle({ ok: false, error: err.message }));
      req.on('close', () => {
        onServerEnd();
        settle({ ok: false, error: headed ? 'closed early' : 'closed before the head' });
      });
      req.end();
      stream = {
        close: () => {
          closing = true;
          req.close(http2.constants.NGHTTP2_CANCEL);
        },
      };
    }
    streams.add(stream);
  });
}

/** HTTP/2: at most 100 streams per session, as a browser page with many subscriptions. */
const STREAMS_PER_SESSION = 100;
let sessionUse = 0;
function pickSession(base: string): http2.ClientHttp2Session {
  let s = h2Sessions.at(-1);
  if (!s || sessionUse >= STREAMS_PER_SESSION || s.closed || s.destroyed) {
    s = http2.connect(base, { rejectUnauthorized: false });
    s.on('error', () => {});
    h2Sessions.push(s);
    sessionUse = 0;
  }
  sessionUse++;
  return s;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function pathFor(template: string, group: number, first: boolean) {
  return template.replace('{vars}', encodeURIComponent(JSON.stringify(benchVariables(group, first))));
}

let opened = 0;
const commands: Record<string, (msg: any) => Promise<unknown>> = {
  async direct({ upstream }: { upstream: string }) {
    direct = createClient({
      url: upstream,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { perMessageDeflate: false });
        }
      },
      retryAttempts: 0,
    });
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      direct!.subscribe<{ bench: { seq: number; sentAt: number } }>(
        { query: BENCH_OPERATION, variables: benchVariables(-1, true) },
        {
          next: (r) => {
            const seq = r.data!.bench.seq;
            if (seq < 0) {
              if (!ready) resolve();
              ready = true;
              return;
            }
            const at = performance.now();
            directSeq[seq % RING] = seq;
            directAt[seq % RING] = at;
            if (measuring) directE2e.recordValue(Math.max(1, Math.round((performance.timeOrigin + at - r.data!.bench.sentAt) * 1000)));
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    return {};
  },
  /** Opens `count` more streams (groups round-robin over `groups`); the time is until every head arrived. */
  async open({ base, template, count, proto, groups, concurrency }: { base: string; template: string; count: number; proto: Proto; groups: number; concurrency: number }) {
    const t0 = performance.now();
    let failed = 0;
    let error: string | undefined;
    await pool(count, concurrency, async () => {
      const r = await openStream(base, pathFor(template, opened++ % groups, false), proto, false);
      if (!r.ok) {
        failed++;
        error ??= r.error;
      }
    });
    return { ms: performance.now() - t0, failed, error, open: streams.size };
  },
  async stats() {
    return { open: streams.size, endedByServer };
  },
  async closeAll() {
    for (const s of streams) s.close();
    streams.clear();
    for (const s of h2Sessions) s.close();
    h2Sessions.length = 0;
    opened = 0;
    endedByServer = 0;
    return {};
  },
  async start() {
    measuring = true;
    pending = 0;
    events = 0;
    e2e = histogram();
    directE2e = histogram();
    return {};
  },
  /** Ends a measurement: event count, added-latency and end-to-end histograms (µs). */
  async stop() {
    measuring = false;
    // Give the direct subscriber a moment for the last events (it may be read after a stream).
    await new Promise((r) => setTimeout(r, 200));
    const added = histogram();
    let early = 0;
    let unmatched = 0;
    for (let i = 0; i < pending; i++) {
      const seq = pendingSeq[i]!;
      if (directSeq[seq % RING] !== seq) {
        unmatched++;
        continue;
      }
      const us = Math.round((pendingAt[i]! - directAt[seq % RING]!) * 1000);
      if (us < 1) early++;
      added.recordValue(Math.max(1, us));
    }
    return { events, matched: pending - unmatched, early, unmatched, added: summary(added), e2e: summary(e2e), direct: summary(directE2e) };
  },
  /** Subscribe (wait for the first event), abort, repeat: `concurrency` loops for `durationMs`. */
  async churn({ base, template, proto, concurrency, durationMs }: { base: string; template: string; proto: Proto; concurrency: number; durationMs: number }) {
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    let cycles = 0;
    let failed = 0;
    let error: string | undefined;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        // Bounded in time and in count.
        for (let i = 0; i < 1_000_000 && performance.now() < deadline; i++) {
          const r = await openStream(base, pathFor(template, 1_000_000 + w, true), proto, true);
          r.stream.close();
          streams.delete(r.stream);
          if (r.ok) cycles++;
          else {
            failed++;
            error ??= r.error;
            if (failed > 100) return;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { cycles, seconds, perSecond: cycles / seconds, failed, error };
  },
};

function summary(h: hdr.Histogram) {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

process.on('message', (msg: { cmd: string; id: number }) => {
  const run = commands[msg.cmd];
  if (!run) return process.send!({ reply: msg.id, error: `unknown command ${msg.cmd}` });
  run(msg).then(
    (result) => process.send!({ reply: msg.id, result }),
    (err: unknown) => process.send!({ reply: msg.id, error: String((err as Error)?.stack ?? err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
