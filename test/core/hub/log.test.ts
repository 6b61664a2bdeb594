/** The frame log resume will replay from: bounded by count and bytes, and honest about gaps. */
import { describe, expect, it } from 'vitest';
import { FrameLog } from '../../../src/core/hub/log.ts';
import { nextFrame } from '../../../src/core/sse/frame.ts';

const frames = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => nextFrame(`{"n":${from + i}}`, from + i));

describe('FrameLog', () => {
  it('keeps the newest frames within its bounds and replays what follows a known one', () => {
    const log = new FrameLog({ maxEvents: 3, maxBytes: 1 << 20 });
    const all = frames(1, 5);
    for (const f of all) log.append(f);
    expect(log.size).toBe(3);
    expect(log.after(2)).toEqual(all.slice(2));
    expect(log.after(4)).toEqual([all[4]]);
    expect(log.after(5)).toEqual([]);
    // Evicted, or never there: a gap, not a partial replay.
    expect(log.after(1)).toBeUndefined();
    expect(log.after(6)).toBeUndefined();
  });

  it('evicts by bytes, holds the same frame objects, and keeps nothing with no room', () => {
    const all = frames(10, 99); // frames of one size
    const log = new FrameLog({ maxEvents: 1000, maxBytes: all[0]!.size * 10 });
    for (const f of all) log.append(f);
    expect(log.size).toBe(10);
    expect(log.after(89)![0]).toBe(all[80]);
    expect(log.after(88)).toBeUndefined();
    const none = new FrameLog({ maxEvents: 0, maxBytes: 0 });
    for (const f of all) none.append(f);
    expect(none.size).toBe(0);
    expect(none.after(98)).toBeUndefined();
  });
});
