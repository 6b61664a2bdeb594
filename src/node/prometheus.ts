/**
 * Prometheus metrics on Node, with prom-client: the gateway's lifecycle
 * events (see instrumentation.ts) turned into gauges, counters and a
 * histogram, plus the process's default metrics (memory, event loop lag).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Instrumentation } from '../core/observability/instrumentation.ts';

export interface PrometheusMetrics {
  readonly instrumentation: Instrumentation;
  readonly registry: Registry;
  /** The exposition text and its content type, for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createPrometheusMetrics(options: { defaultMetrics?: boolean } = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const streams = new Gauge({ name: 'subway_streams_open', help: 'SSE streams open now.', registers });
  const upstream = new Gauge({ name: 'subway_upstream_sockets_open', help: 'Upstream sockets that completed their handshake and are open now.', registers });
  const started = new Counter({ name: 'subway_streams_started_total', help: 'SSE streams accepted.', labelNames: ['operation'], registers });
  const ended = new Counter({ name: 'subway_streams_ended_total', help: 'SSE streams ended, by reason.', labelNames: ['operation', 'reason'], registers });
  const events = new Counter({ name: 'subway_events_forwarded_total', help: 'next events sent to clients.', labelNames: ['operation'], registers });
  const bytes = new Counter({ name: 'subway_event_bytes_total', help: 'Bytes of next events sent to clients, SSE framing included.', labelNames: ['operation'], registers });
  const rejections = new Counter({ name: 'subway_rejections_total', help: 'Requests refused, by error code and status.', labelNames: ['code', 'status'], registers });
  const upstreamErrors = new Counter({ name: 'subway_upstream_errors_total', help: 'Upstream connections that failed or closed abnormally.', labelNames: ['kind', 'close_code'], registers });
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
  const instrumentation: Instrumentation = {
    onStreamStart({ operation }) {
      streams.inc();
      started.inc({ operation });
    },
    onStreamEnd({ operation, reason, durationMs }) {
      streams.dec();
      ended.inc({ operation, reason });
      duration.observe({ reason }, durationMs / 1000);
    },
    onEvent(operation, n) {
      events.inc({ operation });
      bytes.inc({ operation }, n);
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
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
