/**
 * A server-sent event stream as a Web `ReadableStream`: it flushes a first
 * comment at once, sends a heartbeat comment on an interval, and tears its
 * producer down exactly once, whichever comes first: the producer finishing,
 * the consumer cancelling the stream, or the request's signal aborting.
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

/**
 * `start` receives the sink and returns the producer's teardown, which runs
 * exactly once when the stream ends for any reason.
 */
export function createEventStream(options: EventStreamOptions, start: (sink: EventSink) => () => void): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  let heartbeat: unknown;
  let teardown: (() => void) | undefined;
  const listeners: (() => void)[] = [];

  const finish = (reason: EndReason, closeStream: boolean) => {
    if (finished) return;
    finished = true;
    if (heartbeat !== undefined) options.timers.clearInterval(heartbeat);
    for (const off of listeners) off();
    try {
      teardown?.();
    } finally {
      if (closeStream) {
        try {
          controller.close();
        } catch {
          // Already closed or errored by the consumer: nothing left to flush.
        }
      }
      options.onEnd?.(reason);
    }
  };

  const write = (chunk: Uint8Array): void => {
    if (finished) return;
    try {
      controller.enqueue(chunk);
    } catch {
      // The consumer is gone (the stream was cancelled or errored): end the producer too.
      finish('client-gone', false);
    }
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

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(COMMENT);
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
      if (options.heartbeatMs > 0) heartbeat = options.timers.setInterval(() => write(COMMENT), options.heartbeatMs);
      const td = start(sink);
      if (finished) td();
      else teardown = td;
    },
    cancel() {
      finish('client-gone', false);
    },
  });
}
