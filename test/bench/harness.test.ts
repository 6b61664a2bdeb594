/**
 * Proves the benchmark harness works end to end: `npm run bench -- --quick`
 * (every scenario small) runs the upstream, the generator and each server as
 * separate processes and writes its three files. Only the SHAPE is checked:
 * timings on a shared machine are noise, thresholds belong to the report.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const SERVERS = ['relay', 'subway', 'yoga'];
const out = await mkdtemp(join(tmpdir(), 'subway-bench-test-'));
afterAll(() => rm(out, { recursive: true, force: true }));

const summary = { count: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number), p999: expect.any(Number) };

test('npm run bench -- --quick writes results.json, results.md and results.svg', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['bench/run.ts', '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  expect(code, output).toBe(0);

  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  expect(results.meta).toMatchObject({ quick: true, command: 'npm run bench -- --quick', machine: { nproc: expect.any(Number) } });
  for (const proto of ['h1', 'h2']) {
    for (const name of SERVERS) {
      const r = results.latency[proto][name];
      expect(r, `${proto} ${name}`).toMatchObject({ added: summary, e2e: summary, direct: summary, eventsPerCpuSecond: expect.any(Number) });
      // Every event a stream received matched one the direct subscriber saw.
      expect(r.added.count).toBeGreaterThan(0);
      expect(r.unmatched).toBe(0);
    }
  }
  for (const name of SERVERS) {
    expect(results.throughput[name]).toMatchObject({ events: expect.any(Number), eventsPerCpuSecond: expect.any(Number) });
    expect(results.density[name].steps.map((s: { count: number }) => s.count)).toEqual(results.meta.config.density.counts);
    for (const step of results.density[name].steps) expect(step).toMatchObject({ openMs: expect.any(Number), rssPerSubscription: expect.any(Number) });
    expect(results.churn[name]).toMatchObject({ cycles: expect.any(Number), perSecond: expect.any(Number), upstreamSocketsAfter: 0 });
    expect(results.churn[name].heapAfterGc).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(results.churn[name].cycles).toBeGreaterThan(0);
  }

  const md = await readFile(join(out, 'results.md'), 'utf8');
  expect(md).toContain('| figure | direct graphql-ws | raw relay | **subway** | Yoga (peer) | subway ÷ relay | subway ÷ Yoga | target |');
  expect(md).toMatch(/\| events per CPU-second, 1 KiB payloads \|/);
  expect(md).toMatch(/\| RSS per open subscription at 200 \(KiB\) \|/);
  const svg = await readFile(join(out, 'results.svg'), 'utf8');
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('<polyline');
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
});
