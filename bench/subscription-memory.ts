/**
 * Benchmark: what one open subscription costs the gateway in memory, the
 * fixed part of docs/security.md's arithmetic.
 *
 *   node bench/subscription-memory.ts        # BENCH_SUBSCRIPTIONS=2000 by default
 *
 * A graphql-ws upstream in this process whose subscription never sends; the
 * gateway as a child process (bench/gateway-with-gc.ts: a full GC before each
 * reading); BENCH_SUBSCRIPTIONS streams opened over HTTP/1.1 and left open,
 * each with its upstream socket. Prints the JS heap (after a full GC) and RSS
 * (from /proc) before and after, and their growth per subscription.
 * Loopback only; bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { channel } from '../src/example/channel.ts';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../src/core/operations/manifest.ts';
import { compileOperations } from '../src/register/compile.ts';
import { readSources } from '../src/node/operations/source.ts';

const N = Number(process.env.BENCH_SUBSCRIPTIONS ?? 2000);

const schema = buildSchema('type Query { ok: Boolean }\ntype Subscription { quiet(n: Int!): String! }\n');
const quiet = schema.getSubscriptionType()!.getFields().quiet!;
quiet.subscribe = () => channel<string>(() => () => {});
quiet.resolve = (v) => v;

const dir = await mkdtemp(join(tmpdir(), 'subway-bench-'));
await writeFile(join(dir, 'Quiet.graphql'), 'subscription Quiet($n: Int!) {\n  quiet(n: $n)\n}\n');
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
useServer({ schema }, wss);
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
const collect = async () => {
  const seen = stdout.split('gc done').length;
  child.kill('SIGUSR2');
  await waitFor(() => (stdout.split('gc done').length > seen ? true : undefined), 'a GC');
};
const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
const heapUsed = async () => Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())![1]);
const reading = async () => {
  await collect();
  return { heap: await heapUsed(), rss: await rss() };
};

const before = await reading();
const controllers: AbortController[] = [];
// Held: undici cancels the body of a Response that is garbage collected, which would end its stream.
const responses: Response[] = [];
for (let i = 0; i < N; i++) {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await fetch(`${base}/graphql?id=Quiet&variables=${encodeURIComponent(JSON.stringify({ n: i }))}`, { signal: controller.signal });
  if (res.status !== 200) throw new Error(`subscription ${i}: ${res.status}`);
  responses.push(res);
}
await waitFor(() => (sockets === N ? true : undefined), `${N} upstream sockets`);
const after = await reading();
for (const c of controllers) c.abort();
const MiB = 2 ** 20;
console.log(`${N} open subscriptions (HTTP/1.1, one upstream socket each):`);
console.log(`  JS heap after a full GC: ${(before.heap / MiB).toFixed(1)} -> ${(after.heap / MiB).toFixed(1)} MiB, ${((after.heap - before.heap) / N / 1024).toFixed(1)} KiB per subscription`);
console.log(`  RSS: ${(before.rss / MiB).toFixed(1)} -> ${(after.rss / MiB).toFixed(1)} MiB, ${((after.rss - before.rss) / N / 1024).toFixed(1)} KiB per subscription`);
clearTimeout(deadline);
child.kill('SIGKILL');
process.exit(0);
