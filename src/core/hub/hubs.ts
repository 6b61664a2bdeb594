/**
 * The hubs of a gateway: the shared ones by key (what a new subscriber of the
 * same subscription joins), and the counts `/metrics` shows: upstream
 * subscriptions running, frames encoded (once per upstream result) and
 * frames written (once per subscriber that took one).
 */
import type { Timers } from '../timers.ts';
import type { Frame } from '../sse/frame.ts';
import type { Operation } from '../upstream/operation.ts';
import type { UpstreamEnd } from '../upstream/socket.ts';
import { Hub, type HubHost } from './hub.ts';
import type { FrameLogBounds } from './log.ts';

export interface HubsOptions {
  readonly timers: Timers;
  /** See `HubHost.lingerMs`. Unset: ended at once. */
  readonly lingerMs?: number;
  /** See `HubHost.log`. Unset: none kept. */
  readonly log?: FrameLogBounds;
  /** See `HubHost.transform`. */
  readonly transform?: (json: string) => string;
  /** See `HubHost.eventId`. Unset: frames carry no `id:`. */
  readonly eventId?: (hub: Hub, seq: number) => string | undefined;
  /** One upstream result was encoded once and handed to `written` subscribers. */
  onFrame?(operation: string, bytes: number, written: number): void;
  /** An upstream subscription ended by the upstream's doing. */
  onEnd?(hub: Hub, end: UpstreamEnd): void;
}

export class Hubs implements HubHost {
  readonly timers: Timers;
  readonly lingerMs: number;
  readonly log: FrameLogBounds;
  readonly transform: ((json: string) => string) | undefined;
  readonly eventId: ((hub: Hub, seq: number) => string | undefined) | undefined;
  /** Upstream subscriptions running (hubs not closed). */
  active = 0;
  /** Frames encoded from upstream results. */
  framesEncoded = 0;
  /** Frames handed to subscribers (one per subscriber per frame). */
  framesWritten = 0;
  private readonly options: HubsOptions;
  private readonly byKey = new Map<string, Hub>();

  constructor(options: HubsOptions) {
    this.options = options;
    this.timers = options.timers;
    this.lingerMs = options.lingerMs ?? 0;
    this.log = options.log ?? { maxEvents: 0, maxBytes: 0 };
    this.transform = options.transform;
    this.eventId = options.eventId;
  }

  /**
   * The hub a subscriber of `key` joins: the open one under that key, or a
   * new one whose upstream subscription `start` opens (`undefined` key: a new
   * hub of its own, never shared). `start` may throw (a 429 when no upstream
   * socket can be had): then no hub is left behind.
   */
  acquire(key: string | undefined, operationName: string, start: (hub: Hub) => Operation): Hub {
    if (key !== undefined) {
      const live = this.byKey.get(key);
      if (live?.open) return live;
    }
    const hub = new Hub(this, key, operationName);
    hub.start(start(hub));
    this.active++;
    if (key !== undefined) this.byKey.set(key, hub);
    return hub;
  }

  /** The shared hubs open now. */
  shared(): IterableIterator<Hub> {
    return this.byKey.values();
  }

  // ── HubHost ────────────────────────────────────────────────────────────

  framed(hub: Hub, frame: Frame, written: number): void {
    this.framesEncoded++;
    this.framesWritten += written;
    this.options.onFrame?.(hub.operationName, frame.size, written);
  }

  closed(hub: Hub, end: UpstreamEnd | undefined): void {
    this.active--;
    if (hub.key !== undefined && this.byKey.get(hub.key) === hub) this.byKey.delete(hub.key);
    if (end) this.options.onEnd?.(hub, end);
  }
}
