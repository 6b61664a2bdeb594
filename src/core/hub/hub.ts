/**
 * A hub: one upstream subscription and the streams it feeds. Each upstream
 * result is encoded as an SSE frame once (`Frame`, with its sequence number)
 * and handed to every subscriber; a subscriber holds a reference in its own
 * bounded queue, so a slow one ends on its own (`SLOW_CONSUMER`) without
 * holding the others back, and the hub never waits for anyone.
 *
 * - In `subscription` sharing mode, identical subscriptions (same operation,
 *   coerced variables and `connection_init` payload) join one hub; otherwise
 *   each stream has a hub of its own, the same code with one subscriber.
 * - A late joiner gets the frames from the moment it joined.
 * - The last subscriber leaving ends the upstream subscription, at once or,
 *   with `lingerMs` (resume's window), once that has passed with nobody back.
 * - The upstream ending (`complete`, errors, a failed connection) ends every
 *   subscriber, each as its stream frames it.
 *
 * Runtime-neutral and self-contained (timers injected, no global state), so
 * the same hub can live in a Node process or in a Durable Object.
 */
import type { Timers } from '../timers.ts';
import { Frame, nextFrame } from '../sse/frame.ts';
import type { Operation, OperationSink } from '../upstream/operation.ts';
import type { UpstreamEnd } from '../upstream/socket.ts';
import { FrameLog, type FrameLogBounds } from './log.ts';

/** A stream fed by a hub. */
export interface Subscriber {
  /** Its slot among the hub's subscribers (the hub's bookkeeping; -1 when in none). */
  hubIndex: number;
  /** One result frame. Returns false when the subscriber took it not (it ended). */
  send(frame: Frame): boolean;
  /**
   * The upstream subscription ended; `frame` is the last result to send
   * before `complete` (the errors, for `errors` and `fatal` ends).
   */
  upstreamEnded(end: UpstreamEnd, frame: Frame | undefined): void;
}

/** What hubs share: settings and the registry's bookkeeping (hubs.ts). */
export interface HubHost {
  readonly timers: Timers;
  /** How long an upstream subscription is kept after its last subscriber left, in milliseconds; `0` ends it at once. */
  readonly lingerMs: number;
  /** What each upstream subscription keeps for resuming clients. */
  readonly log: FrameLogBounds;
  /** Turns an upstream result's JSON into what clients get (e.g. filtering error extensions), before it is encoded. */
  readonly transform: ((json: string) => string) | undefined;
  /**
   * The `id:` of the frame numbered `seq` of `hub` (resume: an id bound to the
   * hub's key, which `Last-Event-ID` brings back); `undefined` writes none.
   */
  readonly eventId: ((hub: Hub, seq: number) => string | undefined) | undefined;
  /** A frame was encoded once and handed to `written` subscribers. */
  framed(hub: Hub, frame: Frame, written: number): void;
  /** The hub takes no one any more: its upstream subscription ended, or its last subscriber left for good. */
  closed(hub: Hub, end: UpstreamEnd | undefined): void;
}

export class Hub implements OperationSink {
  /** Its sharing key (`undefined`: a hub of one stream). */
  readonly key: string | undefined;
  /** The operation's name, for metrics. */
  readonly operationName: string;
  /** The frames kept for resuming clients (none unless the host keeps some). */
  readonly log: FrameLog | undefined;
  private readonly host: HubHost;
  private subscribers: Subscriber[] = [];
  private operation: Operation | undefined;
  private seq = 0;
  private lingerTimer: unknown;
  private isClosed = false;

  constructor(host: HubHost, key: string | undefined, operationName: string) {
    this.host = host;
    this.key = key;
    this.operationName = operationName;
    this.log = host.log.maxEvents > 0 ? new FrameLog(host.log) : undefined;
  }

  /** Subscribers now. */
  get size(): number {
    return this.subscribers.length;
  }

  /** Whether it takes new subscribers. */
  get open(): boolean {
    return !this.isClosed;
  }

  /** The sequence number of the last frame. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Attaches the upstream subscription that feeds it. */
  start(operation: Operation): void {
    this.operation = operation;
  }

  join(subscriber: Subscriber): void {
    if (this.lingerTimer !== undefined) {
      this.host.timers.clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    subscriber.hubIndex = this.subscribers.length;
    this.subscribers.push(subscriber);
  }

  /**
   * Detaches a subscriber. When it was the last, the upstream subscription
   * ends (now, or after `lingerMs`); returns the upstream socket's closing
   * when that closed it, for runtimes that must wait for it.
   */
  leave(subscriber: Subscriber): Promise<void> | undefined {
    const i = subscriber.hubIndex;
    if (i < 0 || this.subscribers[i] !== subscriber) return undefined;
    subscriber.hubIndex = -1;
    const last = this.subscribers.pop()!;
    if (last !== subscriber) {
      this.subscribers[i] = last;
      last.hubIndex = i;
    }
    if (this.subscribers.length > 0 || this.isClosed) return undefined;
    if (this.host.lingerMs > 0) {
      this.lingerTimer = this.host.timers.setTimeout(() => {
        this.lingerTimer = undefined;
        if (this.subscribers.length === 0) void this.close();
      }, this.host.lingerMs);
      return undefined;
    }
    return this.close();
  }

  /** Ends the upstream subscription and every subscriber's membership, without framing anything for them. */
  close(): Promise<void> | undefined {
    if (this.isClosed) return undefined;
    this.isClosed = true;
    if (this.lingerTimer !== undefined) this.host.timers.clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const operation = this.operation;
    this.operation = undefined;
    this.host.closed(this, undefined);
    return operation?.dispose();
  }

  // ── the upstream side (OperationSink) ──────────────────────────────────

  next(json: string): void {
    const { transform, eventId } = this.host;
    const seq = ++this.seq;
    const frame = nextFrame(transform ? transform(json) : json, seq, eventId?.(this, seq));
    const subscribers = this.subscribers;
    frame.shared = subscribers.length > 1;
    this.log?.append(frame);
    let written = 0;
    // Backwards: a subscriber that ends while taking the frame (too slow) swaps the last one into its slot, which was served already.
    for (let i = subscribers.length - 1; i >= 0; i--) if (subscribers[i]!.send(frame)) written++;
    this.host.framed(this, frame, written);
  }

  end(end: UpstreamEnd): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.operation = undefined;
    if (this.lingerTimer !== undefined) this.host.timers.clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const subscribers = this.subscribers;
    this.subscribers = [];
    this.host.closed(this, end);
    const frame = this.lastFrame(end);
    if (frame) frame.shared = subscribers.length > 1;
    for (const subscriber of subscribers) {
      subscriber.hubIndex = -1;
      subscriber.upstreamEnded(end, frame);
    }
  }

  /** The result a failed subscription's subscribers get before `complete`, as today's framing has it. */
  private lastFrame(end: UpstreamEnd): Frame | undefined {
    const { transform, eventId } = this.host;
    if (end.kind === 'errors') {
      const json = JSON.stringify({ errors: end.errors });
      const seq = ++this.seq;
      return nextFrame(transform ? transform(json) : json, seq, eventId?.(this, seq));
    }
    if (end.kind === 'fatal') {
      // The gateway's own error: its extensions are the gateway's, not the upstream's.
      const seq = ++this.seq;
      return nextFrame(JSON.stringify({ errors: [{ message: end.message, extensions: { code: 'UPSTREAM_ERROR', closeCode: end.closeCode } }] }), seq, eventId?.(this, seq));
    }
    return undefined;
  }
}
