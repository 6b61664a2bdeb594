/**
 * Who a client is, for the per-client limit. The peer address comes from the
 * runtime; behind a proxy or CDN every client shares the proxy's address, so
 * a forwarded header is read instead, but only when the operator names it
 * (anyone can send `X-Forwarded-For`). Either way the address is normalised
 * (src/core/limits/ip.ts): a port does not make another client, and an IPv6
 * address counts by its network prefix.
 */
import { DEFAULTS } from '../defaults.ts';
import { addressKey } from './ip.ts';

/**
 * The client's address as a key: the last value of `trustHeader` when one is
 * configured (the hop the trusted proxy appended), else the peer address the
 * runtime saw; IPv6 addresses by their first `ipv6Prefix` bits.
 */
export function clientAddress(
  headers: Headers,
  peer: string | undefined,
  trustHeader: string | undefined,
  ipv6Prefix: number = DEFAULTS.clientIpv6Prefix,
): string | undefined {
  if (trustHeader) {
    const raw = headers.get(trustHeader);
    const last = raw?.split(',').map((v) => v.trim()).filter((v) => v !== '').at(-1);
    // The proxy did not set it: fall back to the peer, which is then the proxy itself.
    if (last !== undefined) return addressKey(last, ipv6Prefix);
  }
  return peer === undefined ? undefined : addressKey(peer, ipv6Prefix);
}
