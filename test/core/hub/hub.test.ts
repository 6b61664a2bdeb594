/**
 * A hub without sockets: frames encoded once and shared, subscribers that
 * leave during a fan-out, the last one out ending the upstream subscription
 * (at once; resume.test.ts has the places resume keeps), the upstream's end for all.
 */
import { describe, expect, it } from 'vitest';
import { Hubs } from '../../../src/core/hub/hubs.ts';
import type { UpstreamEnd } from '../../../src/core/upstream/socket.ts';
import { manualTime, operation, TestSubscriber } from '../../fixtures/hub.ts';
import type { Operation } from '../../../src/core/upstream/operation.ts';

describe('a hub', () => {
  it('encodes each result once and hands the same frame to every subscriber, counted once encoded and once per subscriber', () => {
    const { timers } = manualTime();
    const seen: [string, number, number][] = [];
    const hubs = new Hubs({ timers, onFrame: (op, bytes, written) => seen.push([op, bytes, written]) });
    const op = operation();
    const hub = hubs.acquire('k', 'Ticks', () => op as unknown as Operation);
    const subs = [new TestSubscriber(), new TestSubscriber(), new TestSubscriber()];
    for (const s of subs) hubs.acquire('k', 'Ticks', () => { throw new Error('not opened twice'); }).join(s);
    hub.next('{"data":1}');
    expect(subs.map((s) => s.frames[0])).toEqual([subs[0]!.frames[0], subs[0]!.frames[0], subs[0]!.frames[0]]);
    expect(subs[0]!.frames[0]!.text).toBe('event: next\ndata: {"data":1}\n\n');
    expect(subs[0]!.frames[0]!.shared).toBe(true);
    expect(seen).toEqual([['Ticks', 30, 3]]);
    expect([hubs.framesEncoded, hubs.framesWritten, hubs.active]).toEqual([1, 3, 1]);
  });

  it('serves everyone when subscribers leave in the middle of a fan-out', () => {
    const { timers } = manualTime();
    const hubs = new Hubs({ timers });
    const op = operation();
    const hub = hubs.acquire('k', 'Ticks', () => op as unknown as Operation);
    // Every other subscriber is too slow: it leaves while taking the frame.
    const subs = Array.from({ length: 10 }, (_, i) => new TestSubscriber(i % 2 ? (s) => (hub.leave(s), false) : undefined));
    for (const s of subs) hub.join(s);
    hub.next('{"n":1}');
    expect(subs.map((s) => s.frames.length)).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    expect(hub.size).toBe(5);
    hub.next('{"n":2}');
    expect(subs.map((s) => s.frames.length)).toEqual([2, 0, 2, 0, 2, 0, 2, 0, 2, 0]);
    expect(op.disposed).toBe(0);
  });

  it('ends the upstream subscription when the last subscriber leaves, and takes no one after', () => {
    const { timers } = manualTime();
    const hubs = new Hubs({ timers });
    const op = operation();
    const hub = hubs.acquire('k', 'Ticks', () => op as unknown as Operation);
    const [a, b] = [new TestSubscriber(), new TestSubscriber()];
    hub.join(a);
    hub.join(b);
    hub.leave(a);
    hub.leave(a);
    expect(op.disposed).toBe(0);
    hub.leave(b);
    expect(op.disposed).toBe(1);
    expect(hubs.active).toBe(0);
    const fresh = operation();
    expect(hubs.acquire('k', 'Ticks', () => fresh as unknown as Operation)).not.toBe(hub);
  });

  it('ends every subscriber when the upstream ends, with one shared last frame for errors', () => {
    const { timers } = manualTime();
    const ended: UpstreamEnd[] = [];
    const hubs = new Hubs({ timers, onEnd: (_, end) => ended.push(end) });
    const hub = hubs.acquire('k', 'Ticks', () => operation() as unknown as Operation);
    const subs = [new TestSubscriber(), new TestSubscriber()];
    for (const s of subs) hub.join(s);
    hub.end({ kind: 'fatal', message: 'gone', closeCode: 4403 });
    expect(subs[0]!.frames[0]).toBe(subs[1]!.frames[0]);
    expect(subs[0]!.frames[0]!.text).toBe('event: next\ndata: {"errors":[{"message":"gone","extensions":{"code":"UPSTREAM_ERROR","closeCode":4403}}]}\n\n');
    expect(subs.map((s) => s.hubIndex)).toEqual([-1, -1]);
    expect(ended).toEqual([{ kind: 'fatal', message: 'gone', closeCode: 4403 }]);
    expect(hub.open).toBe(false);
  });
});
