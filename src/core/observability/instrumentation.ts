/**
 * Lifecycle events the core reports, so runtimes can count and log without
 * the core knowing how (prom-client and JSON lines on Node, whatever a Worker
 * has). Every hook is optional and called synchronously; a hook that throws
 * is reported to `onInternalError` and never breaks a stream.
 */
import type { SourceFailureReason } from '../operations/source.ts';

/** Why a stream ended, as logs and metrics name it. */
export type StreamEndReason =
  /** The upstream completed the operation. */
  | 'complete'
  /** The upstream sent errors for the operation (validation, auth on subscribe), then it ended. */
  | 'upstream-errors'
  /** The upstream closed with a code a retry will not fix (44xx, protocol error). */
  | 'upstream-fatal'
  /** The upstream could not be reached or dropped the connection: the client was told to retry. */
  | 'upstream-unavailable'
  /** The client went away. */
  | 'client-gone'
  /** The client stopped reading and its queue filled up. */
  | 'slow-consumer'
  /** The gateway shut down. */
  | 'shutdown'
  /** The stream carried its `maxStreamEvents` and was ended with a short `retry:` (the client comes straight back). */
  | 'budget'
  /** The credential the `connectionParams` hook read expired: the client was told to come straight back. */
  | 'credential-expired';

/** What became of a request that resumed from an event id (docs/resume.md), and why when it was a gap. */
export type ResumeOutcome =
  | { outcome: 'replayed'; events: number }
  | { outcome: 'gap'; reason: 'unknown' | 'mismatch' | 'evicted' };

export interface StreamInfo {
  /** A per-gateway sequence number, to pair start and end lines. */
  id: number;
  /** The operation's name. */
  operation: string;
  /** The client key the limits used (an address, or the `clientKey` hook's value), if any. */
  client: string | undefined;
  /** The variables as sent; loggers must leave them out unless the operator asked for them. */
  variables: Record<string, unknown>;
  /** Set when the request resumed from an event id (`Last-Event-ID`, `lastEventId`). */
  resume?: ResumeOutcome;
}

export interface StreamEndInfo extends StreamInfo {
  reason: StreamEndReason;
  /** From the 200 to the end, in milliseconds. */
  durationMs: number;
  /** `next` events sent. */
  events: number;
  /** Bytes sent, SSE framing included. */
  bytes: number;
}

/** What became of one load of an operation source (see src/core/operations/live.ts). */
export type OperationSourceEvent =
  /** A new version was validated and is served from now on. */
  | { outcome: 'loaded'; source: string; operations: number; total: number }
  /** Checked: the served version is current (HTTP 304, the same text). */
  | { outcome: 'unchanged'; source: string; total: number }
  /** Could not be read, or was refused; the last good list stays. */
  | { outcome: 'failed'; source: string; reason: SourceFailureReason; error: string; total: number };

export interface Instrumentation {
  /** A stream was accepted (the 200 is going out). */
  onStreamStart?(info: StreamInfo): void;
  /** A stream ended; called once per started stream. */
  onStreamEnd?(info: StreamEndInfo): void;
  /**
   * One upstream result was encoded as a frame of `bytes` bytes, once, and
   * handed to `deliveries` client streams (more than one where an upstream
   * subscription is shared; 0 when nobody took it).
   */
  onFrame?(operation: string, bytes: number, deliveries: number): void;
  /** A request was refused with this status and error code. */
  onRejection?(code: string, status: number): void;
  /** An upstream socket completed its handshake. */
  onUpstreamOpen?(): void;
  /** An upstream socket that had completed its handshake is gone. */
  onUpstreamClose?(): void;
  /** An upstream connection failed or closed abnormally; `kind` is `fatal` or `transient`. */
  onUpstreamError?(kind: 'fatal' | 'transient', closeCode: number | undefined): void;
  /** An operation source was loaded, checked, or failed; `total` is the number of operations served after it. */
  onOperationSource?(event: OperationSourceEvent): void;
}

/** Calls every instrumentation in order. */
export function combineInstrumentation(...all: (Instrumentation | undefined)[]): Instrumentation {
  const list = all.filter((i): i is Instrumentation => i !== undefined);
  const each = <K extends keyof Instrumentation>(key: K) =>
    ((...args: unknown[]) => {
      for (const i of list) (i[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
    }) as NonNullable<Instrumentation[K]>;
  return {
    onStreamStart: each('onStreamStart'),
    onStreamEnd: each('onStreamEnd'),
    onFrame: each('onFrame'),
    onRejection: each('onRejection'),
    onUpstreamOpen: each('onUpstreamOpen'),
    onUpstreamClose: each('onUpstreamClose'),
    onUpstreamError: each('onUpstreamError'),
    onOperationSource: each('onOperationSource'),
  };
}
