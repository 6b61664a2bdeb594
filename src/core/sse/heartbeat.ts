/**
 * The open streams of a gateway, and their heartbeat: one interval timer for
 * all of them (running only while there are streams), in place of a timer per
 * stream. Each tick, a stream that wrote nothing since the previous tick and
 * has nothing waiting gets a comment, which keeps proxies from closing an idle
 * connection and makes a runtime that only notices a gone client when a write
 * fails (workerd) notice it.
 */
import type { Timers } from '../timers.ts';
import type { EventStream } from './stream.ts';

export class StreamSet<S extends EventStream> implements Iterable<S> {
  private readonly streams = new Set<S>();
  private readonly heartbeatMs: number;
  private readonly timers: Timers;
  private timer: unknown;
  private readonly own: Map<S, unknown> | undefined;

  /**
   * @param heartbeatMs interval of heartbeat comments, in milliseconds; `0` sends none.
   * @param perStream a timer per stream instead of one for all.
   */
  constructor(heartbeatMs: number, timers: Timers, perStream = false) {
    this.heartbeatMs = heartbeatMs;
    this.timers = timers;
    this.own = perStream && heartbeatMs > 0 ? new Map() : undefined;
  }

  get size(): number {
    return this.streams.size;
  }

  add(stream: S): void {
    this.streams.add(stream);
    if (this.own) this.own.set(stream, this.timers.setInterval(() => stream.heartbeat(), this.heartbeatMs));
    else if (this.heartbeatMs > 0 && this.timer === undefined) this.timer = this.timers.setInterval(() => this.tick(), this.heartbeatMs);
  }

  delete(stream: S): void {
    this.streams.delete(stream);
    if (this.own?.has(stream)) {
      this.timers.clearInterval(this.own.get(stream));
      this.own.delete(stream);
    }
    if (this.streams.size === 0 && this.timer !== undefined) {
      this.timers.clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  [Symbol.iterator](): Iterator<S> {
    return this.streams[Symbol.iterator]();
  }

  private tick(): void {
    for (const stream of this.streams) stream.heartbeat();
  }
}
