/**
 * Server-sent event frames of the GraphQL over SSE protocol, distinct
 * connections mode, as text: `event: next` with one `data:` line of JSON per
 * result, `event: complete` with an empty `data:` line at the end. A frame
 * is made once (src/core/sse/frame.ts) and written as text or as its UTF-8
 * bytes by whichever view reads the stream.
 */

/** A comment line: flushes bytes through proxies without dispatching an event. */
export const COMMENT_TEXT = ':\n\n';
export const COMPLETE_TEXT = 'event: complete\ndata:\n\n';

/**
 * `event: next` with the JSON text of one execution result, and an `id:` line
 * when given one (what EventSource sends back as `Last-Event-ID`). `json` must
 * hold no raw line break (JSON.stringify never emits one); `id` neither.
 */
export function nextFrameText(json: string, id?: string): string {
  return id === undefined ? `event: next\ndata: ${json}\n\n` : `id: ${id}\nevent: next\ndata: ${json}\n\n`;
}

/** A comment that says why, then the reconnection delay EventSource will wait before it retries. */
export function retryFrameText(reason: string, retryMs: number): string {
  return `: ${reason.replace(/[\r\n]+/g, ' ')}\nretry: ${Math.max(0, Math.round(retryMs))}\n\n`;
}
