/**
 * `npm run bench [-- --quick] [-- --out <dir>]`: the benchmark orchestrator.
 *
 * Starts the upstream (bench/upstream.ts) and the load generator
 * (bench/generator.ts) as their own processes, then, for each scenario and
 * each server (the raw relay, subway, the GraphQL Yoga peer), a fresh server
 * process, and measures it from the outside: the generator's histograms over
 * IPC, the server's CPU time and RSS from /proc. Writes results.json,
 * results.md and results.svg into the output folder (bench/results/).
 *
 * Pinning (when `taskset` exists): the server under test on CPU 1, the
 * upstream and the generator on CPU 0, so the server's CPU is its own.
 * Everything listens on 127.0.0.1; every loop is bounded in count and time,
 * and every child is killed at the end, even on failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { killAll, pinned, procStat, startChild, type Child } from './processes.ts';
import { renderMarkdown, renderSvg, type Results } from './report.ts';
import { BENCH_OPERATION } from './schema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Servers to run, e.g. `--only subway,relay`. */
    only: { type: 'string' },
    /** Protocols of the latency scenario, e.g. `--protocols h1`. */
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

/** Scenario sizes: the full run, and --quick (every scenario small, well under a minute in all). */
const config = quick
  ? {
      latency: { subscriptions: 100, rate: 1_000, groups: 20, warmupMs: 300, durationMs: 1_000, payloadBytes: 1024 },
      throughput: { subscriptions: 50, rate: 2_000, groups: 10, warmupMs: 200, durationMs: 1_000, payloadBytes: 1024 },
      density: { counts: [100, 200] },
      churn: { concurrency: 10, warmupMs: 200, durationMs: 700 },
      protocols: ['h1', 'h2'] as const,
      /** Pause before reading RSS, so freed memory and timers settle. */
      settleMs: 300,
    }
  : {
      latency: { subscriptions: 1_000, rate: 4_000, groups: 100, warmupMs: 3_000, durationMs: 15_000, payloadBytes: 1024 },
      throughput: { subscriptions: 200, rate: 10_000, groups: 20, warmupMs: 2_000, durationMs: 10_000, payloadBytes: 1024 },
      density: { counts: [1_000, 5_000, 10_000] },
      churn: { concurrency: 20, warmupMs: 1_000, durationMs: 8_000 },
      protocols: ['h1', 'h2'] as const,
      settleMs: 1_000,
    };

for (const assignment of flags.set ?? []) {
  const [path, value] = assignment.split('=');
  const keys = path!.split('.');
  let target: any = config;
  for (const key of keys.slice(0, -1)) target = target?.[key];
  if (!target || typeof target[keys.at(-1)!] !== 'number') throw new Error(`--set ${assignment}: no such number in the config`);
  target[keys.at(-1)!] = Number(value);
}

export type ServerName = 'relay' | 'subway' | 'yoga' | 'subway-base';
const SERVERS: ServerName[] = (flags.only?.split(',') as ServerName[] | undefined) ?? ['relay', 'subway', 'yoga'];
/** The request path of the bench operation on each server; `{vars}` is the URL-encoded variables. */
/** The server under test is pinned to CPU 1; the load side to CPU 0 only with --pin-load. */
const LOAD_CPU = flags['pin-load'] ? 0 : undefined;
const SCENARIOS = new Set(flags.scenarios?.split(',') ?? ['latency', 'throughput', 'density', 'churn']);
const TEMPLATES: Record<ServerName, string> = {
  relay: '/sse?variables={vars}',
  subway: '/graphql?id=Bench&variables={vars}',
  'subway-base': '/graphql?id=Bench&variables={vars}',
  yoga: `/graphql?query=${encodeURIComponent(BENCH_OPERATION)}&variables={vars}`,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...args: unknown[]) => console.log('[bench]', ...args);

let upstream!: Child;
let generator!: Child;
let cert: { cert: string; key: string } | undefined;

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

async function startServer(name: ServerName, tls: boolean): Promise<{ child: Child; base: string }> {
  const args = ['--upstream', String(upstream.hello.url)];
  if (name === 'subway-base') args.push('--src', resolve(flags['base-src'] ?? 'src'));
  if (tls) args.push('--cert', cert!.cert, '--key', cert!.key);
  const nodeArgs = ['--expose-gc', ...(flags['server-flags']?.split(' ').filter(Boolean) ?? [])];
  const file = name === 'subway-base' ? 'subway' : name;
  const child = await startChild(join(here, 'servers', `${file}.ts`), args, { cpu: 1, nodeArgs });
  return { child, base: `${tls ? 'https' : 'http'}://127.0.0.1:${child.hello.port}` };
}

/** Runs `body` against a fresh server process, and always ends with no stream open and the server gone. */
async function withServer<T>(name: ServerName, tls: boolean, body: (s: { child: Child; base: string }) => Promise<T>): Promise<T> {
  const server = await startServer(name, tls);
  try {
    return await body(server);
  } finally {
    await upstream.request('stop');
    await generator.request('closeAll');
    await server.child.kill();
    await until((s) => s.sockets <= 1, 'upstream sockets back to the direct one', 30_000).catch((err) => log(String(err)));
  }
}

/** Steady load: open the streams, publish at `rate`, measure over `durationMs`. */
async function steady(name: ServerName, proto: 'h1' | 'h2', c: typeof config.latency) {
  return withServer(name, proto === 'h2', async ({ child, base }) => {
    const open = await generator.request('open', { base, template: TEMPLATES[name], count: c.subscriptions, proto, groups: c.groups, concurrency: 100 });
    if (open.failed) throw new Error(`${name}: ${open.failed} streams failed to open: ${open.error}`);
    await until((s) => s.subscriptions >= c.subscriptions + 1, `${c.subscriptions} upstream subscriptions`);
    // `rate` is events delivered per second in all; each published event reaches subscriptions/groups streams.
    await upstream.request('load', { rate: (c.rate * c.groups) / c.subscriptions, groups: c.groups, payloadBytes: c.payloadBytes });
    await sleep(c.warmupMs);
    const up0 = procStat(upstream.pid);
    const gen0 = procStat(generator.pid);
    const cpu0 = procStat(child.pid);
    await generator.request('start');
    await sleep(c.durationMs);
    const cpu1 = procStat(child.pid);
    const up1 = procStat(upstream.pid);
    const gen1 = procStat(generator.pid);
    const measured = await generator.request('stop');
    const seconds = c.durationMs / 1000;
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
  });
}

/** Idle streams, each with its own upstream socket: RSS per subscription and the time to open them. */
async function density(name: ServerName) {
  return withServer(name, false, async ({ child, base }) => {
    await sleep(config.settleMs);
    const baseline = procStat(child.pid).rss;
    const steps: { count: number; openMs: number; refused: number; rss: number; rssPerSubscription: number }[] = [];
    let open = 0;
    let openMs = 0;
    let failedToOpen = 0;
    for (const count of config.density.counts) {
      const t0 = performance.now();
      const r = await generator.request('open', { base, template: TEMPLATES[name], count: count - open, proto: 'h1', groups: 1_000_000, concurrency: 200 }, 300_000);
      // A few connections refused at the top counts (reset, or ended with retry:) are counted, not fatal.
      if (r.failed > (count - open) / 100) throw new Error(`${name}: ${r.failed} streams failed to open: ${r.error}`);
      failedToOpen += r.failed;
      // Open = the upstream runs the subscription; a stream the server ended instead (e.g. an
      // upstream ack time-out under load) is counted as refused rather than waited for.
      let refused = 0;
      for (let i = 0; ; i++) {
        const [up, gen] = await Promise.all([upstreamStats(), generator.request('stats')]);
        refused = gen.endedByServer + failedToOpen;
        if (up.subscriptions - 1 + refused >= count) break;
        if (i > 2_400) throw new Error(`${name}: ${up.subscriptions - 1} of ${count} subscriptions open after 120 s (${refused} ended by the server)`);
        await sleep(50);
      }
      openMs += performance.now() - t0;
      open = count;
      await sleep(config.settleMs);
      const rss = procStat(child.pid).rss;
      const live = count - refused;
      steps.push({ count, openMs, refused, rss, rssPerSubscription: (rss - baseline) / live });
      log(`  ${name} density ${count}: ${Math.round((rss - baseline) / live / 1024)} KiB/subscription, opened in ${Math.round(openMs)} ms${refused ? `, ${refused} refused` : ''}`);
    }
    await generator.request('closeAll');
    const closeMs = await until((s) => s.sockets <= 1, 'upstream sockets back to zero', 60_000);
    return { baseline, steps, closeMs };
  });
}

/** Subscribe, wait for the first event, abort; then check that nothing leaked. */
async function churn(name: ServerName) {
  return withServer(name, false, async ({ child, base }) => {
    const c = config.churn;
    await generator.request('churn', { base, template: TEMPLATES[name], proto: 'h1', concurrency: c.concurrency, durationMs: c.warmupMs }, 60_000);
    await until((s) => s.sockets <= 1, 'upstream sockets back to zero after warm-up', 30_000);
    await sleep(config.settleMs);
    const gcBefore = await child.request('gc');
    const before = procStat(child.pid);
    const round = async () => {
      const r = await generator.request('churn', { base, template: TEMPLATES[name], proto: 'h1', concurrency: c.concurrency, durationMs: c.durationMs }, 120_000);
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

async function main() {
  const t0 = performance.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'subway-bench-'));
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
    log(`upstream ${upstream.hello.url}; ${quick ? 'quick' : 'full'} run; servers: ${SERVERS.join(', ')}`);

    const results: Results = {
      meta: { date: new Date().toISOString(), quick, command: `npm run bench${quick ? ' -- --quick' : ''}`, machine: machine(), config, seconds: 0 },
      latency: {},
      throughput: {},
      density: {},
      churn: {},
    };
    const protocols = (flags.protocols?.split(',') as ('h1' | 'h2')[] | undefined) ?? config.protocols;
    for (const proto of SCENARIOS.has('latency') ? protocols : []) {
      results.latency[proto] = {};
      for (const name of SERVERS) {
        log(`latency ${proto} ${name}: ${config.latency.subscriptions} subscriptions, ${config.latency.rate} events/s`);
        const r = await steady(name, proto, config.latency);
        results.latency[proto][name] = r;
        log(`  added p50 ${r.added.p50} p99 ${r.added.p99} p999 ${r.added.p999} ms; e2e p99 ${r.e2e.p99} ms; ${Math.round(r.eventsPerCpuSecond ?? 0)} events/CPU-s; load cpu ${r.upstreamCpuLoad.toFixed(2)}/${r.generatorCpuLoad.toFixed(2)}`);
      }
    }
    for (const name of SCENARIOS.has('throughput') ? SERVERS : []) {
      log(`throughput ${name}: ${config.throughput.subscriptions} subscriptions, ${config.throughput.rate} events/s, ${config.throughput.payloadBytes} B payloads`);
      const r = await steady(name, 'h1', config.throughput);
      results.throughput[name] = r;
      log(`  ${Math.round(r.eventsPerSecond)} events/s, ${Math.round(r.eventsPerCpuSecond ?? 0)} events/CPU-s (server at ${r.cpuLoad.toFixed(2)} of a core; load cpu ${r.upstreamCpuLoad.toFixed(2)}/${r.generatorCpuLoad.toFixed(2)})`);
    }
    for (const name of SCENARIOS.has('density') ? SERVERS : []) {
      log(`density ${name}: ${config.density.counts.join(', ')} idle subscriptions`);
      results.density[name] = await density(name);
    }
    for (const name of SCENARIOS.has('churn') ? SERVERS : []) {
      log(`churn ${name}: ${config.churn.concurrency} loops for ${config.churn.durationMs} ms`);
      const r = await churn(name);
      results.churn[name] = r;
      log(`  ${Math.round(r.perSecond)} cycles/s, RSS +${(r.rssGrowth / 2 ** 20).toFixed(1)} MiB after a round, +${(r.rssGrowthSecondRound / 2 ** 20).toFixed(1)} MiB after a second; heap after GC ${r.heapAfterGc.map((b: number) => (b / 2 ** 20).toFixed(1)).join(' → ')} MiB; upstream sockets after: ${r.upstreamSocketsAfter}`);
    }
    (results.meta.machine as { loadAverageAtEnd?: number }).loadAverageAtEnd = Math.round(os.loadavg()[0]! * 100) / 100;
    results.meta.seconds = Math.round((performance.now() - t0) / 100) / 10;

    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, 'results.md'), renderMarkdown(results));
    writeFileSync(join(outDir, 'results.svg'), renderSvg(results));
    log(`wrote ${join(outDir, 'results.{json,md,svg}')} in ${results.meta.seconds} s`);
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
