/**
 * What of the client's request reaches the upstream: only the headers on the
 * operator's allow-list, in the graphql-ws `connection_init` payload as
 * `{"headers": {...}}` (and, where the runtime can, on the upgrade request),
 * or whatever the operator's `connectionParams` hook returns instead.
 */

/** Headers of `request` named in `allowList` (lower-case names), in list order; absent ones are left out. */
export function pickHeaders(headers: Headers, allowList: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of allowList) {
    const value = headers.get(name);
    if (value !== null) picked[name] = value;
  }
  return picked;
}

/**
 * Headers a gateway never forwards even when listed: they describe the hop to
 * the gateway, or the WebSocket handshake the upstream connection makes itself.
 */
export const NEVER_FORWARDED = new Set([
  'host', 'connection', 'upgrade', 'content-length', 'transfer-encoding', 'keep-alive', 'te', 'trailer',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions',
]);
