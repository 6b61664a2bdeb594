/**
 * The platform's timers, counted: how many are set and have neither fired
 * nor been cleared. A Durable Object with no timer pending and no socket open
 * holds nothing, and can be evicted; the count is how tests see that.
 */
import type { Timers } from '../core/timers.ts';

export interface CountingTimers extends Timers {
  /** Timers pending now (intervals until cleared). */
  readonly pending: number;
}

export function countingTimers(): CountingTimers {
  const live = new Set<unknown>();
  return {
    get pending() {
      return live.size;
    },
    setTimeout(fn, ms) {
      const handle: unknown = globalThis.setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
    setInterval(fn, ms) {
      const handle = globalThis.setInterval(fn, ms);
      live.add(handle);
      return handle;
    },
    clearInterval(handle) {
      live.delete(handle);
      globalThis.clearInterval(handle as ReturnType<typeof setInterval>);
    },
  };
}
