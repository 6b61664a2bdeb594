/**
 * Server-sent event frames of the GraphQL over SSE protocol, distinct
 * connections mode: `event: next` with one `data:` line of JSON per result,
 * `event: complete` with an empty `data:` line at the end.
 *
 * Frames are made as text; the Web stream path encodes each one to UTF-8
 * (`encodeFrame`), a runtime that writes strings to its socket (Node's direct
 * writer, src/node/serve.ts) hands the text over and lets the socket encode it.
 */
const encoder = new TextEncoder();

/** A comment line: flushes bytes through proxies without dispatching an event. */
export const COMMENT_TEXT = ':\n\n';
export const COMPLETE_TEXT = 'event: complete\ndata:\n\n';
export const COMMENT = encoder.encode(COMMENT_TEXT);

/** `event: next` with the JSON text of one execution result. `json` must hold no raw newline (JSON.stringify never emits one). */
export function nextFrameText(json: string): string {
  return `event: next\ndata: ${json}\n\n`;
}

/** A comment that says why, then the reconnection delay EventSource will wait before it retries. */
export function retryFrameText(reason: string, retryMs: number): string {
  return `: ${reason.replace(/[\r\n]+/g, ' ')}\nretry: ${Math.max(0, Math.round(retryMs))}\n\n`;
}

/** UTF-8 bytes of a frame, for a `ReadableStream<Uint8Array>`. */
export function encodeFrame(frame: string): Uint8Array {
  return encoder.encode(frame);
}
