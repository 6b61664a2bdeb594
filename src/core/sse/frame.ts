/**
 * One SSE frame, made once and shared by every stream it goes to: a shared
 * upstream subscription encodes each result as one `Frame` and hands the same
 * object to all of its subscribers, whose queues hold references to it, never
 * copies. The text is what a writer that takes strings writes; its UTF-8
 * bytes are made on first use and kept, so a thousand readers of one frame
 * cost one encoding.
 */
import { COMMENT_TEXT, COMPLETE_TEXT, nextFrameText, retryFrameText } from './encode.ts';

const encoder = new TextEncoder();
/** Scratch space for measuring text without keeping its bytes (grown on demand). */
let scratch = new Uint8Array(64 * 1024);

/** UTF-8 length of `text`, in bytes, measured natively without allocating. */
export function utf8Length(text: string): number {
  // One UTF-16 unit encodes to at most 3 bytes.
  if (text.length * 3 > scratch.length) {
    if (text.length * 3 > 16 * 1024 * 1024) return encoder.encode(text).byteLength;
    scratch = new Uint8Array(text.length * 3);
  }
  return encoder.encodeInto(text, scratch).written;
}

export class Frame {
  /** The whole SSE frame, terminating blank line included. */
  readonly text: string;
  /** A `next` event (counted against the per-stream event bound), or framing (comments, `complete`, `retry`). */
  readonly event: boolean;
  /** Its UTF-8 length, in bytes. */
  readonly size: number;
  /**
   * Its position in its upstream subscription's sequence of events (1, 2, …),
   * or 0 for framing. The frame log (src/core/hub/log.ts) is ordered by it.
   */
  readonly seq: number;
  /** Whether more than one stream may hold it (writers then prefer its shared bytes to re-encoding the text). */
  shared = false;
  private utf8: Uint8Array | undefined;

  constructor(text: string, event: boolean, seq = 0) {
    this.text = text;
    this.event = event;
    this.seq = seq;
    this.size = utf8Length(text);
  }

  /** The UTF-8 bytes, made once. */
  bytes(): Uint8Array {
    return (this.utf8 ??= encoder.encode(this.text));
  }
}

/** `event: next` with the JSON text of one result (and its `id:` line, if any); neither may hold a raw line break. */
export const nextFrame = (json: string, seq = 0, id?: string): Frame => new Frame(nextFrameText(json, id), true, seq);

/** The reconnection hint that ends a stream without `complete`. */
export const retryFrame = (reason: string, retryMs: number): Frame => new Frame(retryFrameText(reason, retryMs), false);

/** The first bytes of every stream, and the heartbeat: a comment. */
export const COMMENT_FRAME = new Frame(COMMENT_TEXT, false);
export const COMPLETE_FRAME = new Frame(COMPLETE_TEXT, false);
COMMENT_FRAME.shared = true;
COMPLETE_FRAME.shared = true;
