/**
 * The reconnection delay told to clients when the upstream cannot be reached.
 * Each failed round doubles it (up to a cap) and a successful connection
 * resets it, so a down upstream is not hammered by every browser at once;
 * jitter spreads the returning clients out.
 *
 * A round is one outage as the clients see it: every stream a dying upstream
 * drops fails within moments, and all of them get the same (jittered) delay;
 * only failures after that delay could have passed (when those clients come
 * back) start the next round. Counting each stream as a failure instead would
 * tell most clients of one short outage to wait the maximum.
 */
import { DEFAULTS } from '../defaults.ts';

export interface RetryPolicy {
  /**
   * The first reconnection delay sent to clients after an upstream failure, in milliseconds.
   * @default 2000
   */
  retryMs?: number;
  /**
   * The longest reconnection delay, in milliseconds.
   * @default 30000
   */
  maxRetryMs?: number;
  /** The clock that separates failure rounds, in milliseconds. @default Date.now */
  now?: () => number;
}

export interface UpstreamHealth {
  /** Records a failure and returns the delay, in milliseconds, to send with it. */
  failed(): number;
  succeeded(): void;
  /** Failed rounds since the last success. */
  readonly failures: number;
}

export function createUpstreamHealth(policy: RetryPolicy = {}, random: () => number = Math.random): UpstreamHealth {
  const base = policy.retryMs ?? DEFAULTS.retryMs;
  const max = policy.maxRetryMs ?? DEFAULTS.maxRetryMs;
  const now = policy.now ?? Date.now;
  let rounds = 0;
  let roundAt = 0;
  let roundDelay = 0;
  return {
    failed() {
      const t = now();
      // A new round once the quickest client of the last one (-20% jitter) could be back.
      if (rounds === 0 || t - roundAt >= roundDelay * 0.8) {
        roundDelay = Math.min(max, base * 2 ** Math.min(rounds, 16));
        rounds++;
        roundAt = t;
      }
      // ±20% jitter, still within the cap.
      return Math.min(max, Math.round(roundDelay * (0.8 + 0.4 * random())));
    },
    succeeded() {
      rounds = 0;
    },
    get failures() {
      return rounds;
    },
  };
}
