/**
 * A server-sent event stream as a Web `ReadableStream`: it flushes a first
 * comment at once, sends a heartbeat comment on an interval, and tears its
 * producer down exactly once, whichever comes first: the producer finishing,
 * the consumer cancelling the stream, or the request's signal aborting.
 *
 * The producer starts when the consumer first reads (or attaches a direct
 * writer), not when the stream is made. A runtime adapter that can write text
 * to its socket may skip the Web stream: `directWriterOf(body)` hands it each
 * frame as one string, for one write per event (see src/runtime/node.ts).
 */
import { COMMENT, COMPLETE, encodeFrame, nextFrame, retryFrame } from './encode.ts';

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
export type EndReason = 'complete' | 'retry' | 'client-gone' | 'shutdown';

export interface EventSink {
  /** Sends one `event: next` carrying this JSON text. */
  next(json: string): void;
  /** Sends `event: complete` and ends the stream. */
  complete(): void;
  /** Sends a reconnection hint and ends the stream without `complete`, so EventSource retries after `retryMs`. */
  retry(reason: string, retryMs: number, why?: EndReason): void;
}

export interface EventStreamOptions {
  /** Interval of heartbeat comments, in milliseconds; `0` disables them. */
  heartbeatMs: number;
  timers: Timers;
  /** Aborts when the client went away (the request's signal, or the runtime's). */
  signals: readonly (AbortSignal | undefined)[];
  /** Called once when the stream ends, after the producer's teardown ran. */
  onEnd?(reason: EndReason): void;
}

/** Takes frames straight from the producer, in place of the stream's reader. */
export interface FrameWriter {
  /** Writes one or more whole SSE frames. Throws if the client is gone. */
  write(frame: string): void;
  /** Ends the response after the last frame. */
  end(): void;
}

/** Switches a stream to a direct writer; `undefined` when it was already read, locked or ended (use the stream then). */
export type AttachWriter = (writer: FrameWriter) => { cancel(): void } | undefined;

const DIRECT = Symbol.for('subway.sse.attachWriter');

/** The direct path of a body made by `createEventStream`, if it has one. */
export function directWriterOf(body: unknown): AttachWriter | undefined {
  return body !== null && typeof body === 'object' ? ((body as { [DIRECT]?: AttachWriter })[DIRECT] ?? undefined) : undefined;
}

/**
 * `start` receives the sink and returns the producer's teardown, which runs
 * exactly once when the stream ends for any reason.
 */
export function createEventStream(options: EventStreamOptions, start: (sink: EventSink) => () => void): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let heartbeat: unknown;
  let teardown: (() => void) | undefined;
  let direct: FrameWriter | undefined;
  let begun = false;
  const listeners: (() => void)[] = [];

  const finish = (reason: EndReason, closeStream: boolean) => {
    if (finished) return;
    finished = true;
    if (heartbeat !== undefined) options.timers.clearInterval(heartbeat);
    for (const off of listeners) off();
    try {
      teardown?.();
    } finally {
      if (closeStream && direct) direct.end();
      else if (closeStream) {
        try {
          controller.close();
        } catch {
          // Already closed or errored by the consumer: nothing left to flush.
        }
      }
      options.onEnd?.(reason);
    }
  };

  const write = (frame: string): void => {
    if (finished) return;
    try {
      if (direct) direct.write(frame);
      else controller.enqueue(encodeFrame(frame));
    } catch {
      // The consumer is gone (the stream was cancelled or errored, the socket destroyed): end the producer too.
      finish('client-gone', false);
    }
  };

  /** The first read (or the direct writer) starts the stream: first comment, heartbeat, producer. */
  const begin = () => {
    if (begun || finished) return;
    begun = true;
    write(COMMENT);
    if (finished) return;
    if (options.heartbeatMs > 0) heartbeat = options.timers.setInterval(() => write(COMMENT), options.heartbeatMs);
    const td = start(sink);
    if (finished) td();
    else teardown = td;
  };

  const sink: EventSink = {
    next: (json) => write(nextFrame(json)),
    complete: () => {
      write(COMPLETE);
      finish('complete', true);
    },
    retry: (reason, retryMs, why = 'retry') => {
      write(retryFrame(reason, retryMs));
      finish(why, true);
    },
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        for (const signal of options.signals) {
          if (!signal) continue;
          if (signal.aborted) {
            finished = true;
            options.onEnd?.('client-gone');
            return;
          }
          const onAbort = () => finish('client-gone', true);
          signal.addEventListener('abort', onAbort, { once: true });
          listeners.push(() => signal.removeEventListener('abort', onAbort));
        }
      },
      pull: begin,
      cancel() {
        finish('client-gone', false);
      },
    },
    // Nothing is produced ahead of the first read.
    { highWaterMark: 0 },
  );
  const attach: AttachWriter = (writer) => {
    if (begun || finished || stream.locked) return undefined;
    direct = writer;
    begin();
    return { cancel: () => finish('client-gone', false) };
  };
  Object.defineProperty(stream, DIRECT, { value: attach });
  return stream;
}
