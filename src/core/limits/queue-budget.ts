/**
 * One budget of bytes held for clients that do not read, shared by every
 * stream of a gateway (a process on Node, an isolate on Workers). Each
 * stream's own bounds (`maxQueuedEvents`, `maxQueuedBytes`) stop one client;
 * this stops many: thousands of streams that each stay under their own bound
 * (one HTTP/2 connection with a zero flow-control window can open them) would
 * otherwise add up past the heap.
 *
 * A stream opens an account and reserves what it queues or has handed to a
 * consumer that has not asked for more, and releases it as the consumer takes
 * it. Past the budget, the accounts holding the most are evicted first until
 * the total is back within it: first politely (the stream drops what it
 * queued and ends with `SLOW_CONSUMER`), then, for one that still holds bytes
 * its client will not take, by force (the response is dropped).
 *
 * Reserving and releasing are an addition and a comparison: they run for
 * every event. Eviction is rare and runs in a microtask, never inside the
 * caller's `reserve`.
 */

export interface QueueBudget {
  /** The budget, in bytes. */
  readonly limit: number;
  /** Bytes reserved now, by every account. */
  readonly held: number;
  /** Accounts evicted so far (for metrics and tests). */
  readonly evictions: number;
  /**
   * Opens an account. `evict(force)` is called when the budget ends its
   * holder: `false` asks it to drop what it queued and end, `true` to drop
   * everything it still holds, its response included.
   */
  open(evict: (force: boolean) => void): BudgetAccount;
}

export interface BudgetAccount {
  /** Adds bytes to what this account holds. */
  reserve(bytes: number): void;
  /** Subtracts bytes from what this account holds. */
  release(bytes: number): void;
  /** Releases whatever the account still holds and closes it. Idempotent. */
  close(): void;
}

interface Account extends BudgetAccount {
  held: number;
  open: boolean;
  /** 0: not evicted; 1: asked to end; 2: forced. */
  stage: 0 | 1 | 2;
  readonly evict: (force: boolean) => void;
}

/** The budget of bytes held for clients that do not read; `limit` in bytes. */
export function createQueueBudget(limit: number, onError: (err: unknown) => void = () => {}): QueueBudget {
  const accounts = new Set<Account>();
  let held = 0;
  let evictions = 0;
  let scheduled = false;

  const evict = (account: Account, force: boolean) => {
    account.stage = force ? 2 : 1;
    if (!force) evictions++;
    try {
      account.evict(force);
    } catch (err) {
      onError(err);
    }
  };

  const enforce = () => {
    scheduled = false;
    if (held <= limit) return;
    // Largest first. One asked to end that still holds bytes (its client does
    // not take what it was handed) is forced before any smaller one is touched.
    const holders = [...accounts].filter((a) => a.held > 0 && a.stage < 2).sort((a, b) => b.held - a.held);
    for (const account of holders) {
      if (held <= limit) return;
      if (account.stage === 0) evict(account, false);
      if (held > limit && account.held > 0 && account.stage === 1) evict(account, true);
    }
  };

  return {
    limit,
    get held() {
      return held;
    },
    get evictions() {
      return evictions;
    },
    open(evict) {
      const account: Account = {
        held: 0,
        open: true,
        stage: 0,
        evict,
        reserve(bytes) {
          if (!account.open) return;
          account.held += bytes;
          held += bytes;
          if (held > limit && !scheduled) {
            scheduled = true;
            queueMicrotask(enforce);
          }
        },
        release(bytes) {
          if (!account.open) return;
          account.held -= bytes;
          held -= bytes;
        },
        close() {
          if (!account.open) return;
          account.open = false;
          accounts.delete(account);
          held -= account.held;
          account.held = 0;
        },
      };
      accounts.add(account);
      return account;
    },
  };
}
