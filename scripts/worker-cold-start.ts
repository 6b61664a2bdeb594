/**
 * `npm run bench:worker`: the Worker's bundle size and cold start, as the
 * README reports them.
 *
 * - Size: the bundle `wrangler deploy` would upload (`npm run build:worker`),
 *   raw and gzip-compressed (Cloudflare's size limits count the compressed size).
 * - Cold start: `wrangler check startup` runs the bundle's start-up in
 *   workerd under the CPU profiler; the figure is the profiled CPU time (idle
 *   excluded), and the part of it spent building the registry (validating the
 *   manifest, parsing the operations, building the input schema). It runs
 *   RUNS times and prints the median. The profiler samples about every
 *   millisecond: read the figures as ±1 ms.
 *
 * Operations come from PERSISTED_OPERATIONS, as for the other Worker scripts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readConfig } from '../src/core/config.ts';
import { writeWorkerEntry, type WorkerEntry } from '../src/cli/worker-entry.ts';

const RUNS = Number(process.env.RUNS ?? 5);
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
const wrangler = resolve('node_modules/wrangler/bin/wrangler.js');
const dir = mkdtempSync(join(tmpdir(), 'subway-worker-bench-'));

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Profiled CPU milliseconds (idle excluded), and those under a function of the given name. */
function cpuTime(profile: CpuProfile, under: string): { total: number; within: number } {
  const parent = new Map<number, number>();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inside = (id: number | undefined): boolean => {
    for (; id !== undefined; id = parent.get(id)) if (nodes.get(id)?.callFrame.functionName === under) return true;
    return false;
  };
  let total = 0;
  let within = 0;
  profile.samples.forEach((id, i) => {
    // A sample's time is the delta to the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const name = nodes.get(id)?.callFrame.functionName;
    if (name === '(idle)') return;
    total += ms;
    if (inside(id)) within += ms;
  });
  return { total, within };
}

let entry: WorkerEntry | undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const build = spawnSync(process.execPath, ['src/cli/subway.ts', 'worker', 'build', dir], { env, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  const bundle = readFileSync(join(dir, 'entry.js'));
  // The same entry `subway worker build` bundled: the folder's operations, imported by path.
  entry = await writeWorkerEntry(readConfig(process.env).persistedOperations);
  const totals: number[] = [];
  const registry: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const outfile = join(dir, `startup-${i}.cpuprofile`);
    const run = spawnSync(process.execPath, [wrangler, 'check', 'startup', `--args=${entry.path} --config ${resolve('wrangler.toml')}`, '--outfile', outfile], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`wrangler check startup failed:\n${run.stdout}${run.stderr}`);
    const { total, within } = cpuTime(JSON.parse(readFileSync(outfile, 'utf8')) as CpuProfile, 'createRegistry');
    totals.push(total);
    registry.push(within);
  }
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`bundle: ${kib(bundle.length)}, gzip ${kib(gzipSync(bundle).length)} (${join(dir, 'entry.js')})`);
  console.log(`cold start in workerd (median of ${RUNS}): ${median(totals).toFixed(1)} ms CPU, of which registry ${median(registry).toFixed(1)} ms`);
  console.log(`  runs: ${totals.map((t) => t.toFixed(1)).join(', ')} ms`);
} finally {
  await entry?.dispose();
  rmSync(dir, { recursive: true, force: true });
}
