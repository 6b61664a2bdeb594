/**
 * The Node side of `PERSISTED_OPERATIONS`: folders (read from disk, watched),
 * bundle URLs (fetched, polled every `PERSISTED_OPERATIONS_POLL_MS`), merged
 * by the core (src/core/operations/live.ts). The gateway refuses to start
 * only when no source yields a good list, or when two sources conflict.
 */
import type { GatewayConfig } from '../../core/config.ts';
import type { OperationSourceEvent } from '../../core/observability/instrumentation.ts';
import { createLiveOperations, type LiveOperations } from '../../core/operations/live.ts';
import type { Registry } from '../../core/operations/registry.ts';
import { createBundleVerifier, type BundleVerifier } from '../../core/operations/signature.ts';
import type { SourceSpec } from '../../core/operations/source-list.ts';
import type { OperationSource } from '../../core/operations/source.ts';
import { createUrlSource } from '../../core/operations/url-source.ts';
import { validateOperations } from '../../core/operations/validate.ts';
import { loadOperations, OperationsError } from './load.ts';
import { watchOperations, type OperationsWatcher } from './reload.ts';

/** A folder of registered operations: the files `subway register` writes, checked against the `.graphql` sources. */
export function createFolderSource(dir: string): OperationSource {
  return {
    name: dir,
    polled: false,
    load: async () => ({ registry: await validateOperations(await loadOperations(dir), dir) }),
  };
}

export type SourceSettings = Pick<GatewayConfig, 'operationSources' | 'operationsPollMs' | 'operationsTimeoutMs' | 'operationsPublicKeys'>;

export interface NodeSourcesOptions {
  /** Each new merged list (`gateway.setRegistry`). */
  onSwap?(registry: Registry): void;
  /** Each load, check and failure (metrics, the log line). */
  onEvent?(event: OperationSourceEvent): void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds a folder's files must be quiet before they are loaded again. @default 100 */
  settleMs?: number;
}

export interface NodeSources extends LiveOperations, AsyncDisposable {}

function nodeSource(spec: SourceSpec, verifier: BundleVerifier, fetchImpl: typeof fetch | undefined): OperationSource {
  switch (spec.kind) {
    case 'folder':
      return createFolderSource(spec.path);
    case 'url':
      return createUrlSource(spec.url, { verifier, fetch: fetchImpl });
    case 'kv':
      throw new OperationsError(`PERSISTED_OPERATIONS: kv:${spec.binding} is a Workers KV binding, which only a Worker has; on Node, serve the bundle over https:// instead.`);
  }
}

/** Why nothing can be served, as start-up refuses it. */
function startProblem(live: LiveOperations, report: Awaited<ReturnType<LiveOperations['loadAll']>>): string | undefined {
  const conflict = report.failures.find((f) => f.reason === 'conflict');
  if (conflict) return `${conflict.error}. Rename the operation in one app, or serve the two apps from two gateways.`;
  if (report.loaded.length > 0) return undefined;
  if (report.failures.length === 1) return report.failures[0]!.error;
  return `No operation source yields a good list: ${live.status().map((s) => s.error).join('; ')}`;
}

/**
 * Loads every source; throws an `OperationsError` naming the source(s) when
 * the gateway cannot start. Then watches the folders and polls the URLs.
 */
export async function startOperationSources(settings: SourceSettings, options: NodeSourcesOptions = {}): Promise<NodeSources> {
  const verifier = createBundleVerifier(settings.operationsPublicKeys);
  const sources = settings.operationSources.map((spec) => nodeSource(spec, verifier, options.fetch));
  const live = createLiveOperations({
    sources,
    pollMs: settings.operationsPollMs,
    timeoutMs: settings.operationsTimeoutMs,
    onSwap: (registry) => options.onSwap?.(registry),
    onEvent: (event) => options.onEvent?.(event),
  });
  const report = await live.loadAll();
  const problem = startProblem(live, report);
  if (problem) {
    live.close();
    throw new OperationsError(problem);
  }
  const watchers: OperationsWatcher[] = [];
  const watchFailed = (dir: string, err: unknown) =>
    options.onEvent?.({ outcome: 'failed', source: dir, reason: 'unreachable', error: `${dir}: cannot watch (${(err as Error).message})`, total: live.registry.operations.length });
  for (const spec of settings.operationSources) {
    if (spec.kind !== 'folder') continue;
    try {
      watchers.push(watchOperations(spec.path, { settleMs: options.settleMs, onChange: () => void live.refresh(spec.path), onError: (err) => watchFailed(spec.path, err) }));
    } catch (err) {
      // A folder that failed at start while another source loaded: reported, the others serve.
      watchFailed(spec.path, err);
    }
  }
  live.startPolling();
  const close = () => {
    for (const w of watchers) w.close();
    live.close();
  };
  return {
    get registry() {
      return live.registry;
    },
    get loaded() {
      return live.loaded;
    },
    status: live.status,
    loadAll: live.loadAll,
    refresh: live.refresh,
    startPolling: live.startPolling,
    ensureFresh: live.ensureFresh,
    close,
    [Symbol.dispose]: close,
    [Symbol.asyncDispose]: async () => close(),
  };
}
