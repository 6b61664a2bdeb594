/**
 * Who a client is, for the per-client limit. The peer address comes from the
 * runtime; behind a proxy or CDN every client shares the proxy's address, so
 * a forwarded header is read instead, but only when the operator names it
 * (anyone can send `X-Forwarded-For`).
 */

/**
 * The client's address: the last value of `trustHeader` when one is configured
 * (the hop the trusted proxy appended), else the peer address the runtime saw.
 */
export function clientAddress(headers: Headers, peer: string | undefined, trustHeader: string | undefined): string | undefined {
  if (trustHeader) {
    const raw = headers.get(trustHeader);
    const last = raw?.split(',').map((v) => v.trim()).filter((v) => v !== '').at(-1);
    // The proxy did not set it: fall back to the peer, which is then the proxy itself.
    if (last !== undefined) return normalise(last);
  }
  return peer === undefined ? undefined : normalise(peer);
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function normalise(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}
