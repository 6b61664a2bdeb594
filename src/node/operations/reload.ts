/**
 * Watches an operations folder: when `subway register` rewrites the
 * generated files, `onChange` runs once they have settled, so a running
 * gateway loads them again (src/core/operations/live.ts validates, merges and
 * swaps; a bad or half-written set keeps the last good list). Node-only (fs.watch).
 */
import { watch, type FSWatcher } from 'node:fs';
import { DEFAULTS } from '../../core/defaults.ts';
import { COMPANION_FILE, MANIFEST_FILE } from '../../core/operations/manifest.ts';

export interface ReloadOptions {
  /** Called once the generated files changed and settled. */
  onChange(): void;
  /** Called when watching fails. */
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
  const watcher: FSWatcher = watch(dir, (_, name) => {
    if (name !== null && name !== MANIFEST_FILE && name !== COMPANION_FILE) return;
    clearTimeout(timer);
    timer = setTimeout(options.onChange, settleMs);
  });
  watcher.on('error', (err) => options.onError(err));
  const close = () => {
    clearTimeout(timer);
    watcher.close();
  };
  return { close, [Symbol.dispose]: close };
}
