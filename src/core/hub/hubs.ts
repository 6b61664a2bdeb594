/**
 * The hubs of a gateway: the shared ones by key (what a new subscriber of the
 * same subscription joins), the resumable ones by epoch (what a resuming
 * client's id names, docs/resume.md), and the counts `/metrics` shows:
 * upstream subscriptions running, frames encoded (once per upstream result)
 * and frames written (once per subscriber that took one).
 */
import type { Timers } from '../timers.ts';
import type { Frame } from '../sse/frame.ts';
import type { Operation } from '../upstream/operation.ts';
import type { UpstreamEnd } from '../upstream/socket.ts';
import { Hub, type HubHost, type Resumed } from './hub.ts';
import { parseEventId, type ResumeSettings } from './resume.ts';

export interface HubsOptions {
  readonly timers: Timers;
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Random bytes for epochs. @default Web Crypto's getRandomValues */
  readonly random?: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array;
  /** Resume's window and bounds. Unset: nothing is kept, nobody lingers, frames carry no `id:`. */
  readonly resume?: ResumeSettings;
  /** See `HubHost.transform`. */
  readonly transform?: (json: string) => string;
  /** See `HubHost.holdSlot`. Unset: a lingering hub counts against nothing. */
  readonly holdSlot?: (client: string | undefined) => () => void;
  /** One upstream result was encoded once and handed to `written` subscribers. */
  onFrame?(operation: string, bytes: number, written: number): void;
  /** An upstream subscription ended by the upstream's doing. */
  onEnd?(hub: Hub, end: UpstreamEnd): void;
}

/** Why a resume could not be honoured (logs and metrics; the client is only told it is a gap). */
export type GapReason =
  /** Not an id of ours, or of a hub this process no longer (or never) had: expired, restarted, another process. */
  | 'unknown'
  /** A hub of another operation, other variables or other credentials. */
  | 'mismatch'
  /** The frames after the id were evicted by the bounds. */
  | 'evicted';

/** What resuming keeps now, for `/metrics`. */
export interface ResumeStats {
  /** Upstream subscriptions running with nobody attached, for departed clients' places. */
  lingering: number;
  /** Upstream subscriptions that ended while clients were away, kept for them (their log and end). */
  keptEnded: number;
  /** Frames kept for resuming clients, all upstream subscriptions together. */
  bufferedEvents: number;
  /** Bytes of those frames. */
  bufferedBytes: number;
}

const noSlot = () => () => {};

export class Hubs implements HubHost {
  readonly timers: Timers;
  readonly now: () => number;
  readonly random: ((bytes: Uint8Array<ArrayBuffer>) => Uint8Array) | undefined;
  readonly resume: ResumeSettings | undefined;
  readonly transform: ((json: string) => string) | undefined;
  readonly holdSlot: (client: string | undefined) => () => void;
  /** Upstream subscriptions running (hubs not closed). */
  active = 0;
  /** Frames encoded from upstream results. */
  framesEncoded = 0;
  /** Frames handed to subscribers (one per subscriber per frame). */
  framesWritten = 0;
  private readonly options: HubsOptions;
  private readonly byKey = new Map<string, Hub>();
  private readonly byEpoch = new Map<string, Hub>();

  constructor(options: HubsOptions) {
    this.options = options;
    this.timers = options.timers;
    this.now = options.now ?? Date.now;
    this.random = options.random;
    this.resume = options.resume && options.resume.windowMs > 0 ? options.resume : undefined;
    this.transform = options.transform;
    this.holdSlot = options.holdSlot ?? noSlot;
  }

  /**
   * The hub a subscriber of `key` joins: the open one under that key, or a
   * new one whose upstream subscription `start` opens (`undefined` key: a new
   * hub of its own, never shared). With a `binding` while resume is on, a new
   * hub is resumable (resume.ts). `start` may throw (a 429 when no upstream
   * socket can be had): then no hub is left behind.
   */
  acquire(key: string | undefined, operationName: string, start: (hub: Hub) => Operation, binding?: string): Hub {
    if (key !== undefined) {
      const live = this.byKey.get(key);
      if (live?.open) return live;
    }
    const hub = new Hub(this, key, operationName, binding);
    hub.start(start(hub));
    this.active++;
    if (key !== undefined) this.byKey.set(key, hub);
    if (hub.epoch !== undefined) this.byEpoch.set(hub.epoch, hub);
    return hub;
  }

  /**
   * What a request resuming from event `id` is owed: the hub its id names and
   * the frames after it, when that hub is one the request may read (the same
   * `binding`, or, for a shared hub, the same sharing `key`: the request would
   * join it anyway) and its log still holds them all; otherwise why not.
   */
  resumeFrom(id: string, binding: string, key: string | undefined): Resumed | { gap: GapReason } {
    const parsed = parseEventId(id);
    const hub = parsed && this.byEpoch.get(parsed.epoch);
    if (!parsed || !hub) return { gap: 'unknown' };
    if (hub.binding !== binding && (hub.key === undefined || hub.key !== key)) return { gap: 'mismatch' };
    return hub.resumeAfter(parsed.seq) ?? { gap: 'evicted' };
  }

  /**
   * Ends the upstream subscription lingering longest for a place `client`
   * left (a client at its own subscription limit gives way its own places:
   * a page reloaded opens fresh streams, and must not be locked out by the
   * places of the page before). Returns whether there was one.
   */
  releaseLingering(client: string | undefined): boolean {
    let oldest: Hub | undefined;
    for (const hub of this.byEpoch.values()) if (hub.lingersFor(client) && (!oldest || hub.placesEnd < oldest.placesEnd)) oldest = hub;
    if (!oldest) return false;
    void oldest.close();
    return true;
  }

  /** The shared hubs open now. */
  shared(): IterableIterator<Hub> {
    return this.byKey.values();
  }

  resumeStats(): ResumeStats {
    const stats: ResumeStats = { lingering: 0, keptEnded: 0, bufferedEvents: 0, bufferedBytes: 0 };
    for (const hub of this.byEpoch.values()) {
      if (hub.lingering) stats.lingering++;
      if (hub.keptForPlaces) stats.keptEnded++;
      stats.bufferedEvents += hub.log!.size;
      stats.bufferedBytes += hub.log!.byteSize;
    }
    return stats;
  }

  /** Ends every hub kept for resuming clients (the gateway is stopping): upstream subscriptions, timers, logs. */
  dispose(): void {
    for (const hub of [...this.byEpoch.values()]) void hub.close();
    for (const hub of [...this.byKey.values()]) void hub.close();
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

  forgotten(hub: Hub): void {
    if (hub.epoch !== undefined && this.byEpoch.get(hub.epoch) === hub) this.byEpoch.delete(hub.epoch);
  }
}
