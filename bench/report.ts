/**
 * Turns a benchmark run into its Markdown tables and its chart. Every figure
 * is the median over the runs (bench/median.ts); the ratio columns are the
 * medians' ratios, followed by each run's own ratio, so the spread shows.
 * The chart is a hand-written SVG (two panels: latency percentiles per server,
 * RSS per subscription against the count): a charting library would be a
 * large dependency for two small plots.
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
  logLines?: number;
};
type Density = { baseline: number; steps: { count: number; openMs: number; refused: number; rss: number; rssPerSubscription: number }[]; closeMs: number; logLines?: number };
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
  logLines?: number;
};
type Sharing = Steady & {
  subscriptions: number;
  openMs: number;
  refused: number;
  rssPerSubscription: number;
  upstreamSockets: number;
  upstreamSubscriptions: number;
  upstreamSocketsUnderLoad: number;
  upstreamSubscriptionsUnderLoad: number;
};

type ByProto<T> = Partial<Record<string, Record<string, T>>>;

/** One run's figures (and, in `Results`, their medians). */
export interface RunResults {
  loadAverage: number;
  loadAverageAtEnd?: number;
  /** `uptime` at the start and at the end of the run. */
  uptime?: string[];
  latency: ByProto<Steady>;
  throughput: ByProto<Steady>;
  density: ByProto<Density>;
  churn: ByProto<Churn>;
  /** 10,000 streams of one subscription: one upstream subscription where the server shares. */
  fanout: ByProto<Sharing>;
  /** Distinct subscriptions, multiplexed on shared upstream sockets where the server does. */
  connection: ByProto<Sharing>;
}

export interface Results extends RunResults {
  meta: { date: string; quick: boolean; command: string; machine: Record<string, unknown>; config: unknown; seconds: number; runs: number };
  /** Each run's own figures; the rest of the results are their medians. */
  runs: RunResults[];
}

type Get = (r: RunResults, server: string) => number | null | undefined;

/** A target: ratios to the relay or Yoga (`lower`: smaller is better), or a bound on the value itself. */
type Target = { relay?: number; yoga?: number; lower: boolean } | { atMost: number } | { exactly: number };

interface Row {
  figure: string;
  direct?: string;
  get: Get;
  digits?: number;
  target?: Target;
}

function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a != null && b != null && b !== 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : null;
}
const r2 = (v: number | null) => (v === null ? '—' : `${Math.abs(v) < 0.1 ? v.toPrecision(2) : fmt(v, 2)}x`);
const LABEL: Record<string, string> = { h1: 'HTTP/1.1', h2: 'HTTP/2' };
const protosOf = (section: ByProto<unknown>) => Object.keys(section).filter((p) => section[p] && Object.keys(section[p]!).length > 0);

/** The cost floor's rows: subway (`off`) against the relay and Yoga. */
export function rows(r: Results): Row[] {
  const out: Row[] = [];
  for (const proto of protosOf(r.latency)) {
    const label = LABEL[proto] ?? proto;
    const at = (f: (s: Steady) => number | null) => (x: RunResults, s: string) => {
      const v = x.latency[proto]?.[s];
      return v ? f(v) : null;
    };
    out.push({ figure: `added latency p50, ${label} (ms)`, direct: '0', get: at((s) => s.added.p50), digits: 2 });
    out.push({ figure: `added latency p99, ${label} (ms)`, direct: '0', get: at((s) => s.added.p99), digits: 2 });
    out.push({ figure: `added latency p999, ${label} (ms)`, direct: '0', get: at((s) => s.added.p999), digits: 2 });
    out.push({ figure: `end-to-end p99, ${label} (ms)`, get: at((s) => s.e2e.p99), digits: 2, target: { relay: 1.1, lower: true } });
    out.push({ figure: `direct graphql-ws end-to-end p99 during the run, ${label} (ms; the load side's own lag)`, get: at((s) => s.direct.p99), digits: 2 });
    out.push({ figure: `events per CPU-second at this load, ${label}`, get: at((s) => s.eventsPerCpuSecond) });
  }
  for (const proto of protosOf(r.throughput)) {
    const label = LABEL[proto] ?? proto;
    const at = (f: (s: Steady) => number | null) => (x: RunResults, s: string) => {
      const v = x.throughput[proto]?.[s];
      return v ? f(v) : null;
    };
    out.push({ figure: `events per CPU-second, 1 KiB payloads, ${label}`, get: at((s) => s.eventsPerCpuSecond), target: { relay: 0.95, lower: false } });
    out.push({ figure: `events per second delivered (same offered load), ${label}`, get: at((s) => s.eventsPerSecond) });
  }
  for (const proto of protosOf(r.density)) {
    const label = LABEL[proto] ?? proto;
    const counts = Object.values(r.density[proto]!)[0]?.steps.map((s) => s.count) ?? [];
    const step = (i: number, f: (s: Density['steps'][number]) => number) => (x: RunResults, s: string) => {
      const v = x.density[proto]?.[s]?.steps[i];
      return v ? f(v) : null;
    };
    counts.forEach((count, i) => {
      out.push({ figure: `RSS per open subscription at ${fmt(count)}, ${label} (KiB)`, get: step(i, (s) => s.rssPerSubscription / 1024), digits: 1, target: { relay: 1.2, lower: true } });
    });
    counts.forEach((count, i) => out.push({ figure: `time to open ${fmt(count)} subscriptions, ${label} (s)`, get: step(i, (s) => s.openMs / 1000), digits: 2 }));
    counts.forEach((count, i) => {
      const get = step(i, (s) => s.refused);
      if (Object.keys(r.density[proto]!).some((s) => get(r, s))) out.push({ figure: `streams ended by the server while opening ${fmt(count)}, ${label}`, get });
    });
  }
  for (const proto of protosOf(r.churn)) {
    const label = LABEL[proto] ?? proto;
    const at = (f: (s: Churn) => number | null | undefined) => (x: RunResults, s: string) => {
      const v = x.churn[proto]?.[s];
      return v ? f(v) : null;
    };
    out.push({ figure: `churn: subscribe/abort cycles per second, ${label}`, get: at((s) => s.perSecond), target: { relay: 0.9, lower: false } });
    out.push({ figure: `churn: CPU-seconds per 1,000 cycles, ${label}`, get: at((s) => s.cpuSecondsPerThousand), digits: 2 });
    out.push({ figure: `churn: RSS after the first round minus before, ${label} (MiB)`, get: at((s) => s.rssGrowth / 2 ** 20), digits: 1 });
    out.push({ figure: `churn: RSS after a second round minus after the first, ${label} (MiB; a leak keeps growing)`, get: at((s) => s.rssGrowthSecondRound / 2 ** 20), digits: 1 });
    const heap = (i: number) => at((s) => (s.heapAfterGc ? s.heapAfterGc[i]! / 2 ** 20 : null));
    out.push({ figure: `churn: JS heap after a full GC, before, ${label} (MiB)`, get: heap(0), digits: 1 });
    out.push({ figure: `churn: JS heap after a full GC, after round 2, ${label} (MiB; a leak keeps growing)`, get: heap(2), digits: 1 });
    out.push({ figure: `churn: upstream sockets left open, ${label}`, get: at((s) => s.upstreamSocketsAfter) });
  }
  return out;
}

/** The sharing scenarios' rows: subway in the mode against the relay, Yoga pooled and subway `off`. */
export function sharingRows(r: Results, kind: 'fanout' | 'connection'): Row[] {
  const out: Row[] = [];
  for (const proto of protosOf(r[kind])) {
    const label = LABEL[proto] ?? proto;
    const at = (f: (s: Sharing) => number | null) => (x: RunResults, s: string) => {
      const v = x[kind][proto]?.[s];
      return v ? f(v) : null;
    };
    const n = Object.values(r[kind][proto]!)[0]?.subscriptions ?? 0;
    if (kind === 'fanout') {
      out.push({ figure: `upstream sockets, ${label}`, get: at((s) => s.upstreamSockets), target: { exactly: 1 } });
      out.push({ figure: `upstream subscriptions, ${label}`, get: at((s) => s.upstreamSubscriptions), target: { exactly: 1 } });
      out.push({ figure: `RSS per subscriber, ${label} (KiB)`, get: at((s) => s.rssPerSubscription / 1024), digits: 1, target: { relay: 0.35, lower: true } });
      out.push({ figure: `deliveries per second (events written to clients), ${label}`, get: at((s) => s.eventsPerSecond) });
      out.push({ figure: `deliveries per CPU-second, ${label}`, get: at((s) => s.eventsPerCpuSecond), target: { relay: 2, lower: false } });
    } else {
      out.push({ figure: `upstream sockets, ${label}`, get: at((s) => s.upstreamSockets), target: { atMost: Math.ceil(n / 100) } });
      out.push({ figure: `upstream subscriptions, ${label}`, get: at((s) => s.upstreamSubscriptions) });
      out.push({ figure: `RSS per subscription, ${label} (KiB)`, get: at((s) => s.rssPerSubscription / 1024), digits: 1, target: { relay: 0.6, lower: true } });
      out.push({ figure: `events per second delivered, ${label}`, get: at((s) => s.eventsPerSecond) });
      out.push({ figure: `events per CPU-second, ${label}`, get: at((s) => s.eventsPerCpuSecond) });
    }
    out.push({ figure: `added latency p50, ${label} (ms)`, get: at((s) => s.added.p50), digits: 2 });
    out.push({ figure: `added latency p99, ${label} (ms)`, get: at((s) => s.added.p99), digits: 2 });
    out.push({ figure: `time to open ${fmt(n)} streams, ${label} (s)`, get: at((s) => s.openMs / 1000), digits: 2 });
  }
  return out;
}

/** Whether `subject` meets a row's target (medians). */
function verdict(row: Row, r: Results, subject: string): string {
  const t = row.target;
  if (!t) return '';
  const v = row.get(r, subject);
  if ('exactly' in t) return v == null ? '' : `${v === t.exactly ? 'met' : 'missed'}: = ${t.exactly}`;
  if ('atMost' in t) return v == null ? '' : `${v <= t.atMost ? 'met' : 'missed'}: ≤ ${fmt(t.atMost)}`;
  const parts: string[] = [];
  for (const peer of ['relay', 'yoga'] as const) {
    const bound = t[peer];
    if (bound === undefined) continue;
    const q = ratio(v, row.get(r, peer));
    if (q === null) continue;
    const ok = t.lower ? q <= bound : q >= bound;
    parts.push(`${ok ? 'met' : 'missed'}: ${t.lower ? '≤' : '≥'} ${fmt(bound, 2)}x ${peer}`);
  }
  return parts.join('; ');
}

/** Each run's ratio of `a` to `b`, e.g. "0.97 · 1.02 · 0.99". */
function perRun(row: Row, r: Results, a: string, b: string): string {
  if (r.runs.length < 2) return '';
  return r.runs.map((x) => {
    const q = ratio(row.get(x, a), row.get(x, b));
    return q === null ? '—' : fmt(q, 2);
  }).join(' · ');
}

function table(r: Results, list: Row[], columns: { server: string; title: string }[], subject: string, peers: { server: string; title: string }[], direct: boolean): string[] {
  const present = columns.filter((c) => list.some((row) => row.get(r, c.server) != null));
  const ratios = peers.filter((p) => present.some((c) => c.server === p.server) && p.server !== subject);
  const head = ['figure', ...(direct ? ['direct graphql-ws'] : []), ...present.map((c) => (c.server === subject ? `**${c.title}**` : c.title))];
  for (const p of ratios) head.push(`${subject === 'subway' ? 'subway' : 'shared'} ÷ ${p.title}`, ...(r.runs.length > 1 && p.server === 'relay' ? ['each run'] : []));
  head.push('target');
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i === 0 || h === 'target' ? '---' : '---:')).join(' | ')} |`];
  for (const row of list) {
    const cells = [row.figure, ...(direct ? [row.direct ?? ''] : [])];
    for (const c of present) {
      const v = fmt(row.get(r, c.server), row.digits ?? 0);
      cells.push(c.server === subject ? `**${v}**` : v);
    }
    for (const p of ratios) {
      cells.push(r2(ratio(row.get(r, subject), row.get(r, p.server))));
      if (r.runs.length > 1 && p.server === 'relay') cells.push(perRun(row, r, subject, 'relay'));
    }
    cells.push(verdict(row, r, subject));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** subway's JSON log lines written during the run (they are produced, as with `npm start`). */
function logLines(r: Results): number {
  let n = 0;
  for (const run of r.runs) {
    for (const section of [run.latency, run.throughput, run.density, run.churn, run.fanout, run.connection] as ByProto<{ logLines?: number }>[]) {
      for (const byServer of Object.values(section)) for (const v of Object.values(byServer ?? {})) n += v.logLines ?? 0;
    }
  }
  return n;
}

export function renderMarkdown(r: Results): string {
  const m = r.meta.machine as { nproc: number; cpuModel: string; node: string; kernel: string; memoryGiB: number; pinned: boolean; pinLoad?: boolean; loadAverage?: number; loadAverageAtEnd?: number };
  const loads = r.runs.map((x) => `${x.loadAverage}–${x.loadAverageAtEnd ?? '?'}`).join(', ');
  const lines = [
    `Run ${r.meta.date} (\`${r.meta.command}\`, ${r.meta.seconds} s) on ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}${m.pinned ? `; server under test pinned to CPU 1${m.pinLoad ? ', upstream and generator to CPU 0' : ', upstream and generator unpinned'}` : ''}.`,
    `${r.meta.runs} run${r.meta.runs === 1 ? '' : 's'}, the servers taking turns in rotating order; every figure is the median over the runs${r.runs.length > 1 ? ' ("each run": that run\'s own ratio to the relay)' : ''}. Load average (1 min) at the start and end of each run: ${loads} (other work on the machine).`,
    `subway runs as \`npm start\` assembles it (prom-client metrics, JSON log lines: ${fmt(logLines(r))} written to a file over the run).`,
    '',
    ...r.runs.flatMap((x, i) => (x.uptime?.length ? [`- \`uptime\`, run ${i + 1}: ${x.uptime.map((u) => `\`${u}\``).join(' → ')}`] : [])),
    '',
    '**The cost floor**: subway in its default mode (`UPSTREAM_SHARING=off`, an upstream socket per subscription), the raw relay and Yoga, each subscription on its own upstream socket.',
    '',
    ...table(
      r,
      rows(r),
      [
        { server: 'relay', title: 'raw relay' },
        { server: 'subway', title: 'subway' },
        { server: 'yoga', title: 'Yoga (peer)' },
        { server: 'subway-base', title: 'subway (base)' },
      ],
      'subway',
      [
        { server: 'relay', title: 'relay' },
        { server: 'yoga', title: 'Yoga' },
        { server: 'subway-base', title: 'base' },
      ],
      true,
    ),
  ];
  for (const kind of ['fanout', 'connection'] as const) {
    const list = sharingRows(r, kind);
    if (!list.length) continue;
    const mode = kind === 'fanout' ? 'subscription' : 'connection';
    const n = Object.values(Object.values(r[kind])[0] ?? {})[0]?.subscriptions ?? 0;
    lines.push(
      '',
      kind === 'fanout'
        ? `**Sharing: ${fmt(n)} streams of one subscription** (same operation and variables): subway with \`UPSTREAM_SHARING=subscription\` against the relay (a socket per stream), Yoga pooled (one graphql-ws client: one socket, a subscription per stream) and subway \`off\`.`
        : `**Sharing: ${fmt(n)} distinct subscriptions** multiplexed: subway with \`UPSTREAM_SHARING=connection\` (up to 100 per upstream socket) against the relay, Yoga pooled and subway \`off\`.`,
      '',
      ...table(
        r,
        list,
        [
          { server: 'relay', title: 'raw relay' },
          { server: 'yoga-pooled', title: 'Yoga pooled' },
          { server: 'subway', title: 'subway off' },
          { server: `subway-${mode}`, title: `subway ${mode}` },
        ],
        `subway-${mode}`,
        [
          { server: 'relay', title: 'relay' },
          { server: 'yoga-pooled', title: 'Yoga pooled' },
        ],
        false,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

const SERVERS = ['relay', 'subway', 'yoga'] as const;
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

  // Right panel: RSS per subscription against the count (HTTP/1.1).
  const density = r.density.h1 ?? Object.values(r.density)[0] ?? {};
  const R = { x: 520, y: 40, w: 340, h: 260 };
  const counts = Object.values(density)[0]?.steps.map((s) => s.count) ?? [];
  const kib = SERVERS.flatMap((s) => density[s]?.steps.map((x) => x.rssPerSubscription / 1024) ?? []);
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
    const steps = density[s]?.steps;
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
