import { describe, expect, it } from 'vitest';
import { createUpstreamHealth } from '../../../src/core/upstream/health.ts';

describe('the reconnection delay', () => {
  it('gives every stream of one outage the same delay, doubles per round, caps, and resets on success', () => {
    let clock = 0;
    const health = createUpstreamHealth({ retryMs: 2000, maxRetryMs: 10_000, now: () => clock }, () => 0.5);
    // 100 streams dropped at once: one round.
    expect(Array.from({ length: 100 }, () => health.failed())).toEqual(Array(100).fill(2000));
    expect(health.failures).toBe(1);
    clock += 1599; // before the quickest client (2000 ms - 20% jitter) could be back: still the same round
    expect(health.failed()).toBe(2000);
    clock += 1;
    expect(health.failed()).toBe(4000);
    clock += 3200;
    expect(health.failed()).toBe(8000);
    clock += 6400;
    expect(health.failed()).toBe(10_000);
    clock += 8000;
    expect(health.failed()).toBe(10_000);
    expect(health.failures).toBe(5);
    health.succeeded();
    expect(health.failed()).toBe(2000);
  });

  it('jitters by ±20% within the cap', () => {
    const low = createUpstreamHealth({}, () => 0);
    const high = createUpstreamHealth({}, () => 1);
    expect([low.failed(), high.failed()]).toEqual([1600, 2400]);
  });
});
