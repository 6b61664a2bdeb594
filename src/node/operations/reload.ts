/**
 * Reloads the registry when `npm run register` rewrites the generated files,
 * so a running gateway serves new operations without a restart. Node-only
 * (fs.watch). A reload that fails (files half-written, stale, invalid) keeps
 * the previous registry and is reported; the next change tries again.
 */
import { watch, type FSWatcher } from 'node:fs';
import { COMPANION_FILE, MANIFEST_FILE } from '../../core/operations/manifest.ts';
import { loadOperations } from './load.ts';
import { createRegistry, type Registry } from '../../core/operations/registry.ts';
import { DEFAULTS } from '../../core/defaults.ts';

export interface ReloadOptions {
  /** Called with each newly loaded registry. */
  onReload(registry: Registry): void;
  /** Called when a reload failed; the previous registry stays in use. */
  onError(err: unknown): void;
  /**
   * Milliseconds to wait after the last change before reloading (register writes several files).
   * @default 100
   */
  settleMs?: number;
}

export interface OperationsWatcher extends Disposable {
  close(): void;
}

export function watchOperations(dir: string, options: ReloadOptions): OperationsWatcher {
  const settleMs = options.settleMs ?? DEFAULTS.reloadSettleMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let loading: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const reload = async () => {
    do {
      again = false;
      try {
        const registry = createRegistry(await loadOperations(dir));
        if (!closed) options.onReload(registry);
      } catch (err) {
        if (!closed) options.onError(err);
      }
    } while (again && !closed);
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (loading) {
        again = true;
        return;
      }
      loading = reload().finally(() => (loading = undefined));
    }, settleMs);
  };
  const watcher: FSWatcher = watch(dir, (_, name) => {
    if (name === null || name === MANIFEST_FILE || name === COMPANION_FILE) schedule();
  });
  watcher.on('error', (err) => options.onError(err));
  const close = () => {
    closed = true;
    clearTimeout(timer);
    watcher.close();
  };
  return { close, [Symbol.dispose]: close };
}
