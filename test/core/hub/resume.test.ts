/**
 * Resume at the hub, without sockets (docs/resume.md): ids that name a hub
 * and a frame, places kept by departures for the window (and only by them),
 * the slot a lingering hub holds, what a resume is owed or why it is a gap,
 * an upstream end kept for the places, and nothing at all when resume is off.
 */
import { describe, expect, it } from 'vitest';
import { Hubs } from '../../../src/core/hub/hubs.ts';
import type { UpstreamEnd } from '../../../src/core/upstream/socket.ts';
import { manualTime, operation, TestSubscriber } from '../../fixtures/hub.ts';
import { EPOCH_LENGTH, eventId, newEpoch, parseEventId, requestedEventId } from '../../../src/core/hub/resume.ts';
import type { Frame } from '../../../src/core/sse/frame.ts';
import type { Operation } from '../../../src/core/upstream/operation.ts';

const RESUME = { windowMs: 10_000, maxEvents: 5, maxBytes: 1 << 20 };

function setup(resume: typeof RESUME | 'off' = RESUME) {
  const time = manualTime();
  const slots: (string | undefined)[] = [];
  const hubs = new Hubs({
    timers: time.timers,
    now: time.now,
    resume: resume === 'off' ? undefined : resume,
    holdSlot: (client) => {
      slots.push(client);
      return () => void slots.splice(slots.indexOf(client), 1);
    },
  });
  const op = operation();
  const hub = hubs.acquire(undefined, 'Ticks', () => op as unknown as Operation, 'binding-a');
  return { ...time, hubs, hub, op, slots };
}

describe('resume ids', () => {
  it('are a 128-bit random epoch and the frame number, read back exactly, anything else being nobody’s', () => {
    const epochs = new Set(Array.from({ length: 1000 }, () => newEpoch()));
    expect(epochs.size).toBe(1000);
    for (const e of epochs) expect(e).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const epoch = newEpoch(() => new Uint8Array(16).fill(255));
    expect(epoch).toBe('_____________________w');
    expect(EPOCH_LENGTH).toBe(22);
    expect(eventId(epoch, 0)).toBe(`${epoch}0`);
    expect(parseEventId(eventId(epoch, 123_456_789))).toEqual({ epoch, seq: 123_456_789 });
    expect(parseEventId(eventId(epoch, Number.MAX_SAFE_INTEGER))).toEqual({ epoch, seq: Number.MAX_SAFE_INTEGER });
    // Not ours: too short, too long, a leading zero, a foreign character, a sign.
    for (const bad of ['', '1', epoch, `${epoch}01`, `${epoch}1.5`, `${epoch}-1`, `${epoch}Z`, `${epoch}${'z'.repeat(11)}`, `${epoch.slice(1)}!1`, 'x'.repeat(10_000)]) {
      expect(parseEventId(bad), bad).toBeUndefined();
    }
  });

  it('are read from Last-Event-ID over the lastEventId parameter (EventSource keeps the URL; the header is newer)', () => {
    const url = 'http://gw.test/graphql?id=Ticks&lastEventId=fromUrl';
    expect(requestedEventId(new Request(url))).toBe('fromUrl');
    expect(requestedEventId(new Request(url, { headers: { 'last-event-id': 'fromHeader' } }))).toBe('fromHeader');
    expect(requestedEventId(new Request('http://gw.test/graphql?id=Ticks'))).toBeUndefined();
    expect(requestedEventId(new Request('http://gw.test/graphql?lastEventId=', { headers: { 'last-event-id': '' } }))).toBeUndefined();
  });
});

describe('a resumable hub', () => {
  it('writes an id per frame and replays what followed any id its log still holds, exactly', () => {
    const { hubs, hub } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    for (let n = 1; n <= 7; n++) hub.next(`{"n":${n}}`);
    expect(a.frames.map((f) => f.text)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `id: ${hub.epoch}${n}\nevent: next\ndata: {"n":${n}}\n\n`));
    const resume = (seq: number, binding = 'binding-a') => hubs.resumeFrom(hub.idOf(seq), binding, undefined);
    expect(resume(7)).toMatchObject({ hub, frames: [], ended: undefined });
    expect((resume(4) as { frames: Frame[] }).frames).toEqual(a.frames.slice(4));
    expect((resume(2) as { frames: Frame[] }).frames).toEqual(a.frames.slice(2));
    // Evicted (the log keeps 5), never sent, another binding, another epoch, not an id.
    expect(resume(1)).toEqual({ gap: 'evicted' });
    expect(resume(8)).toEqual({ gap: 'evicted' });
    expect(resume(7, 'binding-b')).toEqual({ gap: 'mismatch' });
    expect(hubs.resumeFrom(eventId(newEpoch(), 7), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
    expect(hubs.resumeFrom('garbage', 'binding-a', undefined)).toEqual({ gap: 'unknown' });
  });

  it('lets a request of the same sharing key resume a shared hub whoever bound it (it would join it anyway)', () => {
    const { timers, now } = manualTime();
    const hubs = new Hubs({ timers, now, resume: RESUME });
    const hub = hubs.acquire('shared-key', 'Ticks', () => operation() as unknown as Operation, 'first-subject');
    hub.join(new TestSubscriber());
    hub.next('{"n":1}');
    expect(hubs.resumeFrom(hub.idOf(0), 'second-subject', 'shared-key')).toMatchObject({ hub });
    expect(hubs.resumeFrom(hub.idOf(0), 'second-subject', 'other-key')).toEqual({ gap: 'mismatch' });
    expect(hubs.resumeFrom(hub.idOf(0), 'second-subject', undefined)).toEqual({ gap: 'mismatch' });
  });

  it('keeps a departed subscriber’s place for the window, running upstream and holding a slot, then ends and forgets', () => {
    const { hubs, hub, op, slots, advance, pending } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.next('{"n":1}');
    hub.leave(a, { client: '10.0.0.1' });
    expect(hub.lingering).toBe(true);
    expect(slots).toEqual(['10.0.0.1']);
    expect(op.disposed).toBe(0);
    hub.next('{"n":2}');
    expect(hubs.resumeStats()).toEqual({ lingering: 1, keptEnded: 0, bufferedEvents: 2, bufferedBytes: hub.log!.byteSize });
    advance(9_999);
    expect(op.disposed).toBe(0);
    advance(1);
    expect(op.disposed).toBe(1);
    expect(slots).toEqual([]);
    expect(hubs.active).toBe(0);
    expect(hubs.resumeFrom(hub.idOf(1), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
    expect(hubs.resumeStats()).toEqual({ lingering: 0, keptEnded: 0, bufferedEvents: 0, bufferedBytes: 0 });
    expect(pending.size).toBe(0);
  });

  it('ends at once when the last subscriber leaves without a place (it ended by itself: complete, slow, shutdown)', () => {
    const { hub, op, slots, pending } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.leave(a);
    expect(op.disposed).toBe(1);
    expect(slots).toEqual([]);
    expect(pending.size).toBe(0);
  });

  it('gives a returning client its place back: the linger and its slot end, the log goes on', () => {
    const { hubs, hub, op, slots, pending, advance } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.leave(a, { client: 'c' });
    advance(5_000);
    hub.next('{"n":1}');
    const resumed = hubs.resumeFrom(hub.idOf(0), 'binding-a', undefined);
    expect(resumed).toMatchObject({ hub, frames: [expect.objectContaining({ seq: 1 })] });
    const b = new TestSubscriber();
    hub.join(b);
    expect([slots, pending.size, hub.lingering]).toEqual([[], 0, false]);
    // Its own window starts when it leaves.
    hub.leave(b, { client: 'c' });
    advance(9_999);
    expect(op.disposed).toBe(0);
    advance(1);
    expect(op.disposed).toBe(1);
  });

  it('hands its slot to the stream that resumes it when the limits are full', () => {
    const { hub, slots } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.leave(a, { client: 'c' });
    const slot = hub.takeSlot()!;
    hub.join(new TestSubscriber());
    expect(slots).toEqual(['c']);
    slot();
    expect(slots).toEqual([]);
  });

  it('in a shared hub, lingers after the last subscriber for the latest place, whoever left last', () => {
    const { timers, now, advance } = manualTime();
    const hubs = new Hubs({ timers, now, resume: RESUME });
    const op = operation();
    const hub = hubs.acquire('k', 'Ticks', () => op as unknown as Operation, 'b');
    const [a, b] = [new TestSubscriber(), new TestSubscriber()];
    hub.join(a);
    hub.join(b);
    hub.leave(a, { client: 'a' });
    advance(4_000);
    // b ends by itself (say, too slow): a's place keeps the subscription until its window has passed.
    hub.leave(b);
    expect(hub.lingering).toBe(true);
    advance(5_999);
    expect(op.disposed).toBe(0);
    advance(1);
    expect(op.disposed).toBe(1);
  });

  it('keeps an upstream end for the places: a returning client gets the rest and the end, until the window passes', () => {
    const { hubs, hub, advance } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.next('{"n":1}');
    hub.leave(a, { client: 'c' });
    hub.next('{"n":2}');
    hub.end({ kind: 'errors', errors: [{ message: 'no more' }] });
    expect(hubs.active).toBe(0);
    expect(hubs.resumeStats()).toMatchObject({ lingering: 0, keptEnded: 1, bufferedEvents: 3 });
    const resumed = hubs.resumeFrom(hub.idOf(1), 'binding-a', undefined) as { frames: Frame[]; ended: UpstreamEnd };
    expect(resumed.frames.map((f) => f.text)).toEqual([
      `id: ${hub.epoch}2\nevent: next\ndata: {"n":2}\n\n`,
      `id: ${hub.epoch}3\nevent: next\ndata: {"errors":[{"message":"no more"}]}\n\n`,
    ]);
    expect(resumed.ended).toEqual({ kind: 'errors', errors: [{ message: 'no more' }] });
    advance(10_000);
    expect(hubs.resumeFrom(hub.idOf(1), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
    expect(hubs.resumeStats()).toEqual({ lingering: 0, keptEnded: 0, bufferedEvents: 0, bufferedBytes: 0 });
  });

  it('keeps an end for the subscribers attached then too (a dead connection may not be noticed yet), for the window', () => {
    const { hubs, hub, advance } = setup();
    hub.join(new TestSubscriber());
    hub.next('{"n":1}');
    hub.end({ kind: 'complete' });
    expect(hubs.resumeFrom(hub.idOf(0), 'binding-a', undefined)).toMatchObject({ ended: { kind: 'complete' } });
    advance(10_000);
    expect(hubs.resumeFrom(hub.idOf(0), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
  });

  it('forgets at once an end nobody is attached or away for, and a failed connection (events were lost upstream: a gap)', () => {
    const alone = setup();
    const gone = new TestSubscriber();
    alone.hub.join(gone);
    alone.hub.leave(gone);
    expect(alone.op.disposed).toBe(1);
    expect(alone.hubs.resumeFrom(alone.hub.idOf(0), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
    const failed = setup();
    const a = new TestSubscriber();
    failed.hub.join(a);
    failed.hub.leave(a, { client: 'c' });
    failed.hub.end({ kind: 'transient', message: 'dropped' });
    expect(failed.hubs.resumeFrom(failed.hub.idOf(0), 'binding-a', undefined)).toEqual({ gap: 'unknown' });
    expect([failed.slots, failed.pending.size]).toEqual([[], 0]);
  });

  it('closes everything kept when the gateway stops', () => {
    const { hubs, hub, op, slots, pending } = setup();
    const a = new TestSubscriber();
    hub.join(a);
    hub.leave(a, { client: 'c' });
    hubs.dispose();
    expect([op.disposed, slots, pending.size, hubs.active]).toEqual([1, [], 0, 0]);
  });
});

describe('resume off', () => {
  it('writes no id, keeps no log, keeps no place', () => {
    const { hubs, hub, op, slots, pending } = setup('off');
    const a = new TestSubscriber();
    hub.join(a);
    hub.next('{"n":1}');
    expect(a.frames[0]!.text).toBe('event: next\ndata: {"n":1}\n\n');
    expect([hub.epoch, hub.log]).toEqual([undefined, undefined]);
    hub.leave(a, { client: 'c' });
    expect([op.disposed, slots, pending.size]).toEqual([1, [], 0]);
    expect(hubs.resumeStats()).toEqual({ lingering: 0, keptEnded: 0, bufferedEvents: 0, bufferedBytes: 0 });
  });
});
