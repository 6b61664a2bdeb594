/**
 * The reconnection delay told to clients when the upstream cannot be reached.
 * Each failure in a row doubles it (up to a cap) and a successful connection
 * resets it, so a down upstream is not hammered by every browser at once;
 * jitter spreads the returning clients out.
 */
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
}

export interface UpstreamHealth {
  /** Records a failure and returns the delay, in milliseconds, to send with it. */
  failed(): number;
  succeeded(): void;
  /** Failures since the last success. */
  readonly failures: number;
}

export function createUpstreamHealth(policy: RetryPolicy = {}, random: () => number = Math.random): UpstreamHealth {
  const base = policy.retryMs ?? 2000;
  const max = policy.maxRetryMs ?? 30_000;
  let failures = 0;
  return {
    failed() {
      const delay = Math.min(max, base * 2 ** Math.min(failures, 16));
      failures++;
      // ±20% jitter, still within the cap.
      return Math.min(max, Math.round(delay * (0.8 + 0.4 * random())));
    },
    succeeded() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
