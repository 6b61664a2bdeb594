/**
 * A server-sent event stream as a Web `ReadableStream`: it flushes a first
 * comment at once, sends a heartbeat comment on an interval, bounds what it
 * holds for a client that does not read, and tears its producer down exactly
 * once, whichever comes first: the producer finishing, the queue overflowing,
 * the consumer cancelling the stream, or the request's signal aborting.
 *
 * The stream is pull-based (high-water mark 0) with a queue of its own: the
 * platform's queue cannot count events and bytes at once, and a pull tells
 * exactly when the consumer (the runtime writing to the socket, which waits
 * for `drain`) wants more. Everything queued between two pulls goes out as
 * one chunk.
 *
 * A runtime adapter that can write text to its socket may skip the Web
 * stream: `directWriterOf(body)` lets it take each frame as one string (one
 * socket write per event, encoded once by the socket; see
 * src/node/serve.ts). The queue and its bounds stay the same: the writer's
 * `write` returning false (the socket's buffer is over its mark) stands for
 * "no pull yet", and its `drain` for the next pull.
 */
import { COMMENT, COMMENT_TEXT, COMPLETE_TEXT, encodeFrame, nextFrameText, retryFrameText } from './encode.ts';
import { DEFAULTS } from '../defaults.ts';
import type { BudgetAccount, QueueBudget } from '../limits/queue-budget.ts';

/** Timer functions, injected so tests and runtimes can supply their own clock. */
export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const defaultTimers: Timers = {
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof setInterval>),
};

/** Why a stream ended; reported once to `onEnd`. */
export type EndReason = 'complete' | 'retry' | 'client-gone' | 'shutdown' | 'slow-consumer';

/** The error a client that stopped reading gets as its last `next`, before `complete`. */
export const SLOW_CONSUMER_RESULT = JSON.stringify({
  errors: [{ message: 'The client did not read its events fast enough; the subscription was ended.', extensions: { code: 'SLOW_CONSUMER' } }],
});

export interface EventSink {
  /**
   * Sends one `event: next` carrying this JSON text. Returns the bytes queued,
   * or 0 when the stream has ended (or just ended because the queue was full).
   */
  next(json: string): number;
  /** Sends `event: complete` and ends the stream. */
  complete(): void;
  /** Sends a reconnection hint and ends the stream without `complete`, so EventSource retries after `retryMs`. */
  retry(reason: string, retryMs: number, why?: EndReason): void;
}

/** What a stream carried, reported with its end. */
export interface StreamTotals {
  /** `next` events queued for the client. */
  events: number;
  /** Bytes queued for the client, frames and comments included. */
  bytes: number;
}

export interface EventStreamOptions {
  /** Interval of heartbeat comments, in milliseconds; `0` disables them. */
  heartbeatMs: number;
  timers: Timers;
  /** Aborts when the client went away (the request's signal, or the runtime's). */
  signals: readonly (AbortSignal | undefined)[];
  /**
   * Most events held for a client that does not read; one more ends the stream
   * with a `SLOW_CONSUMER` error. At least one event is always held.
   * @default 4096
   */
  maxQueuedEvents?: number;
  /**
   * Most bytes held for a client that does not read, in bytes; past it the
   * stream ends with a `SLOW_CONSUMER` error.
   * @default 65536
   */
  maxQueuedBytes?: number;
  /**
   * The budget shared with the gateway's other streams: what this stream
   * holds for its client counts against it, and it ends this stream when the
   * total is over (src/core/limits/queue-budget.ts).
   * @default none
   */
  budget?: QueueBudget;
  /** Called once when the stream ends, after the producer's teardown ran. */
  onEnd?(reason: EndReason, totals: StreamTotals): void;
  /**
   * Called once when nothing of the stream is held any more: its last bytes
   * were handed to the consumer, or the consumer went away. Later than `onEnd`
   * for a client that has not read its last events yet.
   */
  onReleased?(): void;
}

/** Takes frames straight from the stream, in place of its reader (a runtime adapter's socket). */
export interface FrameWriter {
  /**
   * Writes whole SSE frames: text once attached, bytes only for what was
   * queued before. Returns false when the consumer holds enough for now (as
   * Node's `write` does); `drained()` then says when to write again. Throws
   * if the client is gone.
   */
  write(chunk: string | Uint8Array): boolean;
  /** UTF-8 length of a frame's text, in bytes (what the stream counts against `maxQueuedBytes`). */
  byteLength(text: string): number;
  /** Ends the response after the last frame. */
  end(): void;
  /** Drops the response at once, with whatever it still holds (the queue budget's last resort). */
  abort?(): void;
  /** Bytes written and not yet sent (Node's `writableLength`): they count against the queue budget too. */
  buffered?(): number;
}

/** What the adapter tells a stream it attached a writer to. */
export interface DirectStream {
  /** The writer may write again (Node's `drain`): the direct path's pull. */
  drained(): void;
  /** The client went away (the response closed): the direct path's cancel. */
  cancel(): void;
}

/** Switches a stream to a direct writer; `undefined` when it is being read already (use the stream then). */
export type AttachWriter = (writer: FrameWriter) => DirectStream | undefined;

const DIRECT = Symbol.for('subway.sse.attachWriter');

/** The direct path of a body made by `createEventStream`, if it has one. */
export function directWriterOf(body: unknown): AttachWriter | undefined {
  return body !== null && typeof body === 'object' ? ((body as { [DIRECT]?: AttachWriter })[DIRECT] ?? undefined) : undefined;
}

/** A frame as queued: bytes on the Web stream path, text on the direct path. */
type Chunk = Uint8Array | string;

function concat(chunks: readonly Chunk[], length: number): Chunk {
  if (typeof chunks[0] === 'string') return chunks.join('');
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks as readonly Uint8Array[]) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * `start` receives the sink and returns the producer's teardown, which runs
 * exactly once when the stream ends for any reason.
 */
export function createEventStream(options: EventStreamOptions, start: (sink: EventSink) => () => void): ReadableStream<Uint8Array> {
  const maxEvents = options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents;
  const maxBytes = options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let closeWhenDrained = false;
  let closed = false;
  let heartbeat: unknown;
  let teardown: (() => void) | undefined;
  const listeners: (() => void)[] = [];
  const totals: StreamTotals = { events: 0, bytes: 0 };
  /** The runtime adapter's writer, once attached (then the Web stream is never read). */
  let direct: FrameWriter | undefined;
  /** Frames waiting for the consumer's next pull (or `drain`). */
  const queue: Chunk[] = [];
  let queuedBytes = 0;
  let queuedEvents = 0;
  /** The consumer asked for data (a pull) and got none yet. */
  let demand = false;
  /**
   * Bytes the consumer holds unsent, as the queue budget counts them: what a
   * direct writer says it buffers, else what was handed over since its last pull.
   */
  let inFlight = 0;
  let account: BudgetAccount | undefined;

  let released = false;
  /** Nothing is held for the consumer any more. */
  const release = () => {
    if (released) return;
    released = true;
    for (const off of listeners) off();
    // A direct writer may still hold the last frames; their bytes count until its response closes (cancel).
    if (!direct || inFlight === 0) account?.close();
    options.onReleased?.();
  };

  const close = () => {
    if (closed) return;
    closed = true;
    if (direct) {
      try {
        direct.end();
      } catch (err) {
        // The response is gone already; nothing is held any more either way.
        console.error('[subway] could not end an event stream', err);
      }
    } else {
      try {
        controller.close();
      } catch {
        // Already closed or errored by the consumer: nothing left to flush.
      }
    }
    release();
  };

  const dropQueue = () => {
    account?.release(queuedBytes);
    queue.length = 0;
    queuedBytes = 0;
    queuedEvents = 0;
  };

  const finish = (reason: EndReason, closeStream: 'drain' | 'now' | 'no') => {
    if (finished) return;
    finished = true;
    if (heartbeat !== undefined) options.timers.clearInterval(heartbeat);
    try {
      teardown?.();
    } finally {
      if (closeStream === 'now') dropQueue();
      if (closeStream === 'no') {
        dropQueue();
        closed = true;
      } else if (queue.length === 0) close();
      else closeWhenDrained = true;
      options.onEnd?.(reason, totals);
      if (closeStream === 'no') release();
    }
  };

  /**
   * Hands a chunk to the consumer. On the direct path, as a reader pumping
   * into the socket would: after a write that was taken, the next pull comes
   * a microtask later (so frames of one burst go out together); after a write
   * the socket could not take, at its `drain`.
   */
  const deliver = (chunk: Chunk, size: number) => {
    if (account) {
      inFlight += size;
      account.reserve(size);
    }
    try {
      if (!direct) controller.enqueue(chunk as Uint8Array);
      else if (direct.write(chunk)) queueMicrotask(pull);
    } catch {
      // The consumer is gone (the stream was cancelled or errored, the socket destroyed): end the producer too.
      demand = false;
      finish('client-gone', 'no');
    }
  };

  /** The frame's text as the consumer takes it: bytes for the Web stream, the text itself for a direct writer. */
  const chunkOf = (text: string): Chunk => (direct ? text : encodeFrame(text));
  const sizeOf = (chunk: Chunk): number => (typeof chunk === 'string' ? direct!.byteLength(chunk) : chunk.byteLength);

  /** Hands the frame to the consumer if it is waiting, else queues it. */
  const push = (chunk: Chunk, size: number, isEvent: boolean) => {
    totals.bytes += size;
    if (isEvent) totals.events++;
    if (demand) {
      demand = false;
      deliver(chunk, size);
      return;
    }
    queue.push(chunk);
    queuedBytes += size;
    account?.reserve(size);
    if (isEvent) queuedEvents++;
  };
  const pushText = (text: string, isEvent: boolean) => {
    const chunk = chunkOf(text);
    push(chunk, sizeOf(chunk), isEvent);
  };

  /** The consumer wants more: everything queued goes out as one chunk. */
  const pull = () => {
    if (account) {
      const held = direct?.buffered?.() ?? 0;
      account.release(inFlight - held);
      inFlight = held;
    }
    if (queue.length === 0) {
      demand = !closed;
      return;
    }
    const chunk = queue.length === 1 ? queue[0]! : concat(queue, queuedBytes);
    const size = queuedBytes;
    dropQueue();
    deliver(chunk, size);
    if (closeWhenDrained) close();
  };

  const cancel = () => {
    account?.close();
    if (!finished) return finish('client-gone', 'no');
    dropQueue();
    closed = true;
    release();
  };

  /** Drops the response itself: the consumer is not taking what it was handed. */
  const abortConsumer = () => {
    try {
      if (direct) direct.abort?.();
      else controller.error(new Error('The client did not read its events; the response was dropped.'));
    } catch {
      // Gone already.
    }
    account?.close();
  };

  /**
   * The queue budget ends this stream (it holds the most of all): what is
   * queued is dropped and the client gets the `SLOW_CONSUMER` error in its
   * place; by force, or when only bytes the consumer already holds are left,
   * the response is dropped too.
   */
  const evict = (force: boolean) => {
    if (closed) return abortConsumer();
    dropQueue();
    if (force) {
      if (!finished) finish('slow-consumer', 'no');
      closed = true;
      release();
      return abortConsumer();
    }
    pushText(nextFrameText(SLOW_CONSUMER_RESULT), true);
    pushText(COMPLETE_TEXT, false);
    if (!finished) finish('slow-consumer', 'drain');
  };
  account = options.budget?.open(evict);

  const sink: EventSink = {
    next(json) {
      if (finished) return 0;
      const frame = chunkOf(nextFrameText(json));
      const size = sizeOf(frame);
      const full = queue.length > 0 && (queuedEvents + 1 > maxEvents || queuedBytes + size > maxBytes);
      if (full) {
        // The client stopped reading: say so once, past the bound, and end.
        pushText(nextFrameText(SLOW_CONSUMER_RESULT), true);
        pushText(COMPLETE_TEXT, false);
        finish('slow-consumer', 'drain');
        return 0;
      }
      push(frame, size, true);
      return size;
    },
    complete() {
      if (finished) return;
      pushText(COMPLETE_TEXT, false);
      finish('complete', 'drain');
    },
    retry(reason, retryMs, why = 'retry') {
      if (finished) return;
      pushText(retryFrameText(reason, retryMs), false);
      finish(why, 'drain');
    },
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        totals.bytes += COMMENT.byteLength;
        c.enqueue(COMMENT);
        for (const signal of options.signals) {
          if (!signal) continue;
          if (signal.aborted) {
            finished = true;
            close();
            options.onEnd?.('client-gone', totals);
            return;
          }
          const onAbort = () => {
            if (!finished) return finish('client-gone', 'now');
            // Ended already, with bytes still held for a client that is now gone.
            dropQueue();
            close();
          };
          signal.addEventListener('abort', onAbort, { once: true });
          listeners.push(() => signal.removeEventListener('abort', onAbort));
        }
        if (options.heartbeatMs > 0) {
          heartbeat = options.timers.setInterval(() => {
            // Bytes already waiting keep the connection busy; a heartbeat would only grow the queue.
            if (!finished && queue.length === 0) pushText(COMMENT_TEXT, false);
          }, options.heartbeatMs);
        }
        const td = start(sink);
        if (finished) td();
        else teardown = td;
      },
      pull,
      cancel,
    },
    { highWaterMark: 0 },
  );

  // The direct path. Until the first read the stream's own queue holds only
  // the first comment (the high-water mark is 0, so nothing pulled), and
  // every frame since is in `queue`: the writer takes over from there, and
  // the Web stream is left unread.
  const attach: AttachWriter = (writer) => {
    if (stream.locked || direct) return undefined;
    direct = writer;
    // The first comment (counted in the totals already), then what was queued
    // before, as the first pull would have had them.
    demand = false;
    const wasClosed = closed;
    deliver(COMMENT_TEXT, COMMENT.byteLength);
    if (queue.length > 0) {
      const chunk = concat(queue, queuedBytes);
      const size = queuedBytes;
      dropQueue();
      deliver(chunk, size);
      if (closeWhenDrained) close();
    }
    // Ended (and released) before the writer came: only the response is left to end.
    if (wasClosed) writer.end();
    return { drained: () => pull(), cancel };
  };
  Object.defineProperty(stream, DIRECT, { value: attach });
  return stream;
}
