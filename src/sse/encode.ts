/**
 * Server-sent event frames of the GraphQL over SSE protocol, distinct
 * connections mode: `event: next` with one `data:` line of JSON per result,
 * `event: complete` with an empty `data:` line at the end.
 *
 * Frames are text: a runtime that writes strings to its socket (Node) encodes
 * each frame once, into its own buffer; the Web stream path encodes with
 * `encodeFrame`.
 */
const encoder = new TextEncoder();

/** A comment line: flushes bytes through proxies without dispatching an event. */
export const COMMENT = ':\n\n';
export const COMPLETE = 'event: complete\ndata:\n\n';

/** `event: next` with the JSON text of one execution result. `json` must hold no raw newline (JSON.stringify never emits one). */
export function nextFrame(json: string): string {
  return `event: next\ndata: ${json}\n\n`;
}

/** A comment that says why, then the reconnection delay EventSource will wait before it retries. */
export function retryFrame(reason: string, retryMs: number): string {
  return `: ${reason.replace(/[\r\n]+/g, ' ')}\nretry: ${Math.max(0, Math.round(retryMs))}\n\n`;
}

/** UTF-8 bytes of a frame, for a `ReadableStream<Uint8Array>`. */
export function encodeFrame(frame: string): Uint8Array {
  return encoder.encode(frame);
}
