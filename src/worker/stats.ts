/**
 * `/metrics` on a Worker that shares through Durable Objects: the figures of
 * every object together, as the Node server's `/metrics` has them for its
 * process (the demo page reads them).
 *
 * No object can list the others, so each reports to one more object of the
 * same class, named `subway/stats`: its gauges (streams, upstream sockets
 * and subscriptions) and the frames it encoded and wrote since its last
 * report. It reports a second after they change, and every 10 s while it
 * holds anything; an object left with nothing reports once more and stops,
 * so it keeps no timer and can be evicted. The stats object sums what it was
 * told: an object that stopped reporting for 30 s without saying it was
 * idle (evicted, restarted by a deploy) no longer counts. Its counters start
 * from zero whenever the stats object itself restarts, as Prometheus
 * counters may.
 *
 * The cost: at most one request to the stats object a second per object
 * whose streams or sockets change, and one per 10 s per object that holds
 * streams. A Durable Object takes about 1,000 requests a second, so past
 * some 10,000 busy objects the reports would queue: turn them off there
 * (`METRICS=off`).
 */
import type { Instrumentation } from '../core/observability/instrumentation.ts';
import type { Timers } from '../core/timers.ts';
import { hubStub, isHubNamespace, HUB_BINDING, type HubNamespace } from './binding.ts';

/** The name of the object that sums the others' reports. */
export const STATS_NAME = 'subway/stats';
export const REPORT_PATH = '/report';
export const METRICS_PATH = '/metrics';

/** How soon a change is reported, in milliseconds (changes meanwhile go in the same report). */
export const REPORT_DELAY_MS = 1000;
/** How often an object that holds anything reports while nothing changes, in milliseconds. */
export const REFRESH_MS = 10_000;
/** How long the stats object counts an object that stopped reporting, in milliseconds. */
export const EXPIRY_MS = 30_000;

/** What an object holds now, and the frames since its previous report. */
export interface Report {
  /** The reporting object (its id): one entry each. */
  id: string;
  streams: number;
  upstreamSockets: number;
  upstreamSubscriptions: number;
  /** Timers the object has pending (heartbeat, idle close, keep-alive, linger): an object with none, and no socket, can be evicted. */
  timers: number;
  /** Frames encoded since the previous report. */
  framesEncoded: number;
  /** Frames written to streams since the previous report. */
  framesWritten: number;
  /** Upstream subscriptions lingering with nobody attached, for clients that went away (RESUME_WINDOW_MS). */
  lingering?: number;
  /** Events and bytes kept for resuming clients. */
  bufferedEvents?: number;
  bufferedBytes?: number;
  /** Resumes since the previous report, replayed and gaps. */
  resumesReplayed?: number;
  resumesGap?: number;
}

/** The figures an object reads from its gateway (totals since it started). */
export interface ObjectFigures {
  streams: number;
  upstreamSockets: number;
  upstreamSubscriptions: number;
  timers: number;
  framesEncoded: number;
  framesWritten: number;
  lingering: number;
  bufferedEvents: number;
  bufferedBytes: number;
  /** Resumes since the object started, replayed and gaps. */
  resumesReplayed: number;
  resumesGap: number;
}

export interface StatsReporter {
  /** The hooks that tell the reporter something changed. */
  readonly instrumentation: Instrumentation;
}

/** Whether an object holds anything that keeps it from being evicted (its reporter's own timer aside). */
const holds = (f: Pick<ObjectFigures, 'streams' | 'upstreamSockets' | 'upstreamSubscriptions' | 'timers'>) =>
  f.streams + f.upstreamSockets + f.upstreamSubscriptions + f.timers > 0;

/**
 * The reporter of one object; `undefined` when the Worker has no hub binding
 * to reach the stats object with.
 */
export function createStatsReporter(
  env: Record<string, unknown>,
  state: { waitUntil?(promise: Promise<unknown>): void; readonly id?: { toString(): string } },
  read: () => ObjectFigures,
  timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>,
  now: () => number = Date.now,
  onResume?: (outcome: 'replayed' | 'gap') => void,
): StatsReporter | undefined {
  const namespace = env[HUB_BINDING];
  if (!isHubNamespace(namespace)) return undefined;
  const id = state.id?.toString() ?? crypto.randomUUID();
  let timer: unknown;
  let dueAt = Infinity;
  let reported = { framesEncoded: 0, framesWritten: 0, resumesReplayed: 0, resumesGap: 0 };

  const schedule = (ms: number) => {
    if (now() + ms >= dueAt) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    dueAt = now() + ms;
    timer = timers.setTimeout(send, ms);
  };

  const send = () => {
    timer = undefined;
    dueAt = Infinity;
    const figures = read();
    const report: Report = {
      id,
      streams: figures.streams,
      upstreamSockets: figures.upstreamSockets,
      upstreamSubscriptions: figures.upstreamSubscriptions,
      timers: figures.timers,
      framesEncoded: figures.framesEncoded - reported.framesEncoded,
      framesWritten: figures.framesWritten - reported.framesWritten,
      lingering: figures.lingering,
      bufferedEvents: figures.bufferedEvents,
      bufferedBytes: figures.bufferedBytes,
      resumesReplayed: figures.resumesReplayed - reported.resumesReplayed,
      resumesGap: figures.resumesGap - reported.resumesGap,
    };
    reported = { framesEncoded: figures.framesEncoded, framesWritten: figures.framesWritten, resumesReplayed: figures.resumesReplayed, resumesGap: figures.resumesGap };
    const sent = postReport(namespace, report).catch((err: unknown) => {
      // The figures are not worth failing anything for; the next report carries the gauges again.
      console.error('[subway] could not report to the stats object', err);
    });
    state.waitUntil?.(sent);
    if (holds(figures)) schedule(REFRESH_MS);
  };

  const changed = () => schedule(REPORT_DELAY_MS);
  return {
    instrumentation: {
      onStreamStart: (info) => {
        if (info.resume) onResume?.(info.resume.outcome);
        changed();
      },
      onStreamEnd: changed,
      onUpstreamOpen: changed,
      onUpstreamClose: changed,
    },
  };
}

async function postReport(namespace: HubNamespace, report: Report): Promise<void> {
  const res = await hubStub(namespace, STATS_NAME).fetch(
    new Request(`https://subway-hub${REPORT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) }),
  );
  await res.body?.cancel();
}

/** The stats object's sums of the reports it was sent. */
export class StatsAggregate {
  private readonly objects = new Map<string, { report: Report; at: number }>();
  private framesEncoded = 0;
  private framesWritten = 0;
  private resumesReplayed = 0;
  private resumesGap = 0;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  report(report: Report): void {
    this.framesEncoded += Math.max(0, report.framesEncoded);
    this.framesWritten += Math.max(0, report.framesWritten);
    this.resumesReplayed += Math.max(0, report.resumesReplayed ?? 0);
    this.resumesGap += Math.max(0, report.resumesGap ?? 0);
    if (holds(report)) this.objects.set(report.id, { report, at: this.now() });
    else this.objects.delete(report.id);
  }

  /** The Prometheus text of the sums (the names the Node server's `/metrics` uses). */
  render(): string {
    const cutoff = this.now() - EXPIRY_MS;
    let streams = 0;
    let sockets = 0;
    let subscriptions = 0;
    let timers = 0;
    let lingering = 0;
    let bufferedEvents = 0;
    let bufferedBytes = 0;
    for (const [id, { report, at }] of this.objects) {
      if (at < cutoff) {
        this.objects.delete(id);
        continue;
      }
      streams += report.streams;
      sockets += report.upstreamSockets;
      subscriptions += report.upstreamSubscriptions;
      timers += report.timers ?? 0;
      lingering += report.lingering ?? 0;
      bufferedEvents += report.bufferedEvents ?? 0;
      bufferedBytes += report.bufferedBytes ?? 0;
    }
    const metric = (name: string, type: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
    return [
      metric('subway_subscribers', 'gauge', 'Client streams attached to an upstream subscription now, in every Durable Object.', streams),
      metric('subway_upstream_subscriptions', 'gauge', 'Upstream subscriptions running now (identical ones count once in UPSTREAM_SHARING=subscription).', subscriptions),
      metric('subway_upstream_sockets', 'gauge', 'Upstream sockets open or opening now.', sockets),
      metric('subway_hub_objects', 'gauge', 'Durable Objects holding streams, upstream sockets or timers now (the others can be evicted).', this.objects.size),
      metric('subway_hub_timers', 'gauge', 'Timers pending in those Durable Objects (heartbeat, idle close, keep-alive, resume window).', timers),
      metric('subway_frames_encoded_total', 'counter', 'Upstream results encoded as SSE frames (once each, however many subscribers).', this.framesEncoded),
      metric('subway_frames_written_total', 'counter', 'Frames handed to client streams (one per subscriber per frame).', this.framesWritten),
      metric('subway_resume_lingering_subscriptions', 'gauge', 'Upstream subscriptions kept open with nobody attached, for clients that went away (RESUME_WINDOW_MS).', lingering),
      metric('subway_resume_buffered_events', 'gauge', 'Events kept for resuming clients, all upstream subscriptions together.', bufferedEvents),
      metric('subway_resume_buffered_bytes', 'gauge', 'Bytes of the events kept for resuming clients.', bufferedBytes),
      `# HELP subway_resumes_total Requests that named an event id to resume from, by outcome (replayed, gap).\n# TYPE subway_resumes_total counter\nsubway_resumes_total{outcome="replayed"} ${this.resumesReplayed}\nsubway_resumes_total{outcome="gap"} ${this.resumesGap}\n`,
    ].join('');
  }
}

/** The Worker's `/metrics`: the stats object's sums. */
export function readMetrics(namespace: HubNamespace): () => Promise<{ contentType: string; body: string }> {
  return async () => {
    const res = await hubStub(namespace, STATS_NAME).fetch(new Request(`https://subway-hub${METRICS_PATH}`));
    return { contentType: res.headers.get('content-type') ?? 'text/plain; version=0.0.4; charset=utf-8', body: await res.text() };
  };
}
