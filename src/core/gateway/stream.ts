/**
 * A client's stream as the gateway runs it: an `EventStream` that is a
 * hub's subscriber, frames how the upstream subscription ended the way the
 * HTTP contract says, and accounts for itself (the limits' slot, the stream
 * lifecycle hooks, the heartbeat sweep). Per-stream state lives in the
 * object's fields; what all streams share is one `StreamContext`.
 */
import type { Hub, Subscriber } from '../hub/hub.ts';
import type { QueueBudget } from '../limits/queue-budget.ts';
import type { Instrumentation, StreamEndReason, StreamInfo } from '../observability/instrumentation.ts';
import type { Frame } from '../sse/frame.ts';
import type { StreamSet } from '../sse/heartbeat.ts';
import { EventStream, type EndReason, type StreamBounds } from '../sse/stream.ts';
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
  /** Most `next` events one response carries (`GatewayOptions.maxStreamEvents`); 0: no bound. */
  readonly maxStreamEvents: number;
  /** The `retry:` delay after a stream reached `maxStreamEvents`, drawn to spread the reconnects. */
  readonly budgetRetryMs: () => number;
  /** The open streams: the heartbeat sweep, and what `dispose` ends. */
  readonly streams: StreamSet<GatewayStream>;
}

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

  constructor(context: StreamContext, info: StreamInfo, releaseSlot: () => void, waitUntil: ((promise: Promise<unknown>) => void) | undefined) {
    super(context.bounds, context.budget);
    this.context = context;
    this.info = info;
    this.startedAt = context.now();
    this.releaseSlot = releaseSlot;
    this.waitUntil = waitUntil;
    context.streams.add(this);
    context.hooks.onStreamStart(info);
  }

  /** Subscribes the stream to `hub`'s frames. */
  subscribe(hub: Hub): void {
    this.hub = hub;
    hub.join(this);
  }

  /** Ends the stream with a reconnection hint: the gateway is stopping. */
  shutdown(): void {
    this.retry('gateway shutting down', this.context.health.failed(), 'shutdown');
  }

  // ── Subscriber ─────────────────────────────────────────────────────────

  send(frame: Frame): boolean {
    const taken = this.push(frame);
    const max = this.context.maxStreamEvents;
    // The response has carried what it may: the client comes straight back for what follows.
    if (taken && max > 0 && this.events >= max) this.retry('stream event budget reached', this.context.budgetRetryMs(), 'budget');
    return taken;
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

  protected override teardown(): void {
    const hub = this.hub;
    if (!hub) return;
    this.hub = undefined;
    const closing = hub.leave(this);
    if (closing && this.waitUntil) this.waitUntil(closing);
  }

  protected override ended(why: EndReason): void {
    this.context.streams.delete(this);
    const reason: StreamEndReason = why === 'client-gone' || why === 'shutdown' || why === 'slow-consumer' || why === 'budget' ? why : (this.reason ?? 'complete');
    this.context.hooks.onStreamEnd({ ...this.info, reason, durationMs: this.context.now() - this.startedAt, events: this.events, bytes: this.bytes });
  }

  protected override released(): void {
    this.releaseSlot();
  }
}
