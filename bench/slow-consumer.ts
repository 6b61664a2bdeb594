/**
 * Benchmark: a stalled reader on a 100k-event burst, and the gateway's RSS.
 *
 *   npm run bench:slow-consumer                       # default bounds
 *   MAX_QUEUED_EVENTS=10000000 MAX_QUEUED_BYTES=1073741824 npm run bench:slow-consumer   # effectively unbounded, for comparison
 *
 * Starts a graphql-ws upstream in this process whose `burst` subscription
 * publishes EVENTS results as fast as graphql-js runs, and the gateway as a
 * child process (`src/cli/start.ts` via bench/gateway-with-gc.ts, so a full GC
 * runs before the baseline is read; configured by the environment), so the
 * gateway's RSS (read from /proc/<pid>/status, Linux) is its own. A raw TCP
 * client sends one SSE request and never reads. Prints baseline, peak and
 * final RSS, and how the stream ended. Loopback only; bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema } from 'graphql';
import { channel } from '../src/example/channel.ts';
import { startGraphqlWsServer } from '../src/example/server.ts';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../src/core/operations/manifest.ts';
import { compileOperations } from '../src/register/compile.ts';
import { readSources } from '../src/node/operations/source.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const SIZE = Number(process.env.BENCH_EVENT_SIZE ?? 100);
const DEADLINE_MS = 120_000;

const typeDefs = 'type Query { ok: Boolean }\ntype Subscription { burst(count: Int!, size: Int!): String! }\n';
const schema = buildSchema(typeDefs);
let upstreamDone = 0;
const burst = schema.getSubscriptionType()!.getFields().burst!;
burst.subscribe = (_, { count, size }) =>
  channel<string>((push, end) => {
    const payload = 'x'.repeat(Number(size));
    let stopped = false;
    let i = 0;
    // Publish in slices so a `complete` from the gateway can stop the burst midway.
    const tick = () => {
      for (let n = 0; n < 1000 && i < Number(count) && !stopped; n++) push(`${i++}:${payload}`);
      if (i < Number(count) && !stopped) setImmediate(tick);
      else end();
    };
    setImmediate(tick);
    return () => {
      stopped = true;
      upstreamDone++;
    };
  });
burst.resolve = (v) => v;

const dir = await mkdtemp(join(tmpdir(), 'subway-bench-'));
await writeFile(join(dir, 'Burst.graphql'), 'subscription Burst($count: Int!, $size: Int!) {\n  burst(count: $count, size: $size)\n}\n');
const { bundle, problems } = compileOperations(await readSources(dir), schema);
if (problems.length) throw new Error(problems.join('\n'));
await writeFile(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
await writeFile(join(dir, COMPANION_FILE), formatJson(bundle.companion));
const upstream = await startGraphqlWsServer(schema);

const child = spawn(process.execPath, ['--expose-gc', 'bench/gateway-with-gc.ts'], {
  env: { ...process.env, HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstream.url, PERSISTED_OPERATIONS: dir, HEARTBEAT_MS: '0', LOG_STREAMS: 'true' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let stdout = '';
child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
process.once('exit', () => child.kill('SIGKILL'));
const deadline = setTimeout(() => {
  console.error('bench: deadline reached');
  child.kill('SIGKILL');
  process.exit(1);
}, DEADLINE_MS);

const waitFor = async <T>(fn: () => T | undefined, what: string): Promise<T> => {
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`gateway exited while waiting for ${what}:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1], 'the gateway to listen');
/** Forces a full GC in the gateway and waits for it. */
const collect = async () => {
  const seen = stdout.split('gc done').length;
  child.kill('SIGUSR2');
  await waitFor(() => (stdout.split('gc done').length > seen ? true : undefined), 'a GC');
};
const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
const path = (count: number) => `/graphql?id=Burst&variables=${encodeURIComponent(JSON.stringify({ count, size: SIZE }))}`;
const ends = () => stdout.split('\n').filter((l) => l.includes('"stream end"')).map((l) => JSON.parse(l) as { reason: string; events: number; bytes: number });

// Warm-up: clients that read whole bursts, so JIT and buffers are in place.
for (let i = 0; i < 5; i++) {
  const warmText = await (await fetch(`http://127.0.0.1:${port}${path(2000)}`)).text();
  if (!warmText.endsWith('event: complete\ndata:\n\n')) throw new Error(`warm-up burst did not complete: ${warmText.slice(-200)}`);
}
await new Promise((r) => setTimeout(r, 500));
await collect();
const baseline = await rss();

// The stalled reader: sends its request, never reads a byte.
const socket = net.connect(Number(port), '127.0.0.1');
socket.pause();
socket.on('error', () => {});
socket.write(`GET ${path(EVENTS)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
const started = Date.now();
let peak = baseline;
const sampler = setInterval(() => void rss().then((v) => (peak = Math.max(peak, v))), 5);
const end = await waitFor(() => (ends().length >= 6 && upstreamDone >= 6 ? ends()[5] : undefined), 'the stalled stream to end');
const elapsed = Date.now() - started;
await new Promise((r) => setTimeout(r, 200));
clearInterval(sampler);
peak = Math.max(peak, await rss());
const after = await rss();

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`stalled reader, ${EVENTS} events of ${SIZE} B requested (MAX_QUEUED_EVENTS=${process.env.MAX_QUEUED_EVENTS ?? '4096'}, MAX_QUEUED_BYTES=${process.env.MAX_QUEUED_BYTES ?? '65536'})`);
console.log(`  stream ended: ${end.reason} after ${end.events} events (${mb(end.bytes)}) in ${elapsed} ms`);
console.log(`  gateway RSS: baseline ${mb(baseline)}, peak ${mb(peak)} (+${mb(peak - baseline)}), after ${mb(after)} (+${mb(after - baseline)})`);

socket.destroy();
clearTimeout(deadline);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await upstream.close();
await rm(dir, { recursive: true, force: true });
