/**
 * The live allow-list: the operations of every configured source, merged,
 * kept current and swapped atomically. Runtime-neutral; the runtimes decide
 * when to look again:
 *
 * - Node polls the remote sources every `pollMs` (`startPolling`) and reloads
 *   a folder when it changes (`refresh(name)`).
 * - A Worker has no timers between requests: each request first calls
 *   `ensureFresh`, which refreshes a list older than `pollMs` before the
 *   request is served, waiting at most `timeoutMs`, then serves the last good.
 *
 * The rules, the same everywhere: a source's new version is validated whole
 * and merged with the others; a failure of any kind (unreachable, invalid,
 * unsigned, conflicting) keeps that source's last good version, is reported
 * once per attempt (`onEvent`), and the others go on being served. Requests
 * see the new list from the moment of the swap; open streams hold their
 * operation and never notice.
 */
import { DEFAULTS } from '../defaults.ts';
import type { OperationSourceEvent } from '../observability/instrumentation.ts';
import { mergeRegistries, type RegistryPart } from './merge.ts';
import type { Registry } from './registry.ts';
import { failureReason, sourceFailure, type OperationSource, type SourceFailureReason, type SourceVersion } from './source.ts';

/** Timers for the deadlines and the polling. */
export interface TimeoutTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveOperationsOptions {
  /** The sources, in the order of `PERSISTED_OPERATIONS`: on a conflict, the earlier one's list stays. */
  sources: readonly OperationSource[];
  /**
   * Served while no source has a good list: a Worker's bundled list when its
   * sources are unreachable at an isolate's start.
   * @default an empty list
   */
  fallback?: Registry;
  /** Called with each new merged list (`gateway.setRegistry`). */
  onSwap?(registry: Registry): void;
  /** Each load, check and failure, for metrics and the log. @default none */
  onEvent?(event: OperationSourceEvent): void;
  /**
   * How old, in milliseconds, a polled source's list may grow before it is
   * fetched again.
   * @default 10000
   */
  pollMs?: number;
  /**
   * Milliseconds one load may take (fetch and body); a Worker's request waits
   * at most this long for a refresh before it is served the last good list.
   * @default 3000
   */
  timeoutMs?: number;
  /** @default the global setTimeout/clearTimeout */
  timers?: TimeoutTimers;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
  /** Called when `onSwap` or `onEvent` throws (never breaking a load). @default console.error */
  onInternalError?: (err: unknown) => void;
}

export interface SourceStatus {
  readonly source: string;
  /** Whether its last attempt succeeded. */
  readonly ok: boolean;
  /** Operations of its served version; undefined when it has none yet. */
  readonly operations: number | undefined;
  /** The last failure's message, while it is failing. */
  readonly error?: string;
  readonly reason?: SourceFailureReason;
}

export interface LoadReport {
  /** Sources with a good list. */
  readonly loaded: readonly string[];
  /** Each failed source, with what went wrong. */
  readonly failures: readonly { source: string; reason: SourceFailureReason; error: string }[];
}

export interface LiveOperations extends Disposable {
  /** The merged list served now. */
  readonly registry: Registry;
  /** Whether some source has a good list (else the fallback is served). */
  readonly loaded: boolean;
  status(): SourceStatus[];
  /** Loads every source (at start), merging in list order; a conflicting later source is refused. */
  loadAll(): Promise<LoadReport>;
  /** Loads one source again (by name), or every polled one. */
  refresh(source?: string): Promise<void>;
  /** Node: polls the polled sources every `pollMs` until `close`. */
  startPolling(): void;
  /**
   * Workers: `undefined` when the list is fresh; otherwise a promise that
   * settles once it was refreshed, or after `timeoutMs` with the last good.
   */
  ensureFresh(): Promise<void> | undefined;
  close(): void;
}

export function createLiveOperations(options: LiveOperationsOptions): LiveOperations {
  const { sources } = options;
  const pollMs = options.pollMs ?? DEFAULTS.operationsPollMs;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.operationsTimeoutMs;
  const timers: TimeoutTimers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  const now = options.now ?? Date.now;
  const polled = sources.filter((s) => s.polled);
  const versions = new Map<OperationSource, SourceVersion>();
  const problems = new Map<OperationSource, { reason: SourceFailureReason; error: string }>();
  const running = new Map<OperationSource, Promise<void>>();
  const again = new Set<OperationSource>();
  let registry = options.fallback ?? mergeRegistries([]);
  let pollTimer: unknown;
  let checkedAt: number | undefined;
  let round: { started: number; done: Promise<void> } | undefined;
  let closed = false;

  const onInternalError = options.onInternalError ?? ((err: unknown) => console.error('[subway] internal error', err));
  const guarded = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      onInternalError(err);
    }
  };
  const emit = (event: OperationSourceEvent) => guarded(() => options.onEvent?.(event));
  const partsWith = (source?: OperationSource, version?: SourceVersion): RegistryPart[] =>
    sources.flatMap((s) => {
      const v = s === source ? version : versions.get(s);
      return v ? [{ source: s.name, registry: v.registry }] : [];
    });
  const swap = (next: Registry) => {
    registry = next;
    guarded(() => options.onSwap?.(next));
  };
  const fail = (source: OperationSource, err: unknown) => {
    const reason = failureReason(err);
    const message = (err as Error)?.message ?? String(err);
    const error = message.includes(source.name) ? message : `${source.name}: ${message}`;
    problems.set(source, { reason, error });
    emit({ outcome: 'failed', source: source.name, reason, error, total: registry.operations.length });
  };

  /** One load, bounded by `timeoutMs` even when the source ignores its signal (KV). */
  const loadOnce = (source: OperationSource) =>
    new Promise<SourceVersion | undefined>((resolve, reject) => {
      const controller = new AbortController();
      const timer = timers.setTimeout(() => {
        const err = sourceFailure('unreachable', `${source.name}: no answer within ${timeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
      source.load(versions.get(source), controller.signal).then(
        (v) => {
          timers.clearTimeout(timer);
          resolve(v);
        },
        (err) => {
          timers.clearTimeout(timer);
          reject(err);
        },
      );
    });

  /** Loads a source and, when it has a new version that merges, swaps it in. */
  const refreshOne = async (source: OperationSource) => {
    const served = versions.get(source);
    let version: SourceVersion | undefined;
    try {
      version = await loadOnce(source);
    } catch (err) {
      if (!closed) fail(source, err);
      return;
    }
    if (closed) return;
    if (version === undefined || version.registry === served?.registry) {
      if (version) versions.set(source, version);
      problems.delete(source);
      emit({ outcome: 'unchanged', source: source.name, total: registry.operations.length });
      return;
    }
    let merged: Registry;
    try {
      merged = mergeRegistries(partsWith(source, version));
    } catch (err) {
      fail(source, err);
      return;
    }
    versions.set(source, version);
    problems.delete(source);
    swap(merged);
    emit({ outcome: 'loaded', source: source.name, operations: version.registry.operations.length, total: merged.operations.length });
  };

  /** One refresh of a source at a time; a request for another while it runs runs once more after it. */
  const refresh = (source: OperationSource): Promise<void> => {
    const current = running.get(source);
    if (current) {
      again.add(source);
      return current;
    }
    const run = (async () => {
      do {
        again.delete(source);
        await refreshOne(source);
      } while (again.has(source) && !closed);
    })().finally(() => running.delete(source));
    running.set(source, run);
    return run;
  };

  const loadAll = async (): Promise<LoadReport> => {
    const results = await Promise.all(
      sources.map((s) => loadOnce(s).then((version) => ({ version }), (error: unknown) => ({ error }))),
    );
    if (closed) return { loaded: [], failures: [] };
    const failures: LoadReport['failures'][number][] = [];
    const accepted: [OperationSource, SourceVersion][] = [];
    results.forEach((result, i) => {
      const source = sources[i]!;
      const version = 'version' in result ? (result.version ?? versions.get(source)) : undefined;
      let error = 'error' in result ? result.error : sourceFailure('invalid', `${source.name}: no version to serve`);
      if (version) {
        try {
          mergeRegistries([...accepted.map(([s, v]) => ({ source: s.name, registry: v.registry })), { source: source.name, registry: version.registry }]);
          accepted.push([source, version]);
          return;
        } catch (err) {
          error = err;
        }
      }
      fail(source, error);
      const problem = problems.get(source)!;
      failures.push({ source: source.name, ...problem });
    });
    for (const [source, version] of accepted) {
      versions.set(source, version);
      problems.delete(source);
    }
    if (accepted.length > 0) swap(mergeRegistries(partsWith()));
    for (const [source, version] of accepted) {
      emit({ outcome: 'loaded', source: source.name, operations: version.registry.operations.length, total: registry.operations.length });
    }
    return { loaded: accepted.map(([s]) => s.name), failures };
  };

  const startPolling = () => {
    if (polled.length === 0 || closed) return;
    pollTimer = timers.setTimeout(async () => {
      await Promise.all(polled.map(refresh));
      startPolling();
    }, pollMs);
  };

  const ensureFresh = (): Promise<void> | undefined => {
    if (closed || (checkedAt !== undefined && (polled.length === 0 || now() - checkedAt < pollMs))) return undefined;
    // A round stuck past its deadline (its request was cancelled) is left behind: start another.
    if (!round || now() - round.started >= timeoutMs) {
      const first = checkedAt === undefined;
      const started = now();
      const done = (first ? loadAll().then(() => undefined) : Promise.all(polled.map(refresh)).then(() => undefined)).finally(() => {
        checkedAt = now();
        if (round?.done === done) round = undefined;
      });
      round = { started, done };
    }
    // Each waiter keeps its own deadline, set in its own request.
    const { done } = round;
    return new Promise<void>((resolve) => {
      const timer = timers.setTimeout(resolve, timeoutMs);
      void done.then(() => {
        timers.clearTimeout(timer);
        resolve();
      });
    });
  };

  const close = () => {
    closed = true;
    if (pollTimer !== undefined) timers.clearTimeout(pollTimer);
  };

  return {
    get registry() {
      return registry;
    },
    get loaded() {
      return versions.size > 0;
    },
    status: () =>
      sources.map((s) => {
        const problem = problems.get(s);
        return { source: s.name, ok: !problem, operations: versions.get(s)?.registry.operations.length, ...problem };
      }),
    loadAll,
    refresh: async (name) => {
      const chosen = name === undefined ? polled : sources.filter((s) => s.name === name);
      if (name !== undefined && chosen.length === 0) throw new Error(`No operation source is named ${name}`);
      await Promise.all(chosen.map(refresh));
    },
    startPolling,
    ensureFresh,
    close,
    [Symbol.dispose]: close,
  };
}
