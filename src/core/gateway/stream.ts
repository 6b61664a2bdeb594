/**
 * A client's stream as the gateway runs it: an `EventStream` that is a
 * hub's subscriber, frames how the upstream subscription ended the way the
 * HTTP contract says, and accounts for itself (the limits' slot, the stream
 * lifecycle hooks, the heartbeat sweep). Per-stream state lives in the
 * object's fields; what all streams share is one `StreamContext`.
 *
 * With resume on (docs/resume.md) it also opens with where it stands (an
 * `id:`-only block, the missed frames, or the gap event), and leaves a place
 * in its hub when its client goes away or its credential expires.
 */
import type { Departure, Hub, Resumed, Subscriber } from '../hub/hub.ts';
import { GAP_RESULT } from '../hub/resume.ts';
import type { QueueBudget } from '../limits/queue-budget.ts';
import type { Instrumentation, StreamEndReason, StreamInfo } from '../observability/instrumentation.ts';
import { Frame, nextFrame } from '../sse/frame.ts';
import type { StreamSet } from '../sse/heartbeat.ts';
import { EventStream, type EndReason, type StreamBounds } from '../sse/stream.ts';
import type { Timers } from '../timers.ts';
import type { UpstreamHealth } from '../upstream/health.ts';
import type { UpstreamEnd } from '../upstream/socket.ts';

/** What every stream of a gateway shares. */
export interface StreamContext {
  readonly bounds: StreamBounds;
  /** The process-wide budget of bytes held for clients that do not read. */
  readonly budget: QueueBudget | undefined;
  readonly hooks: Required<Instrumentation>;
  readonly health: UpstreamHealth;
  readonly now: () => number;
  readonly timers: Timers;
  /** A `retry:` delay for a client the gateway wants straight back (credential expiry; shutdown with resume on), drawn to spread them. */
  readonly soonRetryMs: () => number;
  /** Most `next` events one response carries (`GatewayOptions.maxStreamEvents`); 0: no bound. */
  readonly maxStreamEvents: number;
  /** The `retry:` delay after a stream reached `maxStreamEvents`, drawn to spread the reconnects. */
  readonly budgetRetryMs: () => number;
  /** The open streams: the heartbeat sweep, and what `dispose` ends. */
  readonly streams: StreamSet<GatewayStream>;
}

/** How a stream begins, besides its subscription. */
export type Opening =
  /** A new subscriber of `hub`; a resumable hub's position goes first, as an `id:` alone, so even a drop before the first event resumes. */
  | { kind: 'fresh'; hub: Hub }
  /** A resume that is honoured: the missed frames, then live (or the end, when it came meanwhile). */
  | { kind: 'replay'; resumed: Resumed }
  /** A resume that is not: the gap event (carrying the new position's id), then `hub` live. */
  | { kind: 'gap'; hub: Hub };

/** The longest a timer may be set for (2^31 - 1 ms, about 24.8 days); longer expiries are reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export class GatewayStream extends EventStream implements Subscriber {
  hubIndex = -1;
  private readonly context: StreamContext;
  private readonly info: StreamInfo;
  private readonly startedAt: number;
  /** Frees the stream's slot in the limits: held until nothing of the stream is. */
  private readonly releaseSlot: () => void;
  private readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  private hub: Hub | undefined;
  /** How the upstream side ended it, if it did. */
  private reason: StreamEndReason | undefined;
  /** When its credential expires (ms since the epoch), if the `connectionParams` hook said. */
  private readonly expiresAt: number | undefined;
  private expiryTimer: unknown;

  constructor(
    context: StreamContext,
    info: StreamInfo,
    releaseSlot: () => void,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
    expiresAt?: number,
  ) {
    super(context.bounds, context.budget);
    this.context = context;
    this.info = info;
    this.startedAt = context.now();
    this.releaseSlot = releaseSlot;
    this.waitUntil = waitUntil;
    this.expiresAt = expiresAt;
    context.streams.add(this);
    context.hooks.onStreamStart(info);
  }

  /** Subscribes the stream to `hub`'s frames. */
  subscribe(hub: Hub): void {
    this.begin({ kind: 'fresh', hub });
  }

  /** Starts the stream as `opening` says, and its credential's expiry. */
  begin(opening: Opening): void {
    if (this.expiresAt !== undefined) this.armExpiry();
    if (opening.kind === 'replay') {
      const { hub, frames, ended } = opening.resumed;
      this.replay(frames);
      if (ended) return this.finishReplayed(ended);
      this.attachTo(hub);
      // A replay counts against the event budget too: past it, the client comes back for the rest.
      return this.checkBudget();
    }
    const hub = opening.hub;
    if (hub.epoch !== undefined) {
      const id = hub.idOf(hub.lastSeq);
      this.replay([opening.kind === 'gap' ? nextFrame(GAP_RESULT, 0, id) : new Frame(`id: ${id}\n\n`, false)]);
    }
    this.attachTo(hub);
  }

  /** Ends the stream with a reconnection hint: the gateway is stopping. */
  shutdown(retryMs?: number): void {
    this.retry('gateway shutting down', retryMs ?? this.context.health.failed(), 'shutdown');
  }

  // ── Subscriber ─────────────────────────────────────────────────────────

  send(frame: Frame): boolean {
    const taken = this.push(frame);
    if (taken) this.checkBudget();
    return taken;
  }

  /** Past `maxStreamEvents`, the response has carried what it may: the client comes straight back for what follows. */
  private checkBudget(): void {
    const max = this.context.maxStreamEvents;
    if (max > 0 && this.events >= max) this.retry('stream event budget reached', this.context.budgetRetryMs(), 'budget');
  }

  upstreamEnded(end: UpstreamEnd, frame: Frame | undefined): void {
    this.hub = undefined;
    switch (end.kind) {
      case 'complete':
        this.reason = 'complete';
        return this.complete();
      case 'errors':
      case 'fatal':
        this.reason = end.kind === 'errors' ? 'upstream-errors' : 'upstream-fatal';
        if (frame) this.push(frame);
        return this.complete();
      case 'transient':
        // Each stream draws its own jittered delay, so many streams of one dropped socket do not come back at once.
        this.reason = 'upstream-unavailable';
        return this.retry('upstream unavailable', this.context.health.failed());
    }
  }

  // ── EventStream hooks ──────────────────────────────────────────────────

  protected override teardown(why: EndReason): void {
    if (this.expiryTimer !== undefined) this.context.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const hub = this.hub;
    if (!hub) return;
    this.hub = undefined;
    // A client that went away, or whose credential expired, may come back for what follows (resumable hubs keep its
    // place); so may one ended as too slow, whose connection may have died unnoticed while its queue filled, and one
    // whose response carried its event budget.
    const departure: Departure | undefined =
      why === 'client-gone' || why === 'expired' || why === 'slow-consumer' || why === 'budget' ? { client: this.info.client } : undefined;
    const closing = hub.leave(this, departure);
    if (closing && this.waitUntil) this.waitUntil(closing);
  }

  protected override ended(why: EndReason): void {
    this.context.streams.delete(this);
    const reason: StreamEndReason =
      why === 'client-gone' || why === 'shutdown' || why === 'slow-consumer' || why === 'budget' ? why : why === 'expired' ? 'credential-expired' : (this.reason ?? 'complete');
    this.context.hooks.onStreamEnd({ ...this.info, reason, durationMs: this.context.now() - this.startedAt, events: this.events, bytes: this.bytes });
  }

  protected override released(): void {
    this.releaseSlot();
  }

  // ── its own ────────────────────────────────────────────────────────────

  private attachTo(hub: Hub): void {
    this.hub = hub;
    hub.join(this);
  }

  /** A resumed subscription that ended while the client was away: its last frame was replayed; the end follows. */
  private finishReplayed(end: UpstreamEnd): void {
    this.reason = end.kind === 'complete' ? 'complete' : end.kind === 'errors' ? 'upstream-errors' : 'upstream-fatal';
    this.complete();
  }

  /** At the credential's expiry: nothing more is delivered; the client comes straight back and the hook runs again. */
  private armExpiry(): void {
    const delay = this.expiresAt! - this.context.now();
    this.expiryTimer = this.context.timers.setTimeout(
      () => {
        this.expiryTimer = undefined;
        if (delay > MAX_TIMER_MS) return this.armExpiry();
        this.retry('credential expired', this.context.soonRetryMs(), 'expired', true);
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
  }
}
