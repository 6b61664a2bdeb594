/**
 * Counts open subscriptions, in total and per client, and refuses one past
 * either limit with a 429 and `Retry-After`, before any upstream connection.
 */
import { SubwayError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';

export interface SubscriptionLimitOptions {
  /**
   * Most subscriptions (SSE streams, each with its upstream socket) open at once.
   * @default 10000
   */
  maxSubscriptions?: number;
  /**
   * Most subscriptions one client (see `clientKey`) may hold at once; `0` turns the per-client limit off.
   * @default 0
   */
  maxSubscriptionsPerClient?: number;
  /**
   * The `Retry-After` sent with a 429, in seconds.
   * @default 5
   */
  limitRetryAfterS?: number;
}

export interface SubscriptionLimits {
  /** Takes a slot for this client (or throws a 429); returns its release, which is idempotent. */
  acquire(client: string | undefined): () => void;
  /**
   * Counts a slot for this client without checking the limits (what a
   * stream held passes to what outlives it: a resumable upstream
   * subscription lingering for its departed client); returns its release.
   */
  hold(client: string | undefined): () => void;
  /** Subscriptions counted now. */
  readonly open: number;
  /** Clients holding at least one subscription now (only counted when the per-client limit is on). */
  readonly clients: number;
  /** Whether the total limit is reached. */
  readonly full: boolean;
}

export function createSubscriptionLimits(options: SubscriptionLimitOptions = {}): SubscriptionLimits {
  const max = options.maxSubscriptions ?? DEFAULTS.maxSubscriptions;
  const perClient = options.maxSubscriptionsPerClient ?? DEFAULTS.maxSubscriptionsPerClient;
  const headers = { 'retry-after': String(options.limitRetryAfterS ?? DEFAULTS.limitRetryAfterS) };
  const byClient = new Map<string, number>();
  let open = 0;
  const take = (client: string | undefined, check: boolean) => {
    if (check && open >= max) {
      throw new SubwayError('SUBSCRIPTION_LIMIT', 429, 'The gateway has as many subscriptions open as it allows; try again later.', { headers });
    }
    const key = perClient > 0 ? (client ?? '(unknown)') : undefined;
    if (key !== undefined) {
      const held = byClient.get(key) ?? 0;
      if (check && held >= perClient) {
        throw new SubwayError('CLIENT_SUBSCRIPTION_LIMIT', 429, `This client has ${held} subscriptions open, the most it may.`, { headers, extensions: { limit: perClient } });
      }
      byClient.set(key, held + 1);
    }
    open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open--;
      if (key === undefined) return;
      const held = byClient.get(key)! - 1;
      if (held === 0) byClient.delete(key);
      else byClient.set(key, held);
    };
  };
  return {
    acquire: (client) => take(client, true),
    hold: (client) => take(client, false),
    get open() {
      return open;
    },
    get clients() {
      return byClient.size;
    },
    get full() {
      return open >= max;
    },
  };
}
