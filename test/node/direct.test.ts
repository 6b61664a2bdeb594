/**
 * The direct path of an event stream (what the Node adapter uses in place of
 * the Web stream): frames go to a writer as text, and the writer's `write`
 * returning false holds them in the stream's own queue, under the same bounds,
 * until `drained()`. The HTTP tests (backpressure.test.ts, over HTTP/1.1 and
 * HTTP/2) run this path against real sockets; these pin its accounting down
 * event by event.
 */
import { describe, expect, it } from 'vitest';
import { createEventStream, directWriterOf, SLOW_CONSUMER_RESULT, type EndReason, type EventSink, type FrameWriter, type StreamTotals } from '../../src/core/sse/stream.ts';

const noTimers = { setInterval: () => undefined, clearInterval: () => {} };
const next = (json: string) => `event: next\ndata: ${json}\n\n`;
const COMPLETE = 'event: complete\ndata:\n\n';

/** A writer that takes frames while `open`, as a socket under its high-water mark would. */
interface TestWriter extends FrameWriter {
  open: boolean;
  text: string;
  writes: number;
  ended: boolean;
}

function writer(): TestWriter {
  const w: TestWriter = {
    open: true,
    text: '',
    writes: 0,
    ended: false,
    write(chunk: string | Uint8Array) {
      w.writes++;
      w.text += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
      return w.open;
    },
    byteLength: (text: string) => new TextEncoder().encode(text).byteLength,
    end() {
      w.ended = true;
    },
  };
  return w;
}

function stream(options: { maxQueuedEvents?: number; maxQueuedBytes?: number } = {}) {
  let sink!: EventSink;
  let tornDown = 0;
  const ends: { reason: EndReason; totals: StreamTotals }[] = [];
  let released = 0;
  const body = createEventStream(
    {
      heartbeatMs: 0,
      timers: noTimers,
      signals: [],
      ...options,
      onEnd: (reason, totals) => ends.push({ reason, totals: { ...totals } }),
      onReleased: () => released++,
    },
    (s) => {
      sink = s;
      return () => tornDown++;
    },
  );
  return { body, sink: () => sink, ends, released: () => released, tornDown: () => tornDown };
}

const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('the direct path of an event stream', () => {
  it('writes each frame as text, holds frames while the writer is full, and bounds them as the Web stream does', async () => {
    const s = stream({ maxQueuedEvents: 3, maxQueuedBytes: 1 << 20 });
    const w = writer();
    const direct = directWriterOf(s.body)!(w)!;
    expect(w.text).toBe(':\n\n');
    await microtasks();
    expect(s.sink().next('{"n":1}')).toBe(next('{"n":1}').length);
    await microtasks();
    expect(w.text).toBe(`:\n\n${next('{"n":1}')}`);

    // The socket is full: frames are held, up to 3 events.
    w.open = false;
    s.sink().next('{"n":2}');
    await microtasks();
    for (let n = 3; n <= 5; n++) expect(s.sink().next(`{"n":${n}}`)).toBeGreaterThan(0);
    expect(w.text).toBe(`:\n\n${next('{"n":1}')}${next('{"n":2}')}`);
    // One more than the bound: the last `next` is SLOW_CONSUMER, then complete.
    expect(s.sink().next('{"n":6}')).toBe(0);
    expect(s.ends).toEqual([{ reason: 'slow-consumer', totals: { events: 6, bytes: 3 + 5 * next('{"n":1}').length + next(SLOW_CONSUMER_RESULT).length + COMPLETE.length } }]);
    expect(s.tornDown()).toBe(1);
    // Still held for the client: the slot is not released, the response not ended.
    expect(s.released()).toBe(0);
    expect(w.ended).toBe(false);

    // Drained: everything held goes out in one write, then the end.
    const writes = w.writes;
    w.open = true;
    direct.drained();
    expect(w.writes).toBe(writes + 1);
    expect(w.text).toBe(`:\n\n${[1, 2, 3, 4, 5].map((n) => next(`{"n":${n}}`)).join('')}${next(SLOW_CONSUMER_RESULT)}${COMPLETE}`);
    expect(w.ended).toBe(true);
    expect(s.released()).toBe(1);
    direct.cancel();
    expect(s.released()).toBe(1);
    expect(s.ends).toHaveLength(1);
  });

  it('sends frames made before the writer came, and ends a stream that ended before it', () => {
    const s = stream();
    s.sink().next('{"early":true}');
    s.sink().complete();
    expect(s.ends.map((e) => e.reason)).toEqual(['complete']);
    const w = writer();
    directWriterOf(s.body)!(w);
    expect(w.text).toBe(`:\n\n${next('{"early":true}')}${COMPLETE}`);
    expect(w.ended).toBe(true);
    expect(s.released()).toBe(1);
  });

  it('releases a stalled stream when the client goes away, and is not attached twice or after a read', async () => {
    const s = stream();
    const w = writer();
    const attach = directWriterOf(s.body)!;
    const direct = attach(w)!;
    expect(attach(writer())).toBeUndefined();
    w.open = false;
    await microtasks();
    s.sink().next('{"n":1}');
    s.sink().next('{"n":2}');
    direct.cancel();
    expect(s.ends.map((e) => e.reason)).toEqual(['client-gone']);
    expect(s.tornDown()).toBe(1);
    expect(s.released()).toBe(1);
    expect(s.sink().next('{"n":3}')).toBe(0);

    const read = stream();
    const reader = read.body.getReader();
    expect(directWriterOf(read.body)!(writer())).toBeUndefined();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(':\n\n');
    await reader.cancel();
  });
});
