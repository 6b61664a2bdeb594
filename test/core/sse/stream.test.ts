/**
 * An event stream's two views, event by event: the writer view (what the Node
 * adapter writes to its sockets) and the Web stream view (Workers,
 * `gateway.fetch`). Frames go out as text or as shared bytes; a writer's
 * `write` returning false holds them in the stream's own queue, under the
 * same bounds as the Web view, until `drained()`. The HTTP tests
 * (backpressure.test.ts, over HTTP/1.1 and HTTP/2) run this against real sockets.
 */
import { describe, expect, it } from 'vitest';
import { nextFrame } from '../../../src/core/sse/frame.ts';
import { EventStream, SLOW_CONSUMER_RESULT, type EndReason, type FrameWriter } from '../../../src/core/sse/stream.ts';

const next = (json: string) => `event: next\ndata: ${json}\n\n`;
const COMPLETE = 'event: complete\ndata:\n\n';

/** A writer that takes frames while `open`, as a socket under its high-water mark would. */
interface TestWriter extends FrameWriter {
  open: boolean;
  text: string;
  chunks: (string | Uint8Array)[];
  ended: boolean;
}

function writer(): TestWriter {
  const w: TestWriter = {
    open: true,
    text: '',
    chunks: [],
    ended: false,
    write(chunk: string | Uint8Array) {
      w.chunks.push(chunk);
      w.text += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
      return w.open;
    },
    end() {
      w.ended = true;
    },
  };
  return w;
}

class TestStream extends EventStream {
  tornDown = 0;
  ends: { reason: EndReason; events: number; bytes: number }[] = [];
  releases = 0;
  protected override teardown() {
    this.tornDown++;
  }
  protected override ended(reason: EndReason) {
    this.ends.push({ reason, events: this.events, bytes: this.bytes });
  }
  protected override released() {
    this.releases++;
  }
}

const stream = (bounds: Partial<{ maxQueuedEvents: number; maxQueuedBytes: number }> = {}) =>
  new TestStream({ maxQueuedEvents: 4096, maxQueuedBytes: 1 << 20, ...bounds });
const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('the writer view of an event stream', () => {
  it('writes each frame as text, holds frames while the writer is full, and bounds them as the Web view does', async () => {
    const s = stream({ maxQueuedEvents: 3 });
    const w = writer();
    expect(s.attach(w)).toBe(true);
    expect(w.text).toBe(':\n\n');
    await microtasks();
    expect(s.push(nextFrame('{"n":1}'))).toBe(true);
    await microtasks();
    expect(w.chunks.at(-1)).toBe(next('{"n":1}'));

    // The socket is full: frames are held, up to 3 events.
    w.open = false;
    s.push(nextFrame('{"n":2}'));
    await microtasks();
    for (let n = 3; n <= 5; n++) expect(s.push(nextFrame(`{"n":${n}}`))).toBe(true);
    expect(w.text).toBe(`:\n\n${next('{"n":1}')}${next('{"n":2}')}`);
    // One more than the bound: the last `next` is SLOW_CONSUMER, then complete.
    expect(s.push(nextFrame('{"n":6}'))).toBe(false);
    expect(s.ends).toEqual([{ reason: 'slow-consumer', events: 6, bytes: 3 + 5 * next('{"n":1}').length + next(SLOW_CONSUMER_RESULT).length + COMPLETE.length }]);
    expect(s.tornDown).toBe(1);
    // Still held for the client: not released, the response not ended.
    expect(s.releases).toBe(0);
    expect(w.ended).toBe(false);

    // Drained: everything held goes out in one write, then the end.
    const writes = w.chunks.length;
    w.open = true;
    s.drained();
    expect(w.chunks.length).toBe(writes + 1);
    expect(w.text).toBe(`:\n\n${[1, 2, 3, 4, 5].map((n) => next(`{"n":${n}}`)).join('')}${next(SLOW_CONSUMER_RESULT)}${COMPLETE}`);
    expect(w.ended).toBe(true);
    expect(s.releases).toBe(1);
    s.cancel();
    expect(s.releases).toBe(1);
    expect(s.ends).toHaveLength(1);
  });

  it('writes a frame several streams hold as its shared bytes, the same object for each', async () => {
    const frame = nextFrame('{"shared":true}');
    frame.shared = true;
    const [a, b] = [stream(), stream()];
    const [wa, wb] = [writer(), writer()];
    a.attach(wa);
    b.attach(wb);
    await microtasks();
    a.push(frame);
    b.push(frame);
    expect(wa.chunks[1]).toBeInstanceOf(Uint8Array);
    expect(wa.chunks[1]).toBe(wb.chunks[1]);
    expect(wa.text).toBe(`:\n\n${next('{"shared":true}')}`);
  });

  it('counts bytes as UTF-8', () => {
    const s = stream();
    s.push(nextFrame('{"s":"é€😀"}'));
    expect(s.bytes).toBe(3 + new TextEncoder().encode(next('{"s":"é€😀"}')).byteLength);
  });

  it('sends frames made before the writer came, and ends a stream that ended before it', () => {
    const s = stream();
    s.push(nextFrame('{"early":true}'));
    s.complete();
    expect(s.ends.map((e) => e.reason)).toEqual(['complete']);
    const w = writer();
    s.attach(w);
    expect(w.text).toBe(`:\n\n${next('{"early":true}')}${COMPLETE}`);
    expect(w.ended).toBe(true);
    expect(s.releases).toBe(1);
  });

  it('releases a stalled stream when the client goes away, and is not read two ways', async () => {
    const s = stream();
    const w = writer();
    expect(s.attach(w)).toBe(true);
    expect(s.attach(writer())).toBe(false);
    expect(s.readable()).toBeUndefined();
    w.open = false;
    await microtasks();
    s.push(nextFrame('{"n":1}'));
    s.push(nextFrame('{"n":2}'));
    s.cancel();
    expect(s.ends.map((e) => e.reason)).toEqual(['client-gone']);
    expect(s.tornDown).toBe(1);
    expect(s.releases).toBe(1);
    expect(s.push(nextFrame('{"n":3}'))).toBe(false);
  });

  it('sends a heartbeat only to a stream that wrote nothing since the last sweep', async () => {
    const s = stream();
    const w = writer();
    s.attach(w);
    await microtasks();
    s.heartbeat();
    expect(w.text).toBe(':\n\n:\n\n');
    await microtasks();
    s.push(nextFrame('{"n":1}'));
    s.heartbeat();
    await microtasks();
    s.heartbeat();
    expect(w.text).toBe(`:\n\n:\n\n${next('{"n":1}')}:\n\n`);
  });
});

describe('the Web stream view of an event stream', () => {
  it('reads the first comment, then what was queued as one chunk, then the end', async () => {
    const s = stream();
    const body = s.readable()!;
    expect(s.attach(writer())).toBe(false);
    const reader = body.getReader();
    const decode = (v: Uint8Array | undefined) => new TextDecoder().decode(v);
    expect(decode((await reader.read()).value)).toBe(':\n\n');
    s.push(nextFrame('{"n":1}'));
    expect(decode((await reader.read()).value)).toBe(next('{"n":1}'));
    s.push(nextFrame('{"n":2}'));
    s.push(nextFrame('{"n":3}'));
    s.complete();
    expect(decode((await reader.read()).value)).toBe(`${next('{"n":2}')}${next('{"n":3}')}${COMPLETE}`);
    expect((await reader.read()).done).toBe(true);
    expect(s.releases).toBe(1);
  });

  it('ends the producer when the reader cancels, or when a signal aborts', async () => {
    const s = stream();
    await s.readable()!.cancel();
    expect(s.ends.map((e) => e.reason)).toEqual(['client-gone']);
    expect(s.releases).toBe(1);

    const controller = new AbortController();
    const t = stream();
    t.readable([controller.signal]);
    controller.abort();
    expect(t.ends.map((e) => e.reason)).toEqual(['client-gone']);
    expect(t.tornDown).toBe(1);
    expect(t.releases).toBe(1);
  });
});
