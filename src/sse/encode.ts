/**
 * Server-sent event frames of the GraphQL over SSE protocol, distinct
 * connections mode: `event: next` with one `data:` line of JSON per result,
 * `event: complete` with an empty `data:` line at the end.
 */
const encoder = new TextEncoder();

/** A comment line: flushes bytes through proxies without dispatching an event. */
export const COMMENT = encoder.encode(':\n\n');
export const COMPLETE = encoder.encode('event: complete\ndata:\n\n');

/** `event: next` with the JSON text of one execution result. `json` must hold no raw newline (JSON.stringify never emits one). */
export function nextFrame(json: string): Uint8Array {
  return encoder.encode(`event: next\ndata: ${json}\n\n`);
}

/** A comment that says why, then the reconnection delay EventSource will wait before it retries. */
export function retryFrame(reason: string, retryMs: number): Uint8Array {
  return encoder.encode(`: ${reason.replace(/[\r\n]+/g, ' ')}\nretry: ${Math.max(0, Math.round(retryMs))}\n\n`);
}
