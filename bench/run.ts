/**
 * `npm run bench [-- --quick] [-- --out <dir>]`: the benchmark orchestrator.
 *
 * Starts the upstream (bench/upstream.ts) and the load generator
 * (bench/generator.ts) as their own processes, then, for each run, each
 * scenario and each server, a fresh server process, and measures it from the
 * outside: the generator's histograms over IPC, the server's CPU time and RSS
 * from /proc. The servers take turns: every scenario runs each server once per
 * run, in an order that rotates from run to run, and every figure reported is
 * the median over the runs (each run's own figures are kept in results.json).
 * Writes results.json, results.md and results.svg into the output folder
 * (bench/results/).
 *
 * subway runs as `npm start` assembles it (bench/servers/subway.ts:
 * `startServer` with the defaults, metrics and log lines on; the log lines go
 * to a file, and their count is recorded).
 *
 * Pinning (when `taskset` exists): the server under test on CPU 1; the
 * upstream and the generator on CPU 0 only with `--pin-load`.
 * Everything listens on 127.0.0.1; every loop is bounded in count and time,
 * and every child is killed at the end, even on failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { median } from './median.ts';
import { killAll, pinned, procStat, startChild, type Child } from './processes.ts';
import { renderMarkdown, renderSvg, type Results, type RunResults } from './report.ts';
import { BENCH_OPERATION } from './schema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Runs (each server once per scenario per run, in rotating order); the figures are the medians. Default: 3, or 1 with --quick. */
    runs: { type: 'string' },
    /** Servers to run, e.g. `--only subway,relay` (the sharing scenarios' servers too: `subway-subscription`, `yoga-pooled`, …). */
    only: { type: 'string' },
    /** Protocols, e.g. `--protocols h1`. */
    protocols: { type: 'string' },
    /** Scenarios to run, e.g. `--scenarios throughput` (for profiling). */
    scenarios: { type: 'string' },
    /** Another checkout's src/ folder, run as the server `subway-base` (e.g. `--only subway,subway-base`), for A/B. */
    'base-src': { type: 'string' },
    /** Overrides a number of the config, e.g. `--set throughput.rate=2000` (repeatable). */
    set: { type: 'string', multiple: true },
    /** Pin the upstream and the generator to CPU 0 too (by default they float; right on a quiet machine, wrong on a shared one). */
    'pin-load': { type: 'boolean', default: false },
    /** Node flags for the server under test, e.g. `--server-flags=--cpu-prof`. */
    'server-flags': { type: 'string' },
  },
});
const quick = flags.quick!;
const outDir = resolve(flags.out ?? join(here, 'results'));
const RUNS = Number(flags.runs ?? (quick ? 1 : 3));
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 20) throw new Error('--runs: 1 to 20');

/** Scenario sizes: the full run, and --quick (every scenario small). */
const config = quick
  ? {
      latency: { subscriptions: 100, rate: 1_000, groups: 20, warmupMs: 300, durationMs: 1_000, payloadBytes: 1024 },
      throughput: { subscriptions: 50, rate: 2_000, groups: 10, warmupMs: 200, durationMs: 1_000, payloadBytes: 1024 },
      density: { counts: [100, 200] },
      churn: { concurrency: 10, warmupMs: 200, durationMs: 700 },
      /** One shared subscription: `subscriptions` streams of the same operation and variables; `rate` events/s published to all of them. */
      fanout: { subscriptions: 200, rate: 10, warmupMs: 300, durationMs: 1_000, payloadBytes: 1024 },
      /** Distinct subscriptions (UPSTREAM_SHARING=connection): `rate` events/s in all, spread over them. */
      connection: { subscriptions: 200, rate: 1_000, warmupMs: 300, durationMs: 1_000, payloadBytes: 1024 },
      protocols: ['h1', 'h2'] as ('h1' | 'h2')[],
      /** Pause before reading RSS, so freed memory and timers settle. */
      settleMs: 300,
    }
  : {
      // Sized so that three runs of everything fit in about 15 minutes on 2 cores (each run ~5 min):
      // 40 fresh server processes a run, the 10,000-stream steps the longest.
      latency: { subscriptions: 1_000, rate: 4_000, groups: 100, warmupMs: 1_000, durationMs: 3_000, payloadBytes: 1024 },
      throughput: { subscriptions: 200, rate: 10_000, groups: 20, warmupMs: 1_000, durationMs: 3_000, payloadBytes: 1024 },
      density: { counts: [1_000, 5_000, 10_000] },
      churn: { concurrency: 20, warmupMs: 500, durationMs: 2_500 },
      // 10,000 deliveries a second: 2 a second per stream was more than the load side could read on a loaded 2-core machine.
      fanout: { subscriptions: 10_000, rate: 1, warmupMs: 1_000, durationMs: 4_000, payloadBytes: 1024 },
      connection: { subscriptions: 1_000, rate: 2_000, warmupMs: 1_000, durationMs: 3_000, payloadBytes: 1024 },
      protocols: ['h1', 'h2'] as ('h1' | 'h2')[],
      settleMs: 500,
    };

for (const assignment of flags.set ?? []) {
  const [path, value] = assignment.split('=');
  const keys = path!.split('.');
  let target: any = config;
  for (const key of keys.slice(0, -1)) target = target?.[key];
  if (!target || typeof target[keys.at(-1)!] !== 'number') throw new Error(`--set ${assignment}: no such number in the config`);
  target[keys.at(-1)!] = Number(value);
}

type Proto = 'h1' | 'h2';

/** A server under test: its program, its request path (`{vars}`: the URL-encoded variables), its arguments and environment. */
interface ServerSpec {
  file: 'relay' | 'subway' | 'yoga';
  template: string;
  args?: string[];
  env?: Record<string, string>;
}
const SUBWAY_PATH = '/graphql?id=Bench&variables={vars}';
const YOGA_PATH = `/graphql?query=${encodeURIComponent(BENCH_OPERATION)}&variables={vars}`;
const SPECS: Record<string, ServerSpec> = {
  relay: { file: 'relay', template: '/sse?variables={vars}' },
  subway: { file: 'subway', template: SUBWAY_PATH, env: { UPSTREAM_SHARING: 'off' } },
  'subway-base': { file: 'subway', template: SUBWAY_PATH, args: ['--src', resolve(flags['base-src'] ?? 'src')], env: { UPSTREAM_SHARING: 'off' } },
  'subway-subscription': { file: 'subway', template: SUBWAY_PATH, env: { UPSTREAM_SHARING: 'subscription' } },
  'subway-connection': { file: 'subway', template: SUBWAY_PATH, env: { UPSTREAM_SHARING: 'connection' } },
  yoga: { file: 'yoga', template: YOGA_PATH },
  'yoga-pooled': { file: 'yoga', template: YOGA_PATH, args: ['--pooled'] },
};

const only = flags.only?.split(',');
for (const name of only ?? []) if (!SPECS[name]) throw new Error(`--only: no server "${name}" (${Object.keys(SPECS).join(', ')})`);
const pick = (names: string[]) => (only ? names.filter((n) => only.includes(n)) : names);
/** The cost-floor scenarios' servers. */
const SERVERS = only ? only.filter((n) => ['relay', 'subway', 'yoga', 'subway-base'].includes(n)) : ['relay', 'subway', 'yoga', ...(flags['base-src'] ? ['subway-base'] : [])];
/** The sharing scenarios' servers: side by side, the relay, Yoga pooled, subway off and subway in the mode. */
const FANOUT_SERVERS = pick(['relay', 'yoga-pooled', 'subway', 'subway-subscription']);
const CONNECTION_SERVERS = pick(['relay', 'yoga-pooled', 'subway', 'subway-connection']);
/** The server under test is pinned to CPU 1; the load side to CPU 0 only with --pin-load. */
const LOAD_CPU = flags['pin-load'] ? 0 : undefined;
const SCENARIOS = new Set(flags.scenarios?.split(',') ?? ['latency', 'throughput', 'density', 'churn', 'fanout', 'connection']);
/**
 * The protocols a scenario runs over: the cost floor's and the fanout's over
 * both (issue 12's cost-floor targets hold over HTTP/1.1 and HTTP/2; a
 * browser's many streams share one HTTP/2 connection, while over HTTP/1.1
 * each subscriber of a shared subscription still holds a TCP socket of its
 * own); the connection scenario over HTTP/1.1 (it differs from the fanout on
 * the upstream side only); --quick runs everything but the latency scenario
 * over HTTP/1.1 only (a check of the harness, kept short). `--protocols`
 * sets them all.
 */
const protocolsOf = (scenario: string): Proto[] =>
  (flags.protocols?.split(',') as Proto[] | undefined) ?? ((quick && scenario !== 'latency') || scenario === 'connection' ? ['h1'] : config.protocols);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
const log = (...args: unknown[]) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...args);

let upstream!: Child;
let generator!: Child;
let cert: { cert: string; key: string } | undefined;
let tmp = '';
let serverRuns = 0;

async function upstreamStats(): Promise<{ sockets: number; subscriptions: number; published: number }> {
  return upstream.request('stats');
}

/** Polls the upstream until `predicate` holds; bounded by `timeoutMs`. Returns the time it took. */
async function until(predicate: (s: Awaited<ReturnType<typeof upstreamStats>>) => boolean, what: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const s = await upstreamStats();
    if (predicate(s)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what} (upstream: ${JSON.stringify(s)})`);
    await sleep(50);
  }
}

interface Running {
  child: Child;
  base: string;
  spec: ServerSpec;
}

async function startServer(name: string, tls: boolean): Promise<Running & { logFile: string | undefined }> {
  const spec = SPECS[name]!;
  const args = ['--upstream', String(upstream.hello.url), ...(spec.args ?? [])];
  if (tls) args.push('--cert', cert!.cert, '--key', cert!.key);
  const nodeArgs = ['--expose-gc', ...(flags['server-flags']?.split(' ').filter(Boolean) ?? [])];
  // subway's JSON log lines (npm start writes them to stdout) go to a file, as they would in production.
  const logFile = spec.file === 'subway' ? join(tmp, `${name}-${++serverRuns}.log`) : undefined;
  const child = await startChild(join(here, 'servers', `${spec.file}.ts`), args, { cpu: 1, nodeArgs, env: spec.env, stdout: logFile });
  return { child, base: `${tls ? 'https' : 'http'}://127.0.0.1:${child.hello.port}`, spec, logFile };
}

/** Lines in a log file (subway's JSON lines: one per stream start and end). */
function countLines(file: string | undefined): number | undefined {
  if (!file || !existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Runs `body` against a fresh server process, and always ends with no stream open and the server gone. */
async function withServer<T extends object>(name: string, tls: boolean, body: (s: Running) => Promise<T>): Promise<T & { logLines?: number }> {
  const server = await startServer(name, tls);
  let result: T;
  try {
    result = await body(server);
  } finally {
    await upstream.request('stop');
    await generator.request('closeAll');
    await server.child.kill();
    await until((s) => s.sockets <= 1, 'upstream sockets back to the direct one', 30_000).catch((err) => log(String(err)));
  }
  const logLines = countLines(server.logFile);
  return logLines === undefined ? result : { ...result, logLines };
}

/** Measures `durationMs` of steady load on open streams: events received, the server's CPU and RSS, the load side's CPU. */
async function measure(child: Child, durationMs: number) {
  const up0 = procStat(upstream.pid);
  const gen0 = procStat(generator.pid);
  const cpu0 = procStat(child.pid);
  await generator.request('start');
  await sleep(durationMs);
  const cpu1 = procStat(child.pid);
  const up1 = procStat(upstream.pid);
  const gen1 = procStat(generator.pid);
  const measured = await generator.request('stop');
  const seconds = durationMs / 1000;
  const cpu = cpu1.cpu - cpu0.cpu;
  return {
    ...measured,
    seconds,
    eventsPerSecond: measured.events / seconds,
    cpuSeconds: cpu,
    /** Share of one core the server used. */
    cpuLoad: cpu / seconds,
    eventsPerCpuSecond: cpu > 0 ? measured.events / cpu : null,
    rss: cpu1.rss,
    /** Share of one core the load side used: if near 1, the load side, not the server, was the bottleneck. */
    upstreamCpuLoad: (up1.cpu - up0.cpu) / seconds,
    generatorCpuLoad: (gen1.cpu - gen0.cpu) / seconds,
  };
}

/** Steady load: open the streams, publish at `rate`, measure over `durationMs`. */
async function steady(name: string, proto: Proto, c: typeof config.latency) {
  return withServer(name, proto === 'h2', async ({ child, base, spec }) => {
    const open = await generator.request('open', { base, template: spec.template, count: c.subscriptions, proto, groups: c.groups, concurrency: 100 });
    if (open.failed) throw new Error(`${name}: ${open.failed} streams failed to open: ${open.error}`);
    await until((s) => s.subscriptions >= c.subscriptions + 1, `${c.subscriptions} upstream subscriptions`);
    // `rate` is events delivered per second in all; each published event reaches subscriptions/groups streams.
    await upstream.request('load', { rate: (c.rate * c.groups) / c.subscriptions, groups: c.groups, payloadBytes: c.payloadBytes });
    await sleep(c.warmupMs);
    return measure(child, c.durationMs);
  });
}

/**
 * Opens `more` streams and waits until `total` are served (`served`: what the
 * upstream shows) or were ended by the server; bounded. A few streams refused
 * at the top counts (reset, or ended with `retry:`) are counted, not fatal.
 */
async function openAll(name: string, r: Running, proto: Proto, o: { more: number; total: number; groups: number; failedBefore: number; served: (s: Awaited<ReturnType<typeof upstreamStats>>) => number }) {
  const t0 = performance.now();
  const opened = await generator.request('open', { base: r.base, template: r.spec.template, count: o.more, proto, groups: o.groups, concurrency: 200 }, 300_000);
  if (opened.failed > o.more / 100) throw new Error(`${name}: ${opened.failed} streams failed to open: ${opened.error}`);
  const failed = o.failedBefore + opened.failed;
  for (let i = 0; ; i++) {
    const [up, gen] = await Promise.all([upstreamStats(), generator.request('stats')]);
    const refused = gen.endedByServer + failed;
    if (o.served(up) + refused >= o.total) return { openMs: performance.now() - t0, failed, refused };
    if (i > 2_400) throw new Error(`${name}: ${o.served(up)} of ${o.total} served after 120 s (${refused} ended by the server)`);
    await sleep(50);
  }
}

/** Idle streams, each on its own upstream subscription: RSS per subscription and the time to open them. */
async function density(name: string, proto: Proto) {
  return withServer(name, proto === 'h2', async (r) => {
    await sleep(config.settleMs);
    const baseline = procStat(r.child.pid).rss;
    const steps: { count: number; openMs: number; refused: number; rss: number; rssPerSubscription: number }[] = [];
    let open = 0;
    let openMs = 0;
    let failed = 0;
    for (const count of config.density.counts) {
      // Served = the upstream runs the subscription; a stream the server ended instead (e.g. an
      // upstream ack time-out under load) is counted as refused rather than waited for.
      const o = await openAll(name, r, proto, { more: count - open, total: count, groups: 1_000_000, failedBefore: failed, served: (up) => up.subscriptions - 1 });
      openMs += o.openMs;
      failed = o.failed;
      open = count;
      await sleep(config.settleMs);
      const rss = procStat(r.child.pid).rss;
      const live = count - o.refused;
      steps.push({ count, openMs, refused: o.refused, rss, rssPerSubscription: (rss - baseline) / live });
      log(`  ${name} ${proto} density ${count}: ${Math.round((rss - baseline) / live / 1024)} KiB/subscription, opened in ${Math.round(openMs)} ms${o.refused ? `, ${o.refused} refused` : ''}`);
    }
    await generator.request('closeAll');
    const closeMs = await until((s) => s.sockets <= 1, 'upstream sockets back to zero', 60_000);
    return { baseline, steps, closeMs };
  });
}

/**
 * The sharing scenarios: `subscriptions` idle streams (RSS per stream, the
 * upstream's sockets and subscriptions), then `rate` events per second
 * published (deliveries per CPU-second, latency). `fanout`: every stream on
 * the same operation and variables (one shared subscription where the server
 * shares); `connection`: every stream distinct.
 */
async function sharing(name: string, proto: Proto, kind: 'fanout' | 'connection') {
  const c = config[kind];
  const groups = kind === 'fanout' ? 1 : 1_000_000;
  return withServer(name, proto === 'h2', async (r) => {
    await sleep(config.settleMs);
    const baseline = procStat(r.child.pid).rss;
    // Served = the upstream runs the stream's subscription. Where streams share one, the upstream
    // shows it once: subway answers a stream's head only once it joined its hub, and every head has arrived.
    const shared = kind === 'fanout' && r.spec.env?.UPSTREAM_SHARING === 'subscription';
    const o = await openAll(name, r, proto, {
      more: c.subscriptions,
      total: c.subscriptions,
      groups,
      failedBefore: 0,
      served: (up) => (shared ? (up.subscriptions > 1 ? c.subscriptions : 0) : up.subscriptions - 1),
    });
    await sleep(config.settleMs);
    const rss = procStat(r.child.pid).rss;
    const before = await upstreamStats();
    const live = c.subscriptions - o.refused;
    // Published events: fanout, `rate` to the one group every stream is in; connection, `rate` in all, one stream each.
    await upstream.request('load', { rate: c.rate, groups: kind === 'fanout' ? 1 : c.subscriptions, payloadBytes: c.payloadBytes });
    await sleep(c.warmupMs);
    const m = await measure(r.child, c.durationMs);
    const during = await upstreamStats();
    const result = {
      ...m,
      subscriptions: c.subscriptions,
      openMs: o.openMs,
      refused: o.refused,
      rssIdle: rss,
      rssPerSubscription: (rss - baseline) / live,
      /** The upstream's own counts, minus the generator's direct subscriber: idle, and at the end of the load. */
      upstreamSockets: before.sockets - 1,
      upstreamSubscriptions: before.subscriptions - 1,
      upstreamSocketsUnderLoad: during.sockets - 1,
      upstreamSubscriptionsUnderLoad: during.subscriptions - 1,
    };
    log(
      `  ${name} ${proto} ${kind}: ${Math.round(result.rssPerSubscription / 1024)} KiB/subscription, upstream ${result.upstreamSockets} sockets / ${result.upstreamSubscriptions} subscriptions; ${Math.round(m.eventsPerSecond)} deliveries/s, ${Math.round(m.eventsPerCpuSecond ?? 0)} per CPU-s; added p99 ${m.added.p99} ms; load cpu ${m.upstreamCpuLoad.toFixed(2)}/${m.generatorCpuLoad.toFixed(2)}`,
    );
    return result;
  });
}

/** Subscribe, wait for the first event, abort; then check that nothing leaked. */
async function churn(name: string, proto: Proto) {
  return withServer(name, proto === 'h2', async ({ child, base, spec }) => {
    const c = config.churn;
    const template = spec.template;
    await generator.request('churn', { base, template, proto, concurrency: c.concurrency, durationMs: c.warmupMs }, 60_000);
    await until((s) => s.sockets <= 1, 'upstream sockets back to zero after warm-up', 30_000);
    await sleep(config.settleMs);
    const gcBefore = await child.request('gc');
    const before = procStat(child.pid);
    const round = async () => {
      const r = await generator.request('churn', { base, template, proto, concurrency: c.concurrency, durationMs: c.durationMs }, 120_000);
      const during = procStat(child.pid);
      const drainMs = await until((s) => s.sockets <= 1 && s.subscriptions <= 1, 'upstream sockets back to zero after churn', 30_000);
      await sleep(config.settleMs);
      const after = procStat(child.pid);
      return { r, during, drainMs, after, gc: await child.request('gc') };
    };
    const first = await round();
    // A second, identical round: a warm heap stays where the first left it, a leak keeps growing.
    const second = await round();
    const s = await upstreamStats();
    const { r, during, drainMs, after } = first;
    return {
      ...r,
      cpuSecondsPerThousand: ((during.cpu - before.cpu) / Math.max(1, r.cycles)) * 1000,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssGrowth: after.rss - before.rss,
      rssAfterSecondRound: second.after.rss,
      rssGrowthSecondRound: second.after.rss - after.rss,
      secondRoundPerSecond: second.r.perSecond,
      /** JS heap in use after a full GC: before, after one round, after two. A leak grows it round after round. */
      heapAfterGc: [gcBefore.heapUsed, first.gc.heapUsed, second.gc.heapUsed],
      drainMs,
      upstreamSocketsAfter: s.sockets - 1,
    };
  });
}

function machine() {
  const lscpu = spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '';
  return {
    nproc: os.availableParallelism(),
    cpuModel: /Model name:\s*(.+)/.exec(lscpu)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    pinned,
    pinLoad: flags['pin-load'],
    /** 1-minute load average when the run started: other work on the machine skews every figure. */
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** The servers in the order of run `i`: rotated by one each run, so none always goes first or last. */
const rotate = <T>(list: T[], i: number): T[] => list.map((_, k) => list[(k + i) % list.length]!);

const loadNow = () => Math.round(os.loadavg()[0]! * 100) / 100;
/** `uptime`'s line (the load averages over 1, 5 and 15 minutes), recorded with every run. */
const uptime = () => (spawnSync('uptime', { encoding: 'utf8' }).stdout ?? '').trim() || `load average: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;

async function oneRun(i: number): Promise<RunResults> {
  const run: RunResults = { loadAverage: loadNow(), uptime: [uptime()], latency: {}, throughput: {}, density: {}, churn: {}, fanout: {}, connection: {} };
  const servers = rotate(SERVERS, i);
  for (const proto of SCENARIOS.has('latency') ? protocolsOf('latency') : []) {
    run.latency[proto] = {};
    for (const name of servers) {
      log(`run ${i + 1}/${RUNS} latency ${proto} ${name}: ${config.latency.subscriptions} subscriptions, ${config.latency.rate} events/s`);
      const r = await steady(name, proto, config.latency);
      run.latency[proto][name] = r;
      log(`  added p50 ${r.added.p50} p99 ${r.added.p99} p999 ${r.added.p999} ms; e2e p99 ${r.e2e.p99} ms; ${Math.round(r.eventsPerCpuSecond ?? 0)} events/CPU-s; load cpu ${r.upstreamCpuLoad.toFixed(2)}/${r.generatorCpuLoad.toFixed(2)}`);
    }
  }
  for (const proto of SCENARIOS.has('throughput') ? protocolsOf('throughput') : []) {
    run.throughput[proto] = {};
    for (const name of servers) {
      log(`run ${i + 1}/${RUNS} throughput ${proto} ${name}: ${config.throughput.subscriptions} subscriptions, ${config.throughput.rate} events/s, ${config.throughput.payloadBytes} B payloads`);
      const r = await steady(name, proto, config.throughput);
      run.throughput[proto][name] = r;
      log(`  ${Math.round(r.eventsPerSecond)} events/s, ${Math.round(r.eventsPerCpuSecond ?? 0)} events/CPU-s (server at ${r.cpuLoad.toFixed(2)} of a core; load cpu ${r.upstreamCpuLoad.toFixed(2)}/${r.generatorCpuLoad.toFixed(2)})`);
    }
  }
  for (const proto of SCENARIOS.has('density') ? protocolsOf('density') : []) {
    run.density[proto] = {};
    for (const name of servers) {
      log(`run ${i + 1}/${RUNS} density ${proto} ${name}: ${config.density.counts.join(', ')} idle subscriptions`);
      run.density[proto][name] = await density(name, proto);
    }
  }
  for (const proto of SCENARIOS.has('churn') ? protocolsOf('churn') : []) {
    run.churn[proto] = {};
    for (const name of servers) {
      log(`run ${i + 1}/${RUNS} churn ${proto} ${name}: ${config.churn.concurrency} loops for ${config.churn.durationMs} ms`);
      const r = await churn(name, proto);
      run.churn[proto][name] = r;
      log(`  ${Math.round(r.perSecond)} cycles/s, ${r.cpuSecondsPerThousand.toFixed(2)} CPU-s per 1,000; RSS +${(r.rssGrowth / 2 ** 20).toFixed(1)} MiB after a round, +${(r.rssGrowthSecondRound / 2 ** 20).toFixed(1)} MiB after a second; heap after GC ${r.heapAfterGc.map((b: number) => (b / 2 ** 20).toFixed(1)).join(' → ')} MiB; upstream sockets after: ${r.upstreamSocketsAfter}`);
    }
  }
  for (const kind of ['fanout', 'connection'] as const) {
    if (!SCENARIOS.has(kind)) continue;
    const list = rotate(kind === 'fanout' ? FANOUT_SERVERS : CONNECTION_SERVERS, i);
    for (const proto of list.length ? protocolsOf(kind) : []) {
      run[kind][proto] = {};
      for (const name of list) {
        log(`run ${i + 1}/${RUNS} ${kind} ${proto} ${name}: ${config[kind].subscriptions} ${kind === 'fanout' ? 'streams of one subscription' : 'distinct subscriptions'}, ${config[kind].rate} events/s`);
        run[kind][proto]![name] = await sharing(name, proto, kind);
      }
    }
  }
  run.loadAverageAtEnd = loadNow();
  run.uptime!.push(uptime());
  log(`run ${i + 1}/${RUNS} done; ${run.uptime!.at(-1)}`);
  return run;
}

async function main() {
  const t0 = performance.now();
  tmp = mkdtempSync(join(os.tmpdir(), 'subway-bench-'));
  try {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      days: 1,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    } as never);
    cert = { cert: join(tmp, 'cert.pem'), key: join(tmp, 'key.pem') };
    writeFileSync(cert.cert, pems.cert);
    writeFileSync(cert.key, pems.private);

    upstream = await startChild(join(here, 'upstream.ts'), [], { cpu: LOAD_CPU });
    generator = await startChild(join(here, 'generator.ts'), [], { cpu: LOAD_CPU });
    await generator.request('direct', { upstream: upstream.hello.url });
    const command = `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    log(`upstream ${upstream.hello.url}; ${quick ? 'quick' : 'full'} run, ${RUNS} run(s); servers: ${SERVERS.join(', ')}; sharing scenarios: ${FANOUT_SERVERS.join(', ')} / ${CONNECTION_SERVERS.join(', ')}`);

    const runs: RunResults[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await oneRun(i));
    const medians = median(runs) as RunResults;
    const results: Results = {
      meta: { date: new Date().toISOString(), quick, command, machine: machine(), config, seconds: 0, runs: RUNS },
      ...medians,
      runs,
    };
    const m = results.meta.machine as { loadAverage?: number; loadAverageAtEnd?: number };
    m.loadAverage = runs[0]!.loadAverage;
    m.loadAverageAtEnd = loadNow();
    results.meta.seconds = Math.round((performance.now() - t0) / 100) / 10;

    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, 'results.md'), renderMarkdown(results));
    writeFileSync(join(outDir, 'results.svg'), renderSvg(results));
    // A dated copy too, so runs can be kept side by side: e.g. 2026-12-02T0930Z.md (-quick for --quick).
    const stamp = `${results.meta.date.slice(0, 13)}${results.meta.date.slice(14, 16)}Z${quick ? '-quick' : ''}`;
    writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, `${stamp}.md`), renderMarkdown(results));
    log(`wrote ${join(outDir, `{results,${stamp}}.{json,md}`)} and results.svg in ${results.meta.seconds} s`);
    console.log(`\n${renderMarkdown(results)}`);
  } finally {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('[bench] failed:', err);
    killAll();
    process.exit(1);
  },
);
