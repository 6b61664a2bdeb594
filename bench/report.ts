/**
 * Turns a benchmark run into its Markdown table and its chart. The chart is a
 * hand-written SVG (two panels: latency percentiles per server, RSS per
 * subscription against the count): a charting library would be a large
 * dependency for two small plots.
 */
type Summary = { count: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
type Steady = {
  events: number;
  added: Summary;
  e2e: Summary;
  direct: Summary;
  eventsPerSecond: number;
  eventsPerCpuSecond: number | null;
  cpuLoad: number;
  upstreamCpuLoad: number;
  generatorCpuLoad: number;
};
type Density = { baseline: number; steps: { count: number; openMs: number; refused: number; rss: number; rssPerSubscription: number }[]; closeMs: number };
type Churn = {
  perSecond: number;
  cycles: number;
  failed: number;
  rssGrowth: number;
  /** RSS after a second, identical round minus after the first: a leak keeps growing, a warm heap does not. */
  rssGrowthSecondRound: number;
  upstreamSocketsAfter: number;
  heapAfterGc?: number[];
  drainMs: number;
  cpuSecondsPerThousand: number;
};

export interface Results {
  meta: { date: string; quick: boolean; command: string; machine: Record<string, unknown>; config: unknown; seconds: number };
  latency: Record<string, Record<string, Steady>>;
  throughput: Record<string, Steady>;
  density: Record<string, Density>;
  churn: Record<string, Churn>;
}

const SERVERS = ['relay', 'subway', 'yoga'] as const;

function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a != null && b != null && b !== 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : null;
}
const r2 = (v: number | null) => (v === null ? '—' : `${v < 0.1 ? v.toPrecision(2) : fmt(v, 2)}x`);

interface Row {
  figure: string;
  direct?: string;
  values: Partial<Record<(typeof SERVERS)[number], number | null>>;
  digits?: number;
  /** The target, as the ratios it must meet; `lower`: smaller is better. */
  target?: { relay?: number; yoga?: number; lower: boolean };
}

export function rows(r: Results): Row[] {
  const out: Row[] = [];
  for (const [proto, byServer] of Object.entries(r.latency)) {
    const label = proto === 'h1' ? 'HTTP/1.1' : 'HTTP/2';
    const pick = (f: (s: Steady) => number) => Object.fromEntries(SERVERS.map((s) => [s, byServer[s] ? f(byServer[s]) : null]));
    out.push({ figure: `added latency p50, ${label} (ms)`, direct: '0', values: pick((s) => s.added.p50), digits: 2 });
    out.push({ figure: `added latency p99, ${label} (ms)`, direct: '0', values: pick((s) => s.added.p99), digits: 2 });
    out.push({ figure: `added latency p999, ${label} (ms)`, direct: '0', values: pick((s) => s.added.p999), digits: 2 });
    out.push({
      figure: `end-to-end p99, ${label} (ms)`,
      values: pick((s) => s.e2e.p99),
      digits: 2,
      target: proto === 'h1' ? { relay: 1.2, lower: true } : undefined,
    });
    out.push({ figure: `direct graphql-ws end-to-end p99 during the run, ${label} (ms; the load side's own lag)`, values: pick((s) => s.direct.p99), digits: 2 });
    out.push({ figure: `events per CPU-second at this load, ${label}`, values: pick((s) => s.eventsPerCpuSecond ?? NaN) });
  }
  out.push({
    figure: 'events per CPU-second, 1 KiB payloads',
    values: Object.fromEntries(SERVERS.map((s) => [s, r.throughput[s]?.eventsPerCpuSecond ?? null])),
    target: { relay: 0.9, yoga: 2, lower: false },
  });
  out.push({ figure: 'events per second delivered (same offered load)', values: Object.fromEntries(SERVERS.map((s) => [s, r.throughput[s]?.eventsPerSecond ?? null])) });
  const counts = Object.values(r.density)[0]?.steps.map((s) => s.count) ?? [];
  counts.forEach((count, i) => {
    const last = i === counts.length - 1;
    out.push({
      figure: `RSS per open subscription at ${fmt(count)} (KiB)`,
      values: Object.fromEntries(SERVERS.map((s) => [s, r.density[s] ? r.density[s].steps[i]!.rssPerSubscription / 1024 : null])),
      digits: 1,
      target: last ? { relay: 0.5, yoga: 1 / 3, lower: true } : undefined,
    });
  });
  counts.forEach((count, i) => {
    out.push({
      figure: `time to open ${fmt(count)} subscriptions (s)`,
      values: Object.fromEntries(SERVERS.map((s) => [s, r.density[s] ? r.density[s].steps[i]!.openMs / 1000 : null])),
      digits: 2,
    });
  });
  counts.forEach((count, i) => {
    const refused = Object.fromEntries(SERVERS.map((s) => [s, r.density[s] ? r.density[s].steps[i]!.refused : null]));
    if (Object.values(refused).some((v) => v)) out.push({ figure: `streams ended by the server while opening ${fmt(count)}`, values: refused });
  });
  out.push({ figure: 'churn: subscribe/abort cycles per second', values: Object.fromEntries(SERVERS.map((s) => [s, r.churn[s]?.perSecond ?? null])) });
  out.push({ figure: 'churn: CPU-seconds per 1,000 cycles', values: Object.fromEntries(SERVERS.map((s) => [s, r.churn[s]?.cpuSecondsPerThousand ?? null])), digits: 2 });
  out.push({ figure: 'churn: RSS after the first round minus before (MiB)', values: Object.fromEntries(SERVERS.map((s) => [s, r.churn[s] ? r.churn[s].rssGrowth / 2 ** 20 : null])), digits: 1 });
  out.push({
    figure: 'churn: RSS after a second round minus after the first (MiB; a leak keeps growing)',
    values: Object.fromEntries(SERVERS.map((s) => [s, r.churn[s] ? r.churn[s].rssGrowthSecondRound / 2 ** 20 : null])),
    digits: 1,
  });
  const heap = (i: number) => Object.fromEntries(SERVERS.map((s) => [s, r.churn[s]?.heapAfterGc ? r.churn[s].heapAfterGc![i]! / 2 ** 20 : null]));
  out.push({ figure: 'churn: JS heap after a full GC, before (MiB)', values: heap(0), digits: 1 });
  out.push({ figure: 'churn: JS heap after a full GC, after round 1 (MiB)', values: heap(1), digits: 1 });
  out.push({ figure: 'churn: JS heap after a full GC, after round 2 (MiB; a leak keeps growing)', values: heap(2), digits: 1 });
  out.push({ figure: 'churn: upstream sockets left open', values: Object.fromEntries(SERVERS.map((s) => [s, r.churn[s]?.upstreamSocketsAfter ?? null])) });
  return out;
}

/** Whether subway meets a row's target, by the ratios. */
function verdict(row: Row): string {
  if (!row.target) return '';
  const parts: string[] = [];
  for (const peer of ['relay', 'yoga'] as const) {
    const bound = row.target[peer];
    if (bound === undefined) continue;
    const q = ratio(row.values.subway, row.values[peer]);
    if (q === null) continue;
    const ok = row.target.lower ? q <= bound : q >= bound;
    parts.push(`${ok ? 'met' : 'missed'}: ${row.target.lower ? '≤' : '≥'} ${fmt(bound, 2)}x ${peer}`);
  }
  return parts.join('; ');
}

export function renderMarkdown(r: Results): string {
  const m = r.meta.machine as { nproc: number; cpuModel: string; node: string; kernel: string; memoryGiB: number; pinned: boolean; pinLoad?: boolean; loadAverage?: number; loadAverageAtEnd?: number };
  const lines = [
    `Run ${r.meta.date} (\`${r.meta.command}\`, ${r.meta.seconds} s) on ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}${m.pinned ? `; server under test pinned to CPU 1${m.pinLoad ? ', upstream and generator to CPU 0' : ', upstream and generator unpinned'}` : ''}; load average ${m.loadAverage ?? '?'} at the start, ${m.loadAverageAtEnd ?? '?'} at the end (other work on the machine).`,
    '',
    '| figure | direct graphql-ws | raw relay | **subway** | Yoga (peer) | subway ÷ relay | subway ÷ Yoga | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows(r)) {
    const v = (s: (typeof SERVERS)[number]) => fmt(row.values[s], row.digits ?? 0);
    lines.push(
      `| ${row.figure} | ${row.direct ?? ''} | ${v('relay')} | **${v('subway')}** | ${v('yoga')} | ${r2(ratio(row.values.subway, row.values.relay))} | ${r2(ratio(row.values.subway, row.values.yoga))} | ${verdict(row)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const COLORS: Record<string, string> = { relay: '#7f7f7f', subway: '#1f77b4', yoga: '#d62728' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderSvg(r: Results): string {
  const W = 900;
  const H = 360;
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, extra = '') => parts.push(`<text x="${x}" y="${y}" ${extra}>${esc(s)}</text>`);

  // Left panel: added latency percentiles over HTTP/1.1, log scale.
  const lat = r.latency.h1 ?? Object.values(r.latency)[0] ?? {};
  const pcts = ['p50', 'p99', 'p999'] as const;
  const L = { x: 60, y: 40, w: 360, h: 260 };
  const values = SERVERS.flatMap((s) => pcts.map((p) => lat[s]?.added[p] ?? 0)).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 1))));
  const ly = (v: number) => L.y + L.h - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * L.h;
  text(L.x, 24, 'Added latency per event, HTTP/1.1 (ms, log scale)', 'font-weight="bold"');
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${L.x}" x2="${L.x + L.w}" y1="${ly(d)}" y2="${ly(d)}" stroke="#ddd"/>`);
    text(L.x - 6, ly(d) + 4, String(d), 'text-anchor="end"');
  }
  const groupW = L.w / pcts.length;
  const barW = (groupW - 20) / SERVERS.length;
  pcts.forEach((p, gi) => {
    SERVERS.forEach((s, si) => {
      const v = lat[s]?.added[p];
      if (!v) return;
      const x = L.x + gi * groupW + 10 + si * barW;
      parts.push(`<rect x="${x}" y="${ly(v)}" width="${barW - 2}" height="${L.y + L.h - ly(v)}" fill="${COLORS[s]}"><title>${s} ${p}: ${v} ms</title></rect>`);
    });
    text(L.x + gi * groupW + groupW / 2, L.y + L.h + 16, p, 'text-anchor="middle"');
  });

  // Right panel: RSS per subscription against the count.
  const R = { x: 520, y: 40, w: 340, h: 260 };
  const counts = Object.values(r.density)[0]?.steps.map((s) => s.count) ?? [];
  const kib = SERVERS.flatMap((s) => r.density[s]?.steps.map((x) => x.rssPerSubscription / 1024) ?? []);
  const maxK = Math.max(...kib, 1) * 1.1;
  const rx = (i: number) => R.x + (counts.length > 1 ? (i / (counts.length - 1)) * R.w : R.w / 2);
  const ry = (v: number) => R.y + R.h - (Math.max(0, v) / maxK) * R.h;
  text(R.x, 24, 'RSS per open subscription (KiB) against count', 'font-weight="bold"');
  for (let k = 0; k <= 4; k++) {
    const v = (maxK * k) / 4;
    parts.push(`<line x1="${R.x}" x2="${R.x + R.w}" y1="${ry(v)}" y2="${ry(v)}" stroke="#ddd"/>`);
    text(R.x - 6, ry(v) + 4, fmt(v), 'text-anchor="end"');
  }
  counts.forEach((c, i) => text(rx(i), R.y + R.h + 16, fmt(c), 'text-anchor="middle"'));
  for (const s of SERVERS) {
    const steps = r.density[s]?.steps;
    if (!steps) continue;
    const pts = steps.map((x, i) => `${rx(i)},${ry(x.rssPerSubscription / 1024)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${COLORS[s]}" stroke-width="2"/>`);
    steps.forEach((x, i) => parts.push(`<circle cx="${rx(i)}" cy="${ry(x.rssPerSubscription / 1024)}" r="3" fill="${COLORS[s]}"><title>${s} at ${x.count}: ${fmt(x.rssPerSubscription / 1024, 1)} KiB</title></circle>`));
  }
  // Legend.
  SERVERS.forEach((s, i) => {
    const x = 60 + i * 150;
    parts.push(`<rect x="${x}" y="${H - 22}" width="12" height="12" fill="${COLORS[s]}"/>`);
    text(x + 18, H - 12, s === 'yoga' ? 'GraphQL Yoga (peer)' : s === 'relay' ? 'raw relay (limit)' : 'subway');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
