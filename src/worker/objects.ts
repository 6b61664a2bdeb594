/**
 * What a Worker hands to its Durable Objects (docs/workers.md, "Sharing and
 * resuming"), apart from app.ts so that the package's declarations for
 * `@subway-sse/gateway/worker` do not reach the gateway's options (whose
 * `AsyncDisposable` a Worker project's TypeScript lib may lack).
 */
import type { GatewayConfig } from '../core/config.ts';
import type { GatewayOptions } from '../core/gateway.ts';
import { hubNamespace } from './binding.ts';
import { createDelegate } from './delegate.ts';
import { readMetrics } from './stats.ts';

/**
 * What the Worker hands to Durable Objects: with `UPSTREAM_SHARING` on, the
 * subscriptions that may share go to the object of their key; with
 * `RESUME_WINDOW_MS` on, every subscription goes to an object (where it
 * lingers for its client to resume); `/metrics` sums the objects' figures.
 * `{}` when neither is on (no object is needed, and none is looked for).
 * Throws a `ConfigError` naming the binding to add when one is needed and
 * the Worker has none.
 */
export function workerObjects(config: GatewayConfig, env: Record<string, unknown>): Pick<GatewayOptions, 'delegate' | 'metrics'> {
  const why = [config.upstreamSharing !== 'off' ? `UPSTREAM_SHARING=${config.upstreamSharing}` : '', config.resumeWindowMs > 0 ? `RESUME_WINDOW_MS=${config.resumeWindowMs}` : '']
    .filter(Boolean)
    .join(' and ');
  if (!why) return {};
  const namespace = hubNamespace(env, why);
  return { delegate: createDelegate(namespace, { retryMs: config.retryMs }), metrics: readMetrics(namespace) };
}
