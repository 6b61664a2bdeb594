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
 */
import { COMMENT, COMPLETE, nextFrame, retryFrame } from './encode.ts';

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
   * @default 1048576
   */
  maxQueuedBytes?: number;
  /** Called once when the stream ends, after the producer's teardown ran. */
  onEnd?(reason: EndReason, totals: StreamTotals): void;
  /**
   * Called once when nothing of the stream is held any more: its last bytes
   * were handed to the consumer, or the consumer went away. Later than `onEnd`
   * for a client that has not read its last events yet.
   */
  onReleased?(): void;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
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
  const maxEvents = options.maxQueuedEvents ?? 4096;
  const maxBytes = options.maxQueuedBytes ?? 1_048_576;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let closeWhenDrained = false;
  let closed = false;
  let heartbeat: unknown;
  let teardown: (() => void) | undefined;
  const listeners: (() => void)[] = [];
  const totals: StreamTotals = { events: 0, bytes: 0 };
  /** Frames waiting for the consumer's next pull. */
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  let queuedEvents = 0;
  /** The consumer asked for data (a pull) and got none yet. */
  let demand = false;

  let released = false;
  /** Nothing is held for the consumer any more. */
  const release = () => {
    if (released) return;
    released = true;
    for (const off of listeners) off();
    options.onReleased?.();
  };

  const close = () => {
    if (closed) return;
    closed = true;
    try {
      controller.close();
    } catch {
      // Already closed or errored by the consumer: nothing left to flush.
    }
    release();
  };

  const dropQueue = () => {
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

  const enqueue = (chunk: Uint8Array) => {
    try {
      controller.enqueue(chunk);
    } catch {
      // The consumer is gone (the stream was cancelled or errored): end the producer too.
      finish('client-gone', 'no');
    }
  };

  /** Hands the frame to the consumer if it is waiting, else queues it. */
  const push = (chunk: Uint8Array, isEvent: boolean) => {
    totals.bytes += chunk.byteLength;
    if (isEvent) totals.events++;
    if (demand) {
      demand = false;
      enqueue(chunk);
      return;
    }
    queue.push(chunk);
    queuedBytes += chunk.byteLength;
    if (isEvent) queuedEvents++;
  };

  const sink: EventSink = {
    next(json) {
      if (finished) return 0;
      const frame = nextFrame(json);
      const full = queue.length > 0 && (queuedEvents + 1 > maxEvents || queuedBytes + frame.byteLength > maxBytes);
      if (full) {
        // The client stopped reading: say so once, past the bound, and end.
        push(nextFrame(SLOW_CONSUMER_RESULT), true);
        push(COMPLETE, false);
        finish('slow-consumer', 'drain');
        return 0;
      }
      push(frame, true);
      return frame.byteLength;
    },
    complete() {
      if (finished) return;
      push(COMPLETE, false);
      finish('complete', 'drain');
    },
    retry(reason, retryMs, why = 'retry') {
      if (finished) return;
      push(retryFrame(reason, retryMs), false);
      finish(why, 'drain');
    },
  };

  return new ReadableStream<Uint8Array>(
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
            if (!finished && queue.length === 0) push(COMMENT, false);
          }, options.heartbeatMs);
        }
        const td = start(sink);
        if (finished) td();
        else teardown = td;
      },
      pull() {
        if (queue.length === 0) {
          demand = !closed;
          return;
        }
        const chunk = queue.length === 1 ? queue[0]! : concat(queue, queuedBytes);
        dropQueue();
        enqueue(chunk);
        if (closeWhenDrained) close();
      },
      cancel() {
        if (!finished) return finish('client-gone', 'no');
        dropQueue();
        closed = true;
        release();
      },
    },
    { highWaterMark: 0 },
  );
}
