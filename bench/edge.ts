/**
 * `npm run bench:edge`: what subway costs on Cloudflare's runtime, measured
 * on workerd locally (`wrangler`'s `unstable_startWorker`, as `npm run
 * dev:worker` runs it): CPU per delivered event, and deliveries per CPU
 * millisecond of the Durable Object at 1, 100 and 1,000 subscribers of one
 * shared subscription (docs/workers.md, "CPU per event").
 *
 * - The upstream is a real graphql-ws server in this process on a loopback
 *   port; the subscribers are SSE readers in this process (node:http), each
 *   a separate request to the Worker. workerd runs in its own processes.
 * - CPU is workerd's: user + system time of the workerd process that runs
 *   the Worker and its Durable Objects (wrangler's local proxy, a workerd
 *   of its own in front of it, is measured apart and left out: Cloudflare
 *   bills no such hop), from /proc/<pid>/stat, across the delivery of
 *   a run's events to every subscriber (no start-up, no subscribing). The
 *   kernel counts it in 10 ms ticks: each run lasts long enough that a tick
 *   is under 2 % of it. Loopback networking is part of the figure, so it is
 *   an upper bound of what the Worker's isolate itself spends.
 * - Scenarios: `worker` (UPSTREAM_SHARING=off: the Worker's own request
 *   holds the upstream socket and writes the stream, the CPU a Free plan's
 *   10 ms bounds), and `object` (UPSTREAM_SHARING=subscription: one Durable
 *   Object holds one upstream subscription and writes every stream; the
 *   Worker's requests only pipe the object's bytes).
 *
 * Bounded: at most 1,000 subscribers and 500,000 deliveries per scenario
 * (EVENTS overrides the events per run), loopback only. RUNS (default 3) alternating runs; medians.
 * Results: bench/results/edge.json and edge.md.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSchema, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { unstable_startWorker } from 'wrangler';
import { writeWorkerEntry } from '../src/cli/worker-entry.ts';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../src/core/operations/manifest.ts';
import { readSources } from '../src/node/operations/source.ts';
import { compileOperations } from '../src/register/compile.ts';
import { BENCH_OPERATION, benchTypeDefs, benchVariables } from './schema.ts';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

/** Upstream events per run: enough that the kernel's 10 ms CPU ticks are under 2 % of each figure. */
const EVENTS = Number(process.env.EVENTS ?? 0);
const eventsFor = (subscribers: number) => EVENTS || (subscribers >= 1000 ? 500 : subscribers >= 100 ? 2000 : 10_000);
const RUNS = Number(process.env.RUNS ?? 3);
const PAYLOAD_BYTES = Number(process.env.PAYLOAD_BYTES ?? 100);
const SCENARIOS: { name: string; sharing: 'off' | 'subscription'; subscribers: number }[] = [
  { name: 'worker, 1 subscriber', sharing: 'off', subscribers: 1 },
  { name: 'object, 1 subscriber', sharing: 'subscription', subscribers: 1 },
  { name: 'object, 100 subscribers', sharing: 'subscription', subscribers: 100 },
  { name: 'object, 1,000 subscribers', sharing: 'subscription', subscribers: Number(process.env.MAX_SUBSCRIBERS ?? 1000) },
];
const TICK_MS = 1000 / 100; // USER_HZ

// ── workerd's CPU ─────────────────────────────────────────────────────────

/** Pids of every workerd process descending from this one. */
function workerdPids(): number[] {
  const parent = new Map<number, number>();
  const name = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      name.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...name].filter(([pid, n]) => n.startsWith('workerd') && mine(pid)).map(([pid]) => pid);
}

/** The pid among `pids` that listens on TCP `port` (wrangler's local proxy in front of the Worker), from /proc/net/tcp. */
function listeningPid(pids: number[], port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local address hex:port, state 0A = LISTEN
      if (f[3] === '0A' && parseInt(f[1]?.split(':')[1] ?? '', 16) === port) inodes.add(f[9]!);
    }
  }
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** User + system CPU milliseconds of `pids`. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_MS;
}

// ── the upstream ──────────────────────────────────────────────────────────

interface Upstream {
  url: string;
  subscriptions: number;
  publish(seq: number): void;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const schema = buildSchema(benchTypeDefs);
  const pushes = new Set<(r: ExecutionResult) => void>();
  const payload = 'x'.repeat(PAYLOAD_BYTES);
  schema.getSubscriptionType()!.getFields().bench!.subscribe = () => {
    const queue: ExecutionResult[] = [];
    let waiting: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
    const push = (r: ExecutionResult) => {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ value: r, done: false });
      } else queue.push(r);
    };
    pushes.add(push);
    return {
      next: () => (queue.length ? Promise.resolve({ value: queue.shift()!, done: false }) : new Promise((r) => (waiting = r))),
      return: () => {
        pushes.delete(push);
        waiting?.({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<ExecutionResult>;
  };
  schema.getSubscriptionType()!.getFields().bench!.resolve = (v: ExecutionResult) => v;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const server = useServer({ schema, execute: (args) => args.rootValue as ExecutionResult, subscribe: async () => schemaStream() }, wss);
  // Execution is replaced by the event source (no resolver work per event), as in bench/upstream.ts.
  function schemaStream(): AsyncIterableIterator<ExecutionResult> {
    return schema.getSubscriptionType()!.getFields().bench!.subscribe!(undefined, {}, undefined, undefined as never) as AsyncIterableIterator<ExecutionResult>;
  }
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/graphql`,
    get subscriptions() {
      return pushes.size;
    },
    publish: (seq) => {
      const result = { data: { bench: { seq, sentAt: 0, payload } } };
      for (const push of pushes) push(result);
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await server.dispose();
      await new Promise((r) => wss.close(r));
    },
  };
}

// ── SSE readers ───────────────────────────────────────────────────────────

interface Reader {
  events: number;
  request: http.ClientRequest;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function openReader(url: string, onEvent: () => void): Promise<Reader> {
  return new Promise((resolveReader, reject) => {
    const reader = { events: 0 } as Reader;
    reader.request = http.get(url, { agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      let tail = '';
      res.on('data', (chunk: string) => {
        // Count `event: next` lines, across chunk boundaries.
        const text = tail + chunk;
        let at = 0;
        for (;;) {
          at = text.indexOf('event: next\n', at);
          if (at < 0) break;
          reader.events++;
          onEvent();
          at += 12;
        }
        tail = text.slice(-11);
      });
      res.on('error', () => {});
      resolveReader(reader);
    });
    reader.request.on('error', reject);
  });
}

// ── one run ───────────────────────────────────────────────────────────────

interface RunResult {
  /** The Worker's and its objects' workerd. */
  cpuMs: number;
  /** wrangler's local proxy's workerd (not part of the figures). */
  proxyCpuMs: number;
  events: number;
  processes: number;
  deliveries: number;
  upstreamSubscriptions: number;
}

/** An upstream, and the Worker on workerd with `vars` serving the operations of `dir`; `close` disposes of all three. */
async function startBenchWorker(dir: string, vars: Record<string, string>) {
  const upstream = await startUpstream();
  const entry = await writeWorkerEntry(dir);
  const bindings = { ...vars, UPSTREAM_URL: upstream.url };
  const worker = await unstable_startWorker({
    config: resolve('wrangler.toml'),
    entrypoint: entry.path,
    bindings: Object.fromEntries(Object.entries(bindings).map(([k, value]) => [k, { type: 'plain_text', value }])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'error', persist: false },
  } as Parameters<typeof unstable_startWorker>[0]);
  const close = async () => {
    await worker.dispose();
    await entry.dispose();
    await upstream.close();
  };
  return { upstream, worker, close };
}

async function run(dir: string, sharing: 'off' | 'subscription', subscribers: number): Promise<RunResult> {
  const events = eventsFor(subscribers);
  const { upstream, worker, close } = await startBenchWorker(dir, {
    UPSTREAM_SHARING: sharing,
    HEARTBEAT_MS: '15000',
    MAX_SUBSCRIPTIONS: '100000',
    // One long response per reader: the Worker's own stream would end after 200 events (its CPU budget) and the run stall.
    MAX_STREAM_EVENTS: '0',
  });
  const readers: Reader[] = [];
  try {
    await worker.ready;
    const origin = (await worker.url).origin;
    const id = new URLSearchParams({ id: 'Bench', variables: JSON.stringify(benchVariables(0, false)) });
    const url = `${origin}/graphql?${id}`;
    let delivered = 0;
    let wake: (() => void) | undefined;
    const onEvent = () => {
      delivered++;
      wake?.();
    };
    // Open in batches (a burst of 1,000 connects at once would measure the accept queue).
    for (let i = 0; i < subscribers; i += 50) {
      readers.push(...(await Promise.all(Array.from({ length: Math.min(50, subscribers - i) }, () => openReader(url, onEvent)))));
    }
    const wanted = sharing === 'subscription' ? 1 : subscribers;
    await until(() => upstream.subscriptions >= wanted, 'upstream subscriptions');
    // Warm-up: one event through every stream (JIT, first writes).
    upstream.publish(-1);
    await untilDelivered(() => delivered >= subscribers);
    delivered = 0;
    const all = workerdPids();
    // wrangler runs a proxy Worker in a workerd of its own in front of the user's: measured apart (Cloudflare has no such hop to bill).
    const proxy = listeningPid(all, Number(new URL(origin).port));
    const pids = all.filter((p) => p !== proxy);
    const proxyPids = proxy === undefined ? [] : [proxy];
    const before = cpuMs(pids);
    const proxyBefore = cpuMs(proxyPids);
    // Publish in windows: at most 50 events ahead of the slowest reader, so queues stay bounded.
    for (let seq = 0; seq < events; seq++) {
      upstream.publish(seq);
      if (seq % 50 === 49) await untilDelivered(() => delivered >= (seq + 1) * subscribers);
    }
    await untilDelivered(() => delivered >= events * subscribers);
    const after = cpuMs(pids);
    const proxyAfter = cpuMs(proxyPids);
    return { cpuMs: after - before, proxyCpuMs: proxyAfter - proxyBefore, events, deliveries: delivered, upstreamSubscriptions: upstream.subscriptions, processes: pids.length };

    function untilDelivered(done: () => boolean): Promise<void> {
      return new Promise((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out: ${delivered} deliveries`)), 60_000);
        wake = () => {
          if (!done()) return;
          clearTimeout(timer);
          wake = undefined;
          resolveWait();
        };
        wake();
      });
    }
  } finally {
    for (const r of readers) r.request.destroy();
    await close();
  }
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// ── main ──────────────────────────────────────────────────────────────────

/**
 * `LIMIT=1`: how many streams one Durable Object serves before something
 * gives. Opens subscribers of one shared subscription in steps of STEP
 * (default 500) up to LIMIT_MAX (default 8000); after each step one event
 * must reach every stream within 10 s. Prints the last step that held and
 * what failed at the next.
 */
async function probeLimit(dir: string): Promise<void> {
  const step = Number(process.env.STEP ?? 500);
  const max = Number(process.env.LIMIT_MAX ?? 8000);
  const { upstream, worker, close } = await startBenchWorker(dir, { UPSTREAM_SHARING: 'subscription', MAX_SUBSCRIPTIONS: '1000000' });
  const readers: Reader[] = [];
  let held = 0;
  let delivered = 0;
  let seq = 0;
  try {
    await worker.ready;
    const origin = (await worker.url).origin;
    const url = `${origin}/graphql?${new URLSearchParams({ id: 'Bench', variables: JSON.stringify(benchVariables(0, false)) })}`;
    while (readers.length < max) {
      const target = readers.length + step;
      try {
        while (readers.length < target) readers.push(...(await Promise.all(Array.from({ length: 50 }, () => openReader(url, () => delivered++)))));
        await until(() => upstream.subscriptions === 1, 'the upstream subscription');
        delivered = 0;
        upstream.publish(seq++);
        const deadline = Date.now() + 10_000;
        while (delivered < readers.length) {
          if (Date.now() > deadline) throw new Error(`only ${delivered} of ${readers.length} streams received the event within 10 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
        held = readers.length;
        const rss = workerdPids().map((pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
        console.log(`  ${held} streams: every stream got the event (workerd RSS ${rss.map((r) => `${r.toFixed(0)} MiB`).join(' + ')})`);
      } catch (err) {
        console.log(`  at ${target} streams: ${(err as Error).message}`);
        break;
      }
    }
    console.log(`one object served ${held} streams${held >= max ? ` (LIMIT_MAX; nothing gave)` : ''}`);
  } finally {
    for (const r of readers) r.request.destroy();
    await close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'subway-edge-bench-'));
try {
  writeFileSync(join(dir, 'Bench.graphql'), BENCH_OPERATION);
  const { bundle, problems } = compileOperations(await readSources(dir), buildSchema(benchTypeDefs));
  if (problems.length) throw new Error(problems.join('\n'));
  writeFileSync(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
  writeFileSync(join(dir, COMPANION_FILE), formatJson(bundle.companion));

  if (process.env.LIMIT) await probeLimit(dir);
  else await measure();
} finally {
  rmSync(dir, { recursive: true, force: true });
  agent.destroy();
}

async function measure(): Promise<void> {
  const load = loadavg()[0]!.toFixed(2);
  console.log(`bench:edge: ${PAYLOAD_BYTES} B payloads, ${RUNS} runs, load average ${load} on ${cpus().length} cores`);
  const samples = new Map<string, RunResult[]>(SCENARIOS.map((s) => [s.name, []]));
  // Alternate the scenarios run by run, so a change in the machine's load touches them all alike.
  for (let r = 0; r < RUNS; r++) {
    for (const s of SCENARIOS) {
      const result = await run(dir, s.sharing, s.subscribers);
      samples.get(s.name)!.push(result);
      console.log(
        `  run ${r + 1} ${s.name}: ${result.cpuMs.toFixed(0)} ms CPU (+ ${result.proxyCpuMs.toFixed(0)} ms in wrangler's proxy) of ${result.processes} workerd process(es) for ${result.events} events, ${result.deliveries} deliveries (${result.upstreamSubscriptions} upstream subscription(s))`,
      );
    }
  }
  const rows = SCENARIOS.map((s) => {
    const runs = samples.get(s.name)!;
    const perMs = median(runs.map((x) => x.deliveries / x.cpuMs));
    const usPerEvent = median(runs.map((x) => (x.cpuMs * 1000) / x.events));
    return { scenario: s.name, subscribers: s.subscribers, events: runs[0]!.events, deliveriesPerCpuMs: Number(perMs.toFixed(1)), usPerDelivery: Number((1000 / perMs).toFixed(1)), usPerUpstreamEvent: Number(usPerEvent.toFixed(0)) };
  });
  const md = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:edge\` (wrangler's workerd, loopback; events of a ${PAYLOAD_BYTES}-byte payload, ${rows.map((r) => r.events).join('/')} per run, median of ${RUNS} runs; load average ${load} on ${cpus().length} shared cores). CPU is the user + system time of the workerd process running the Worker and its objects (wrangler's local proxy excluded), loopback networking included.`,
    '',
    '| Scenario | Subscribers | Deliveries per CPU-ms | CPU per delivery | CPU per upstream event |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.scenario} | ${r.subscribers} | ${r.deliveriesPerCpuMs} | ${r.usPerDelivery} µs | ${r.usPerUpstreamEvent} µs |`),
  ].join('\n');
  console.log(`\n${md}`);
  writeFileSync(resolve('bench/results/edge.json'), `${JSON.stringify({ date: new Date().toISOString(), payloadBytes: PAYLOAD_BYTES, runs: RUNS, loadAverage: Number(load), rows }, null, 2)}\n`);
  writeFileSync(resolve('bench/results/edge.md'), `${md}\n`);
}
