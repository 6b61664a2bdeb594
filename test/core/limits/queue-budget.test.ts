/** The process-wide budget of bytes held for clients that do not read. */
import { describe, expect, it } from 'vitest';
import { createQueueBudget } from '../../../src/core/limits/queue-budget.ts';

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('createQueueBudget', () => {
  it('counts what accounts reserve and release, and forgets a closed account', async () => {
    const budget = createQueueBudget(1000);
    const a = budget.open(() => {});
    const b = budget.open(() => {});
    a.reserve(300);
    b.reserve(200);
    a.release(100);
    expect(budget.held).toBe(400);
    b.close();
    b.reserve(500);
    expect(budget.held).toBe(200);
    a.close();
    expect(budget.held).toBe(0);
    await tick();
    expect(budget.evictions).toBe(0);
  });

  it('past the budget, evicts the accounts holding the most first, until the total fits, in a microtask', async () => {
    const budget = createQueueBudget(1000);
    const evicted: string[] = [];
    const open = (name: string, bytes: number) => {
      const account = budget.open((force) => {
        evicted.push(`${name}${force ? '!' : ''}`);
        account.release(bytes);
      });
      account.reserve(bytes);
      return account;
    };
    open('small', 100);
    open('large', 500);
    open('medium', 300);
    expect(evicted).toEqual([]);
    open('last', 200); // 1100 > 1000
    expect(evicted).toEqual([]); // never inside the caller's reserve
    await tick();
    expect(evicted).toEqual(['large']);
    expect(budget.held).toBe(600);
    expect(budget.evictions).toBe(1);
  });

  it('forces an evicted account that still holds bytes (its client takes nothing), in the same round', async () => {
    const budget = createQueueBudget(1000);
    const calls: boolean[] = [];
    const stuck = budget.open((force) => {
      calls.push(force);
      // Asked politely, it drops its queue but keeps what the consumer holds; forced, it drops everything.
      stuck.release(force ? 1100 : 100);
    });
    stuck.reserve(1200);
    await tick();
    expect(calls).toEqual([false, true]);
    expect(budget.held).toBe(0);
  });

  it('a throwing evict is reported and does not stop the others', async () => {
    const errors: unknown[] = [];
    const budget = createQueueBudget(100, (err) => errors.push(err));
    const bad = budget.open(() => {
      throw new Error('boom');
    });
    const good = budget.open(() => good.close());
    bad.reserve(80);
    good.reserve(70);
    await tick();
    expect(errors).toHaveLength(1);
    expect(budget.held).toBe(80);
  });
});
