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
 * - The last subscriber leaving ends the upstream subscription at once,
 *   unless a subscriber that left keeps a place (resume, below).
 * - The upstream ending (`complete`, errors, a failed connection) ends every
 *   subscriber, each as its stream frames it.
 *
 * **Resume** (docs/resume.md), for a hub made with a binding while the host
 * resumes: every frame carries an `id:` (the hub's epoch and the frame's
 * sequence number, resume.ts), a `FrameLog` keeps the newest frames within the
 * bounds, and a subscriber that leaves with a `Departure` (its client went
 * away, its credential expired) keeps a place for the window. While any place
 * is kept, the hub outlives its last subscriber (holding a subscription slot
 * while nobody is attached), and when the upstream ends meanwhile it keeps its
 * log and its end for the places, so a returning client gets what it missed,
 * then the end.
 *
 * Runtime-neutral and self-contained (timers and the clock injected, no
 * global state), so the same hub can live in a Node process or in a Durable
 * Object.
 */
import type { Timers } from '../timers.ts';
import { Frame, nextFrame } from '../sse/frame.ts';
import type { Operation, OperationSink } from '../upstream/operation.ts';
import type { UpstreamEnd } from '../upstream/socket.ts';
import { FrameLog } from './log.ts';
import { eventId, newEpoch, type ResumeSettings } from './resume.ts';

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

/** A subscriber that leaves a place behind (resume): its client may come back within the window. */
export interface Departure {
  /** The client key the limits count by, for the slot a lingering hub holds. */
  readonly client: string | undefined;
}

/** What a client resuming a hub is owed. */
export interface Resumed {
  readonly hub: Hub;
  /** The frames after the client's id, oldest first (none when it missed nothing). */
  readonly frames: Frame[];
  /** How the upstream subscription ended while the client was away (its last frame is in `frames`); `undefined` while it runs. */
  readonly ended: UpstreamEnd | undefined;
}

/** What hubs share: settings and the registry's bookkeeping (hubs.ts). */
export interface HubHost {
  readonly timers: Timers;
  /** The clock, in milliseconds. */
  now(): number;
  /** Random bytes for epochs (Web Crypto's by default). */
  readonly random: ((bytes: Uint8Array<ArrayBuffer>) => Uint8Array) | undefined;
  /** Resume's window and bounds; `undefined`: no hub keeps anything or lingers. */
  readonly resume: ResumeSettings | undefined;
  /** Turns an upstream result's JSON into what clients get (e.g. filtering error extensions), before it is encoded. */
  readonly transform: ((json: string) => string) | undefined;
  /** A frame was encoded once and handed to `written` subscribers. */
  framed(hub: Hub, frame: Frame, written: number): void;
  /** The hub takes no one any more: its upstream subscription ended, or it was ended for good. */
  closed(hub: Hub, end: UpstreamEnd | undefined): void;
  /** The hub is no longer resumable: its log is freed. */
  forgotten(hub: Hub): void;
  /** Counts a hub that lingers with nobody attached against the subscription limits; returns the release. */
  holdSlot(client: string | undefined): () => void;
}

export class Hub implements OperationSink {
  /** Its sharing key (`undefined`: a hub of one stream). */
  readonly key: string | undefined;
  /** The operation's name, for metrics. */
  readonly operationName: string;
  /** Resume: the secret part of its ids (`undefined`: not resumable). */
  readonly epoch: string | undefined;
  /** Resume: who may resume it (resume.ts `resumeBinding`). */
  readonly binding: string | undefined;
  /** The frames kept for resuming clients (resumable hubs only). */
  readonly log: FrameLog | undefined;
  private readonly host: HubHost;
  private subscribers: Subscriber[] = [];
  private operation: Operation | undefined;
  private seq = 0;
  private isClosed = false;
  private isForgotten = false;
  /** Until when a departed subscriber's place is kept (the latest departure plus the window). */
  private placesUntil = 0;
  /** The client of the latest departure, whose slot a lingering hub holds. */
  private placeClient: string | undefined;
  /** The linger (no subscriber, places kept) or the keeping of an ended hub for its places. */
  private timer: unknown;
  /** The subscription slot held while it lingers with nobody attached. */
  private slot: (() => void) | undefined;
  /** How the upstream ended, kept for the places (resume). */
  private ending: UpstreamEnd | undefined;

  constructor(host: HubHost, key: string | undefined, operationName: string, binding?: string) {
    this.host = host;
    this.key = key;
    this.operationName = operationName;
    const resume = binding === undefined ? undefined : host.resume;
    this.epoch = resume ? newEpoch(host.random) : undefined;
    this.binding = resume ? binding : undefined;
    this.log = resume ? new FrameLog(resume) : undefined;
  }

  /** Subscribers now. */
  get size(): number {
    return this.subscribers.length;
  }

  /** Whether it takes new subscribers. */
  get open(): boolean {
    return !this.isClosed;
  }

  /** Whether it runs upstream with nobody attached, for a departed client's place. */
  get lingering(): boolean {
    return !this.isClosed && this.subscribers.length === 0 && this.timer !== undefined;
  }

  /** Whether it lingers for a place that `client` left last (the slot it holds counts against that client). */
  lingersFor(client: string | undefined): boolean {
    return this.lingering && this.placeClient === client;
  }

  /** Until when its places are kept, in milliseconds of the host's clock (0: none). */
  get placesEnd(): number {
    return this.placesUntil;
  }

  /** Whether the upstream ended and it is kept only for departed clients' places. */
  get keptForPlaces(): boolean {
    return this.ending !== undefined && !this.isForgotten;
  }

  /** The sequence number of the last frame. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The id of the frame numbered `seq` (resumable hubs only). */
  idOf(seq: number): string {
    return eventId(this.epoch!, seq);
  }

  /** Attaches the upstream subscription that feeds it. */
  start(operation: Operation): void {
    this.operation = operation;
  }

  join(subscriber: Subscriber): void {
    this.clearTimer();
    this.releaseSlot();
    subscriber.hubIndex = this.subscribers.length;
    this.subscribers.push(subscriber);
  }

  /**
   * Detaches a subscriber; with a `departure` (resumable hubs), it keeps a
   * place for the window. When it was the last, the upstream subscription
   * ends, now, or once every place has expired; returns the upstream
   * socket's closing when this closed it, for runtimes that must wait for it.
   */
  leave(subscriber: Subscriber, departure?: Departure): Promise<void> | undefined {
    const i = subscriber.hubIndex;
    if (i < 0 || this.subscribers[i] !== subscriber) return undefined;
    subscriber.hubIndex = -1;
    const last = this.subscribers.pop()!;
    if (last !== subscriber) {
      this.subscribers[i] = last;
      last.hubIndex = i;
    }
    const resume = this.log && this.host.resume;
    const now = resume ? this.host.now() : 0;
    if (resume && departure) {
      this.placesUntil = now + resume.windowMs;
      this.placeClient = departure.client;
    }
    if (this.subscribers.length > 0 || this.isClosed) return undefined;
    if (this.placesUntil > now) {
      // Lingers: runs upstream, keeps its log, counts against the limits, until the last place expires.
      this.slot = this.host.holdSlot(this.placeClient);
      this.timer = this.host.timers.setTimeout(() => {
        this.timer = undefined;
        if (this.subscribers.length === 0) void this.close();
      }, this.placesUntil - now);
      return undefined;
    }
    return this.close();
  }

  /**
   * What a client that last saw frame `seq` is owed, when the log still
   * holds every frame after it; `undefined` otherwise (a gap).
   */
  resumeAfter(seq: number): Resumed | undefined {
    if (!this.log || this.isForgotten || (this.isClosed && !this.ending)) return undefined;
    const frames = this.log.after(seq);
    return frames && { hub: this, frames, ended: this.ending };
  }

  /** Hands over the slot a lingering hub holds (to the stream that resumes it when the limits are full). */
  takeSlot(): (() => void) | undefined {
    const slot = this.slot;
    this.slot = undefined;
    return slot;
  }

  /** Ends the upstream subscription and every subscriber's membership, without framing anything for them; frees its log. */
  close(): Promise<void> | undefined {
    this.forget();
    if (this.isClosed) return undefined;
    this.isClosed = true;
    const operation = this.operation;
    this.operation = undefined;
    this.host.closed(this, undefined);
    return operation?.dispose();
  }

  // ── the upstream side (OperationSink) ──────────────────────────────────

  next(json: string): void {
    const transform = this.host.transform;
    const seq = ++this.seq;
    const frame = nextFrame(transform ? transform(json) : json, seq, this.epoch === undefined ? undefined : eventId(this.epoch, seq));
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
    this.clearTimer();
    this.releaseSlot();
    const subscribers = this.subscribers;
    this.subscribers = [];
    this.host.closed(this, end);
    const frame = this.lastFrame(end);
    if (frame) {
      frame.shared = subscribers.length > 1;
      this.log?.append(frame);
    }
    for (const subscriber of subscribers) {
      subscriber.hubIndex = -1;
      subscriber.upstreamEnded(end, frame);
    }
    const resume = this.log && this.host.resume;
    if (!resume) return this.forget();
    const now = this.host.now();
    // A subscriber attached now may be a client whose connection died unnoticed (a half-open TCP connection): what
    // it was last sent may never have arrived, so it has a place too, as a departed one has.
    if (subscribers.length > 0) this.placesUntil = Math.max(this.placesUntil, now + resume.windowMs);
    // A failed connection lost events upstream: a resume is a gap. Otherwise the places get the rest, then the end.
    if (end.kind === 'transient' || this.placesUntil <= now) return this.forget();
    this.ending = end;
    this.timer = this.host.timers.setTimeout(() => {
      this.timer = undefined;
      this.forget();
    }, this.placesUntil - now);
  }

  private forget(): void {
    this.clearTimer();
    this.releaseSlot();
    if (this.isForgotten) return;
    this.isForgotten = true;
    if (!this.log) return;
    this.log.clear();
    this.host.forgotten(this);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.host.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private releaseSlot(): void {
    const slot = this.slot;
    this.slot = undefined;
    slot?.();
  }

  /** The result a failed subscription's subscribers get before `complete`, as today's framing has it. */
  private lastFrame(end: UpstreamEnd): Frame | undefined {
    let json: string;
    if (end.kind === 'errors') {
      json = JSON.stringify({ errors: end.errors });
      if (this.host.transform) json = this.host.transform(json);
    } else if (end.kind === 'fatal') {
      // The gateway's own error: its extensions are the gateway's, not the upstream's.
      json = JSON.stringify({ errors: [{ message: end.message, extensions: { code: 'UPSTREAM_ERROR', closeCode: end.closeCode } }] });
    } else {
      return undefined;
    }
    const seq = ++this.seq;
    return nextFrame(json, seq, this.epoch === undefined ? undefined : eventId(this.epoch, seq));
  }
}
