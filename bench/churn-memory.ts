/**
 * Benchmark: gateway RSS across connect/abort churn.
 *
 *   npm run bench:churn            # BENCH_CYCLES=5000 by default
 *
 * Same setup as slow-consumer.ts: a graphql-ws upstream in this process, the
 * gateway as a child process (`src/cli/start.ts` via bench/gateway-with-gc.ts,
 * so a full GC runs before each reading), RSS from /proc (Linux).
 * Runs BENCH_CYCLES subscriptions, 50 at a time, each aborted at a different
 * stage (before the head, after it, mid-stream), then checks that the
 * upstream holds no socket and the gateway's /metrics shows no open stream,
 * and prints RSS before, at the peak and after. Loopback only; bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { channel } from '../src/example/channel.ts';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../src/core/operations/manifest.ts';
import { compileOperations } from '../src/register/compile.ts';
import { readSources } from '../src/node/operations/source.ts';

const CYCLES = Number(process.env.BENCH_CYCLES ?? 5000);
const CONCURRENCY = 50;

const schema = buildSchema('type Query { ok: Boolean }\ntype Subscription { tick(n: Int!): String! }\n');
const tick = schema.getSubscriptionType()!.getFields().tick!;
tick.subscribe = (_, { n }) =>
  channel<string>((push) => {
    const timer = setInterval(() => push(`tick ${n}`), 2);
    return () => clearInterval(timer);
  });
tick.resolve = (v) => v;

const dir = await mkdtemp(join(tmpdir(), 'subway-bench-'));
await writeFile(join(dir, 'Tick.graphql'), 'subscription Tick($n: Int!) {\n  tick(n: $n)\n}\n');
const { bundle, problems } = compileOperations(await readSources(dir), schema);
if (problems.length) throw new Error(problems.join('\n'));
await writeFile(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
await writeFile(join(dir, COMPANION_FILE), formatJson(bundle.companion));

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql', perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
let sockets = 0;
wss.on('connection', (s) => {
  sockets++;
  s.once('close', () => sockets--);
});
const server = useServer({ schema }, wss);
const upstreamUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/graphql`;

const child = spawn(process.execPath, ['--expose-gc', 'bench/gateway-with-gc.ts'], {
  env: { ...process.env, HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstreamUrl, PERSISTED_OPERATIONS: dir, HEARTBEAT_MS: '0', LOG_STREAMS: 'false' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.once('exit', () => child.kill('SIGKILL'));
const deadline = setTimeout(() => {
  console.error('bench: deadline reached');
  process.exit(1);
}, 300_000);
let stdout = '';
child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
const waitFor = async <T>(fn: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`gateway exited while waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1], 'the gateway to listen');
const base = `http://127.0.0.1:${port}`;
/** Forces a full GC in the gateway and waits for it. */
const collect = async () => {
  const seen = stdout.split('gc done').length;
  child.kill('SIGUSR2');
  await waitFor(() => (stdout.split('gc done').length > seen ? true : undefined), 'a GC');
};
const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
const heapUsed = async () => Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())![1]);
const openStreams = async () => Number(/^subway_streams_open (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())![1]);

const cycle = async (i: number) => {
  const controller = new AbortController();
  const pending = fetch(`${base}/graphql?id=Tick&variables=${encodeURIComponent(JSON.stringify({ n: i }))}`, { signal: controller.signal });
  if (i % 3 === 0) {
    controller.abort();
    await pending.catch(() => {});
    return;
  }
  const res = await pending;
  const reader = res.body!.getReader();
  if (i % 3 === 2) {
    // Mid-stream: wait for the first event.
    let text = '';
    while (!text.includes('event: next')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  }
  controller.abort();
  await reader.read().catch(() => {});
};
const run = async (n: number) => {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await cycle(next++);
  }));
  await waitFor(async () => (sockets === 0 && (await openStreams()) === 0 ? true : undefined), 'everything to be torn down');
};

await run(500); // warm-up
await new Promise((r) => setTimeout(r, 500));
await collect();
const before = await rss();
const heapBefore = await heapUsed();
let peak = before;
const sampler = setInterval(() => void rss().then((v) => (peak = Math.max(peak, v))), 20);
const started = Date.now();
await run(CYCLES);
const elapsed = Date.now() - started;
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1000));
await collect();
const after = await rss();
const heapAfter = await heapUsed();
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`churn: ${CYCLES} connect/abort cycles, ${CONCURRENCY} at a time, in ${elapsed} ms`);
console.log(`  afterwards: upstream sockets ${sockets}, gateway streams open ${await openStreams()}`);
console.log(`  gateway JS heap used: before ${mb(heapBefore)}, after ${mb(heapAfter)}`);
console.log(`  gateway RSS: before ${mb(before)}, peak ${mb(peak)} (+${mb(peak - before)}), after ${mb(after)} (+${mb(after - before)})`);

clearTimeout(deadline);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await server.dispose();
await new Promise((r) => wss.close(r));
await rm(dir, { recursive: true, force: true });
