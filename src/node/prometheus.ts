/**
 * Prometheus metrics on Node, with prom-client: the gateway's lifecycle
 * events (see instrumentation.ts) turned into gauges, counters and
 * histograms, what sharing looks like at each scrape (`observe`), plus the
 * process's default metrics (memory, event loop lag).
 */
import type { ResumeStats } from '../core/hub/hubs.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SharingStats } from '../core/gateway.ts';
import type { Instrumentation } from '../core/observability/instrumentation.ts';

export interface PrometheusMetrics {
  readonly instrumentation: Instrumentation;
  readonly registry: Registry;
  /** Reads the gateway's sharing figures at each scrape. */
  observe(source: () => SharingStats): void;
  /** Reads what resume keeps at each scrape (docs/resume.md). */
  observeResume(source: () => ResumeStats): void;
  /** The exposition text and its content type, for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Buckets of the subscribers-per-subscription histogram. */
const SHARING_BUCKETS = [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10_000];

export function createPrometheusMetrics(options: { defaultMetrics?: boolean } = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let source: (() => SharingStats) | undefined;
  let resumeSource: (() => ResumeStats) | undefined;
  const resumes = new Counter({ name: 'subway_resumes_total', help: 'Requests that named an event id to resume from, by outcome (replayed, gap) and, for a gap, why (unknown, mismatch, evicted).', labelNames: ['outcome', 'reason'], registers });
  const resumeGauge = (name: string, help: string, read: (stats: ResumeStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        if (resumeSource) this.set(read(resumeSource()));
      },
    });
  resumeGauge('subway_resume_lingering_subscriptions', 'Upstream subscriptions kept open with nobody attached, for clients that went away (RESUME_WINDOW_MS).', (s) => s.lingering);
  resumeGauge('subway_resume_buffered_events', 'Events kept for resuming clients, all upstream subscriptions together.', (s) => s.bufferedEvents);
  resumeGauge('subway_resume_buffered_bytes', 'Bytes of the events kept for resuming clients.', (s) => s.bufferedBytes);
  const streams = new Gauge({ name: 'subway_streams_open', help: 'SSE streams open now.', registers });
  const upstream = new Gauge({ name: 'subway_upstream_sockets_open', help: 'Upstream sockets that completed their handshake and are open now.', registers });
  const started = new Counter({ name: 'subway_streams_started_total', help: 'SSE streams accepted.', labelNames: ['operation'], registers });
  const ended = new Counter({ name: 'subway_streams_ended_total', help: 'SSE streams ended, by reason.', labelNames: ['operation', 'reason'], registers });
  const events = new Counter({ name: 'subway_events_forwarded_total', help: 'next events sent to clients.', labelNames: ['operation'], registers });
  const bytes = new Counter({ name: 'subway_event_bytes_total', help: 'Bytes of next events sent to clients, SSE framing included.', labelNames: ['operation'], registers });
  const encoded = new Counter({ name: 'subway_frames_encoded_total', help: 'Upstream results encoded as SSE frames (once each, however many subscribers).', registers });
  const written = new Counter({ name: 'subway_frames_written_total', help: 'Frames handed to client streams (one per subscriber per frame).', registers });
  const rejections = new Counter({ name: 'subway_rejections_total', help: 'Requests refused, by error code and status.', labelNames: ['code', 'status'], registers });
  const upstreamErrors = new Counter({ name: 'subway_upstream_errors_total', help: 'Upstream subscriptions ended by a failed or abnormally closed connection.', labelNames: ['kind', 'close_code'], registers });
  const duration = new Histogram({
    name: 'subway_stream_duration_seconds',
    help: 'How long SSE streams lasted, by end reason.',
    labelNames: ['reason'],
    buckets: [0.1, 1, 10, 60, 300, 1800, 3600, 14_400],
    registers,
  });
  const sourceUp = new Gauge({ name: 'subway_operation_source_up', help: 'Whether the last load of an operation source succeeded (1) or failed (0, its last good list still served).', labelNames: ['source'], registers });
  const sourceLoads = new Counter({ name: 'subway_operation_source_loads_total', help: 'New versions of an operation source validated and swapped in.', labelNames: ['source'], registers });
  const sourceFailures = new Counter({ name: 'subway_operation_source_failures_total', help: 'Failed loads of an operation source, by reason (unreachable, invalid, signature, conflict).', labelNames: ['source', 'reason'], registers });
  const sourceChecked = new Gauge({ name: 'subway_operation_source_last_success_timestamp_seconds', help: 'When an operation source was last loaded or found unchanged, in seconds since the epoch.', labelNames: ['source'], registers });
  const registered = new Gauge({ name: 'subway_operations_registered', help: 'Operations in the allow-list served now, all sources merged.', registers });
  new Gauge({
    name: 'subway_upstream_sockets',
    help: 'Upstream sockets open or opening now.',
    registers,
    collect() {
      if (source) this.set(source().upstreamSockets);
    },
  });
  new Gauge({
    name: 'subway_upstream_subscriptions',
    help: 'Upstream subscriptions running now (identical ones count once in UPSTREAM_SHARING=subscription).',
    registers,
    collect() {
      if (source) this.set(source().upstreamSubscriptions);
    },
  });
  new Gauge({
    name: 'subway_subscribers',
    help: 'Client streams attached to an upstream subscription now.',
    registers,
    collect() {
      if (source) this.set(source().subscribers);
    },
  });
  const perSubscription = new Histogram({
    name: 'subway_subscribers_per_shared_subscription',
    help: 'Subscribers of each shared upstream subscription, as of this scrape (UPSTREAM_SHARING=subscription).',
    buckets: SHARING_BUCKETS,
    registers,
    collect() {
      if (!source) return;
      this.reset();
      this.zero({});
      for (const n of source().subscribersPerSubscription) this.observe(n);
    },
  });
  void perSubscription;

  // prom-client hashes a label object on every call: keep each operation's (and end reason's) children,
  // so a stream's start and end and each frame cost a map lookup, not a hash of labels.
  const perOperation = new Map<string, { events: Counter.Internal; bytes: Counter.Internal; started: Counter.Internal; ended: Map<string, Counter.Internal> }>();
  const childrenOf = (operation: string) => {
    let children = perOperation.get(operation);
    if (!children) {
      children = { events: events.labels(operation), bytes: bytes.labels(operation), started: started.labels(operation), ended: new Map() };
      perOperation.set(operation, children);
    }
    return children;
  };
  const endedOf = (operation: string, reason: string) => {
    const byReason = childrenOf(operation).ended;
    let child = byReason.get(reason);
    if (!child) byReason.set(reason, (child = ended.labels(operation, reason)));
    return child;
  };
  const durations = new Map<string, Histogram.Internal<string>>();
  const durationOf = (reason: string) => {
    let child = durations.get(reason);
    if (!child) durations.set(reason, (child = duration.labels(reason)));
    return child;
  };

  const instrumentation: Instrumentation = {
    onStreamStart({ operation, resume }) {
      streams.inc();
      childrenOf(operation).started.inc();
      if (resume) resumes.inc({ outcome: resume.outcome, reason: resume.outcome === 'gap' ? resume.reason : '' });
    },
    onStreamEnd({ operation, reason, durationMs }) {
      streams.dec();
      endedOf(operation, reason).inc();
      durationOf(reason).observe(durationMs / 1000);
    },
    onFrame(operation, n, deliveries) {
      encoded.inc();
      if (deliveries === 0) return;
      written.inc(deliveries);
      const children = childrenOf(operation);
      children.events.inc(deliveries);
      children.bytes.inc(n * deliveries);
    },
    onRejection(code, status) {
      rejections.inc({ code, status: String(status) });
    },
    onUpstreamOpen: () => upstream.inc(),
    onUpstreamClose: () => upstream.dec(),
    onUpstreamError(kind, closeCode) {
      upstreamErrors.inc({ kind, close_code: closeCode === undefined ? '' : String(closeCode) });
    },
    onOperationSource(event) {
      const { source } = event;
      registered.set(event.total);
      if (event.outcome === 'failed') {
        sourceUp.set({ source }, 0);
        sourceFailures.inc({ source, reason: event.reason });
        return;
      }
      sourceUp.set({ source }, 1);
      sourceChecked.set({ source }, Date.now() / 1000);
      if (event.outcome === 'loaded') sourceLoads.inc({ source });
    },
  };
  return {
    instrumentation,
    registry,
    observe(next) {
      source = next;
    },
    observeResume(next) {
      resumeSource = next;
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
