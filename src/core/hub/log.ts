/**
 * The frames an upstream subscription produced, newest last, bounded by a
 * count and a size: what a resuming client (issue 13: `Last-Event-ID`) is
 * replayed from. One log per upstream subscription, shared by all of its
 * subscribers, holding references to the same `Frame`s their queues hold.
 * With no room (`maxEvents` 0, the default until resume is on) it keeps
 * nothing and costs nothing.
 */
import type { Frame } from '../sse/frame.ts';

export interface FrameLogBounds {
  /** Most frames kept; `0` keeps none. */
  readonly maxEvents: number;
  /** Most bytes kept (frames' UTF-8 sizes). */
  readonly maxBytes: number;
}

export class FrameLog {
  private readonly bounds: FrameLogBounds;
  private frames: Frame[] = [];
  /** Index of the oldest kept frame in `frames` (evicted ones before it are dropped in batches). */
  private head = 0;
  private bytes = 0;
  /** The sequence number of the last frame appended (kept or not). */
  private last = 0;

  constructor(bounds: FrameLogBounds) {
    this.bounds = bounds;
  }

  /** Frames kept now. */
  get size(): number {
    return this.frames.length - this.head;
  }

  /** Bytes kept now. */
  get byteSize(): number {
    return this.bytes;
  }

  /** Keeps `frame` (its `seq` must be the last one's plus one), evicting the oldest past the bounds. */
  append(frame: Frame): void {
    const { maxEvents, maxBytes } = this.bounds;
    this.last = frame.seq;
    if (maxEvents <= 0 || frame.size > maxBytes) return this.clear();
    this.frames.push(frame);
    this.bytes += frame.size;
    while (this.size > maxEvents || this.bytes > maxBytes) this.bytes -= this.frames[this.head++]!.size;
    // Compact once the evicted prefix is as long as what is kept.
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The frames after `seq`, oldest first, when the log still holds all of
   * them (none when `seq` is the last one appended); `undefined` when some
   * were evicted, or `seq` was never appended (a gap the client must be told of).
   */
  after(seq: number): Frame[] | undefined {
    if (seq === this.last) return [];
    const oldest = this.frames[this.head];
    if (!oldest || seq > this.last || seq + 1 < oldest.seq) return undefined;
    return this.frames.slice(this.head + (seq + 1 - oldest.seq));
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
  }
}
