/**
 * The Worker side of `PERSISTED_OPERATIONS`: a folder entry stands for the
 * list bundled at build time (a Worker has no filesystem); URL entries are
 * fetched and `kv:<BINDING>[/<key>]` entries read from a KV namespace
 * binding, each cached per isolate for `PERSISTED_OPERATIONS_POLL_MS`. The
 * bundled list is also the fallback: it is served while no source has a
 * good list (a source unreachable at an isolate's start).
 */
import { ConfigError, type GatewayConfig } from '../core/config.ts';
import { createJsonLog } from '../core/observability/log.ts';
import { createKvSource, type KvNamespaceLike } from '../core/operations/kv-source.ts';
import { createLiveOperations, type LiveOperations } from '../core/operations/live.ts';
import type { Registry } from '../core/operations/registry.ts';
import { createBundleVerifier } from '../core/operations/signature.ts';
import type { OperationSource } from '../core/operations/source.ts';
import { createUrlSource } from '../core/operations/url-source.ts';

/** The list bundled into the Worker: loaded once, never changes. */
function bundledSource(folder: string, registry: Registry): OperationSource {
  return { name: `${folder} (bundled)`, polled: false, load: async (served) => (served ? undefined : { registry }) };
}

const isKvNamespace = (value: unknown): value is KvNamespaceLike => typeof (value as KvNamespaceLike | undefined)?.get === 'function';

/**
 * The live list of a Worker's sources, or `undefined` when every source is
 * the bundled list (nothing to fetch: the bundled registry is served as it is).
 * Throws a `ConfigError` for a `kv:` entry whose binding the Worker lacks.
 */
export function createWorkerSources(
  config: Pick<GatewayConfig, 'operationSources' | 'operationsPollMs' | 'operationsTimeoutMs' | 'operationsPublicKeys'>,
  env: Record<string, unknown>,
  bundled: Registry,
  onSwap: (registry: Registry) => void,
): LiveOperations | undefined {
  const verifier = createBundleVerifier(config.operationsPublicKeys);
  const sources: OperationSource[] = [];
  for (const spec of config.operationSources) {
    if (spec.kind === 'folder') {
      if (!sources.some((s) => !s.polled)) sources.push(bundledSource(spec.path, bundled));
    } else if (spec.kind === 'url') {
      sources.push(createUrlSource(spec.url, { verifier }));
    } else {
      const namespace = env[spec.binding];
      if (!isKvNamespace(namespace)) {
        throw new ConfigError(`PERSISTED_OPERATIONS: kv:${spec.binding} names no KV namespace binding of this Worker; add [[kv_namespaces]] with binding = "${spec.binding}" to wrangler.toml.`);
      }
      sources.push(createKvSource(namespace, spec.binding, spec.key, verifier));
    }
  }
  if (!sources.some((s) => s.polled)) return undefined;
  // The same JSON lines as Node's log, on the Worker's console (`wrangler tail`, Workers Logs).
  const log = createJsonLog({ write: (line) => console.log(line), logStreams: false });
  return createLiveOperations({
    sources,
    fallback: bundled,
    onSwap,
    onEvent: (event) => log.onOperationSource?.(event),
    pollMs: config.operationsPollMs,
    timeoutMs: config.operationsTimeoutMs,
  });
}
