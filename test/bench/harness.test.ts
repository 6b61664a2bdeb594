/**
 * Proves the benchmark harness works end to end: `npm run bench -- --quick`
 * (every scenario small) runs the upstream, the generator and each server as
 * separate processes and writes its three files. Only the SHAPE is checked:
 * timings on a shared machine are noise, thresholds belong to the report.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const SERVERS = ['relay', 'subway', 'yoga'];
const out = await mkdtemp(join(tmpdir(), 'subway-bench-test-'));
afterAll(() => rm(out, { recursive: true, force: true }));

const summary = { count: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number), p999: expect.any(Number) };

test('npm run bench -- --quick writes results.json, results.md, results.svg and a dated copy', { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, ['bench/run.ts', '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 290_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  expect(code, output).toBe(0);

  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  expect(results.meta).toMatchObject({ quick: true, command: `npm run bench -- --quick --out ${out}`, runs: 1, machine: { nproc: expect.any(Number) } });
  expect(results.runs).toHaveLength(1);
  expect(results.runs[0].uptime).toEqual([expect.stringContaining('load average'), expect.stringContaining('load average')]);
  for (const proto of ['h1', 'h2']) {
    for (const name of SERVERS) {
      const r = results.latency[proto][name];
      expect(r, `${proto} ${name}`).toMatchObject({ added: summary, e2e: summary, direct: summary, eventsPerCpuSecond: expect.any(Number) });
      // Every event a stream received matched one the direct subscriber saw.
      expect(r.added.count).toBeGreaterThan(0);
      expect(r.unmatched).toBe(0);
    }
  }
  // --quick runs the other scenarios over HTTP/1.1 only.
  expect(Object.keys(results.throughput)).toEqual(['h1']);
  for (const name of SERVERS) {
    expect(results.throughput.h1[name]).toMatchObject({ events: expect.any(Number), eventsPerCpuSecond: expect.any(Number) });
    expect(results.density.h1[name].steps.map((s: { count: number }) => s.count)).toEqual(results.meta.config.density.counts);
    for (const step of results.density.h1[name].steps) expect(step).toMatchObject({ openMs: expect.any(Number), rssPerSubscription: expect.any(Number) });
    expect(results.churn.h1[name]).toMatchObject({ cycles: expect.any(Number), perSecond: expect.any(Number), upstreamSocketsAfter: 0 });
    expect(results.churn.h1[name].heapAfterGc).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(results.churn.h1[name].cycles).toBeGreaterThan(0);
  }
  // subway's log lines were written (npm start's defaults), one or more per stream.
  expect(results.latency.h1.subway.logLines).toBeGreaterThanOrEqual(results.meta.config.latency.subscriptions);

  // The sharing scenarios, counted on the upstream: the same subscription from every stream is one
  // upstream subscription on one socket; distinct ones share sockets, 100 per socket.
  const n = results.meta.config.fanout.subscriptions;
  expect(results.fanout.h1.relay).toMatchObject({ upstreamSockets: n, upstreamSubscriptions: n });
  expect(results.fanout.h1['yoga-pooled']).toMatchObject({ upstreamSockets: 1, upstreamSubscriptions: n });
  expect(results.fanout.h1['subway-subscription']).toMatchObject({ upstreamSockets: 1, upstreamSubscriptions: 1, upstreamSubscriptionsUnderLoad: 1 });
  expect(results.fanout.h1['subway-subscription'].events).toBeGreaterThan(0);
  const m = results.meta.config.connection.subscriptions;
  expect(results.connection.h1['subway-connection']).toMatchObject({ upstreamSockets: Math.ceil(m / 100), upstreamSubscriptions: m });
  expect(results.connection.h1.subway).toMatchObject({ upstreamSockets: m, upstreamSubscriptions: m });

  const md = await readFile(join(out, 'results.md'), 'utf8');
  expect(md).toContain('| figure | direct graphql-ws | raw relay | **subway** | Yoga (peer) | subway ÷ relay | subway ÷ Yoga | target |');
  expect(md).toMatch(/\| events per CPU-second, 1 KiB payloads, HTTP\/1\.1 \|/);
  expect(md).toMatch(/\| RSS per open subscription at 200, HTTP\/1\.1 \(KiB\) \|/);
  expect(md).toContain('| figure | raw relay | Yoga pooled | subway off | **subway subscription** | shared ÷ relay | shared ÷ Yoga pooled | target |');
  expect(md).toMatch(/\| upstream subscriptions, HTTP\/1\.1 \| 200 \| 200 \| 200 \| \*\*1\*\* \|/);
  expect(md).toMatch(/- `uptime`, run 1: `.*load average.*` → `.*load average.*`/);
  const dated = (await readdir(out)).filter((f) => /^\d{4}-\d\d-\d\dT\d{4}Z-quick\.(json|md)$/.test(f));
  expect(dated).toHaveLength(2);
  const svg = await readFile(join(out, 'results.svg'), 'utf8');
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('<polyline');
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
});
