/**
 * One client's server-sent event stream, runtime-neutral: a bounded queue of
 * frames (references to shared `Frame`s, never copies) between a producer
 * (an upstream subscription, src/core/hub/hub.ts) and one consumer, read in
 * whichever of two documented ways the runtime writes best:
 *
 * - `readable()`: a Web `ReadableStream<Uint8Array>` (Workers, and any
 *   caller of `gateway.fetch`). Pull-based, high-water mark 0: a pull says
 *   exactly when the runtime wants more.
 * - `attach(writer)`: a runtime that writes to its socket itself (Node) hands
 *   in a `FrameWriter`; `write` returning false (the socket's buffer is over
 *   its mark) stands for "no pull yet", and the runtime calls `drained()` for
 *   the next pull and `cancel()` when the client is gone.
 *
 * Either way the same bounds hold: a client that does not read gets its own
 * `SLOW_CONSUMER` end once `maxQueuedEvents` or `maxQueuedBytes` would be
 * passed, and everything queued between two pulls goes out as one chunk.
 * With a `QueueBudget` (src/core/limits/queue-budget.ts), what the stream
 * holds also counts against the process-wide budget: its queue, and what it
 * handed its consumer that the consumer has not sent yet. A shared frame
 * counts once per stream that holds it (its full size each time), which is
 * what it costs at worst: a writer that takes text copies it.
 *
 * The stream ends exactly once, whichever comes first: the producer finishing
 * (`complete`, `retry`), the queue overflowing, or the consumer going away.
 * Subclasses hear about it through `teardown` (the producer must let go),
 * `ended` (accounting) and `released` (nothing of the stream is held any more).
 */
import type { BudgetAccount, QueueBudget } from '../limits/queue-budget.ts';
import { COMMENT_FRAME, COMPLETE_FRAME, Frame, nextFrame, retryFrame } from './frame.ts';

/** Why a stream ended; reported once to `teardown` and `ended`. */
export type EndReason = 'complete' | 'retry' | 'client-gone' | 'shutdown' | 'slow-consumer' | 'expired' | 'budget';

/** The error a client that stopped reading gets as its last `next`, before `complete`. */
export const SLOW_CONSUMER_RESULT = JSON.stringify({
  errors: [{ message: 'The client did not read its events fast enough; the subscription was ended.', extensions: { code: 'SLOW_CONSUMER' } }],
});
const SLOW_CONSUMER_FRAME = nextFrame(SLOW_CONSUMER_RESULT);
SLOW_CONSUMER_FRAME.shared = true;

/** How much a stream may hold for a client that does not read. */
export interface StreamBounds {
  /** Most `next` events held; one more ends the stream with `SLOW_CONSUMER`. At least one is always held. */
  readonly maxQueuedEvents: number;
  /** Most bytes held; past it the stream ends with `SLOW_CONSUMER`. */
  readonly maxQueuedBytes: number;
}

/** Writes a stream's frames straight to the runtime's socket (the writer view). */
export interface FrameWriter {
  /**
   * Writes whole SSE frames, as text or as (shared) UTF-8 bytes. Returns false
   * when the consumer holds enough for now (as Node's `write` does): the
   * runtime then calls the stream's `drained()` when it may write again.
   * Throws if the client is gone.
   */
  write(chunk: string | Uint8Array): boolean;
  /** Ends the response after the last frame. */
  end(): void;
  /** Drops the response at once, with whatever it still holds (the queue budget's last resort). */
  abort?(): void;
  /** Bytes written and not yet sent (Node's `writableLength`): they count against the queue budget too. */
  buffered?(): number;
}

const NONE = 0;
const WRITER = 1;
const READABLE = 2;

/** Streams whose consumer took a write and may take more once the current burst is over. */
let pulls: EventStream[] = [];
let pullScheduled = false;
function runPulls(): void {
  const due = pulls;
  pulls = [];
  pullScheduled = false;
  for (const stream of due) stream.drained();
}

export class EventStream {
  /** `next` events queued for the client so far. */
  events = 0;
  /** Bytes queued for the client so far: frames, comments and the end. */
  bytes = COMMENT_FRAME.size;
  private readonly bounds: StreamBounds;
  private queue: Frame[] | undefined;
  private queuedBytes = 0;
  private queuedEvents = 0;
  /** Of the queue, what `replay` put there: it counts against the budget, not the stream's own bounds. */
  private replayed: { frames: number; events: number; bytes: number } | undefined;
  /** The consumer asked for data (a pull) and got none yet. */
  private demand = false;
  /** The producer side is over (`teardown` ran). */
  private finished = false;
  private closeWhenDrained = false;
  /** The consumer's side is over: the response was ended, or the consumer is gone. */
  private closed = false;
  private isReleased = false;
  /** Something was written since the last heartbeat sweep. */
  private busy = false;
  private view: typeof NONE | typeof WRITER | typeof READABLE = NONE;
  private writer: FrameWriter | undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private signals: AbortSignal[] | undefined;
  /** This stream's account in the queue budget, if there is one. */
  private readonly account: BudgetAccount | undefined;
  /**
   * Bytes the consumer holds unsent, as the budget counts them: what a writer
   * says it buffers, else what was handed over since its last pull.
   */
  private inFlight = 0;

  constructor(bounds: StreamBounds, budget?: QueueBudget) {
    this.bounds = bounds;
    this.account = budget?.open((force) => this.evict(force));
  }

  /** Whether the stream still takes frames. */
  get open(): boolean {
    return !this.finished;
  }

  // ── the producer's side ────────────────────────────────────────────────

  /**
   * Queues one `next` frame. Returns false when the stream has ended, or just
   * ended because the client is too far behind (it then gets `SLOW_CONSUMER`).
   */
  push(frame: Frame): boolean {
    if (this.finished) return false;
    let queued = this.queue?.length ?? 0;
    let events = this.queuedEvents;
    let bytes = this.queuedBytes;
    if (this.replayed) {
      queued -= this.replayed.frames;
      events -= this.replayed.events;
      bytes -= this.replayed.bytes;
    }
    if (queued > 0 && (events + 1 > this.bounds.maxQueuedEvents || bytes + frame.size > this.bounds.maxQueuedBytes)) {
      // The client stopped reading: say so once, past the bound, and end.
      this.put(SLOW_CONSUMER_FRAME);
      this.put(COMPLETE_FRAME);
      this.finish('slow-consumer', 'drain');
      return false;
    }
    this.put(frame);
    return true;
  }

  /** Sends `event: complete` and ends the stream. */
  complete(): void {
    if (this.finished) return;
    this.put(COMPLETE_FRAME);
    this.finish('complete', 'drain');
  }

  /**
   * Queues frames ahead of the live ones that their own bounds do not count
   * (a resuming client's replay, already bounded by the resume log); the
   * queue budget does. Only before the consumer reads.
   */
  replay(frames: readonly Frame[]): void {
    if (this.finished || this.view !== NONE) return;
    const replayed = (this.replayed ??= { frames: 0, events: 0, bytes: 0 });
    for (const frame of frames) {
      this.put(frame);
      replayed.frames++;
      if (frame.event) replayed.events++;
      replayed.bytes += frame.size;
    }
  }

  /**
   * Sends a reconnection hint and ends the stream without `complete`, so
   * EventSource retries after `retryMs`; with `dropQueued`, what the consumer
   * has not taken yet is dropped first (nothing may be delivered after it).
   */
  retry(reason: string, retryMs: number, why: EndReason = 'retry', dropQueued = false): void {
    if (this.finished) return;
    if (dropQueued) this.dropQueue();
    this.put(retryFrame(reason, retryMs));
    this.finish(why, 'drain');
  }

  /** The heartbeat sweep's visit: a comment, if nothing was written since the last one and nothing waits. */
  heartbeat(): void {
    if (!this.finished && !this.busy && !(this.queue && this.queue.length > 0)) this.put(COMMENT_FRAME);
    this.busy = false;
  }

  // ── hooks for subclasses ───────────────────────────────────────────────

  /** The stream ended for `reason`: the producer must let go (runs once, before `ended`). */
  protected teardown(_reason: EndReason): void {}
  /** The stream ended for `reason` (runs once, after `teardown`). */
  protected ended(_reason: EndReason): void {}
  /**
   * Nothing of the stream is held any more: its last bytes were handed to the
   * consumer, or the consumer went away. Later than `ended` for a client that
   * has not read its last events yet.
   */
  protected released(): void {}

  // ── the consumer's side: the writer view ───────────────────────────────

  /**
   * Takes the stream through `writer` in place of a Web stream. Writes the
   * first comment and anything queued before; returns false (and writes
   * nothing) when the stream is read another way already.
   */
  attach(writer: FrameWriter): boolean {
    if (this.view !== NONE) return false;
    this.view = WRITER;
    this.writer = writer;
    const wasClosed = this.closed;
    this.deliver(COMMENT_FRAME.text, COMMENT_FRAME.size);
    if (this.queue && this.queue.length > 0) this.flush();
    // Ended (and released) before the writer came: only the response is left to end.
    if (wasClosed) this.endWriter();
    return true;
  }

  /** The writer may write again (Node's `drain`): the next pull. */
  drained(): void {
    if (this.account) {
      const held = this.writer?.buffered?.() ?? 0;
      this.account.release(this.inFlight - held);
      this.inFlight = held;
    }
    if (!this.queue || this.queue.length === 0) {
      this.demand = !this.closed;
      return;
    }
    this.flush();
  }

  /** The client went away. */
  cancel(): void {
    this.account?.close();
    if (!this.finished) return this.finish('client-gone', 'no');
    this.dropQueue();
    this.closed = true;
    this.release();
  }

  // ── the consumer's side: the Web stream view ───────────────────────────

  /**
   * The stream as a Web `ReadableStream` of UTF-8 bytes; `signals` abort it
   * when the client is gone (where the runtime says so only that way).
   * Returns undefined when the stream is read another way already.
   */
  readable(signals: readonly (AbortSignal | undefined)[] = []): ReadableStream<Uint8Array> | undefined {
    if (this.view !== NONE) return undefined;
    this.view = READABLE;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return new ReadableStream<Uint8Array>(
      {
        start(controller) {
          self.controller = controller;
          controller.enqueue(COMMENT_FRAME.bytes());
          for (const signal of signals) {
            if (!signal) continue;
            if (signal.aborted) return self.abort();
            (self.signals ??= []).push(signal);
            signal.addEventListener('abort', self, { once: true });
          }
          if (self.closed) self.endReadable();
        },
        pull: () => this.drained(),
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  /** An abort signal fired (the stream is its own listener: no closure per stream). */
  handleEvent(): void {
    this.abort();
  }

  private abort(): void {
    if (!this.finished) return this.finish('client-gone', 'now');
    // Ended already, with bytes still held for a client that is now gone.
    this.dropQueue();
    this.close();
  }

  /**
   * The queue budget ends this stream (it holds the most of all): what is
   * queued is dropped and the client gets the `SLOW_CONSUMER` error in its
   * place; by force, or when only bytes the consumer already holds are left,
   * the response is dropped too.
   */
  private evict(force: boolean): void {
    if (this.closed) return this.abortConsumer();
    this.dropQueue();
    if (force) {
      if (!this.finished) this.finish('slow-consumer', 'no');
      this.closed = true;
      this.release();
      return this.abortConsumer();
    }
    this.put(SLOW_CONSUMER_FRAME);
    this.put(COMPLETE_FRAME);
    if (!this.finished) this.finish('slow-consumer', 'drain');
  }

  /** Drops the response itself: the consumer is not taking what it was handed. */
  private abortConsumer(): void {
    try {
      if (this.view === WRITER) this.writer!.abort?.();
      else this.controller?.error(new Error('The client did not read its events; the response was dropped.'));
    } catch {
      // Gone already.
    }
    this.account?.close();
  }

  // ── the queue ──────────────────────────────────────────────────────────

  /** Hands the frame to the consumer if it is waiting, else queues it. */
  private put(frame: Frame): void {
    this.bytes += frame.size;
    if (frame.event) this.events++;
    this.busy = true;
    if (this.demand) {
      this.demand = false;
      this.deliver(this.view === WRITER ? (frame.shared ? frame.bytes() : frame.text) : frame.bytes(), frame.size);
      return;
    }
    (this.queue ??= []).push(frame);
    this.queuedBytes += frame.size;
    this.account?.reserve(frame.size);
    if (frame.event) this.queuedEvents++;
  }

  /** Everything queued goes out as one chunk; then the end, if the producer is done. */
  private flush(): void {
    const queue = this.queue!;
    let chunk: string | Uint8Array;
    if (queue.length === 1) {
      const frame = queue[0]!;
      chunk = this.view === WRITER && !frame.shared ? frame.text : frame.bytes();
    } else if (this.view === WRITER) {
      let text = '';
      for (const frame of queue) text += frame.text;
      chunk = text;
    } else {
      const out = new Uint8Array(this.queuedBytes);
      let offset = 0;
      for (const frame of queue) {
        out.set(frame.bytes(), offset);
        offset += frame.size;
      }
      chunk = out;
    }
    const size = this.queuedBytes;
    this.dropQueue();
    this.deliver(chunk, size);
    if (this.closeWhenDrained) this.close();
  }

  /**
   * Hands a chunk to the consumer. On the writer view, as a reader pumping
   * into the socket would: after a write that was taken, the next pull comes
   * once the current burst is over (a microtask later, so frames of one burst
   * go out together); after a write the socket could not take, at `drained()`.
   */
  private deliver(chunk: string | Uint8Array, size: number): void {
    if (this.account) {
      this.inFlight += size;
      this.account.reserve(size);
    }
    try {
      if (this.view === WRITER) {
        if (this.writer!.write(chunk)) {
          pulls.push(this);
          if (!pullScheduled) {
            pullScheduled = true;
            queueMicrotask(runPulls);
          }
        }
      } else {
        this.controller!.enqueue(chunk as Uint8Array);
      }
    } catch {
      // The consumer is gone (the stream was cancelled or errored, the socket destroyed): end the producer too.
      this.demand = false;
      this.finish('client-gone', 'no');
    }
  }

  private dropQueue(): void {
    this.account?.release(this.queuedBytes);
    if (this.queue) this.queue.length = 0;
    this.queuedBytes = 0;
    this.queuedEvents = 0;
    this.replayed = undefined;
  }

  private finish(reason: EndReason, mode: 'drain' | 'now' | 'no'): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.teardown(reason);
    } finally {
      if (mode !== 'drain') this.dropQueue();
      if (mode === 'no') this.closed = true;
      else if (!this.queue || this.queue.length === 0) this.close();
      else this.closeWhenDrained = true;
      this.ended(reason);
      if (mode === 'no') this.release();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.view === WRITER) this.endWriter();
    else if (this.view === READABLE) this.endReadable();
    this.release();
  }

  private endWriter(): void {
    try {
      this.writer!.end();
    } catch (err) {
      // The response is gone already; nothing is held any more either way.
      console.error('[subway] could not end an event stream', err);
    }
  }

  private endReadable(): void {
    try {
      this.controller?.close();
    } catch {
      // Already closed or errored by the consumer: nothing left to flush.
    }
  }

  private release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    // A writer may still hold the last frames: their bytes count until its response closes (cancel).
    if (this.view !== WRITER || this.inFlight === 0) this.account?.close();
    if (this.signals) for (const signal of this.signals) signal.removeEventListener('abort', this);
    this.signals = undefined;
    this.released();
  }
}
