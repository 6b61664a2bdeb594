/**
 * Which subprotocol a new upstream socket offers. `auto` offers both
 * `graphql-transport-ws` and the legacy `graphql-ws` on one upgrade and speaks
 * the one the server selects; a server that takes the first offered one and
 * then refuses it (before its `connection_ack`) is asked once more offering
 * only the other. What worked after such a fallback is remembered per upstream
 * URL and offered alone next time, until a connection offering it alone fails
 * before its `connection_ack` (the upstream may have been redeployed).
 */
import { LEGACY_WS, TRANSPORT_WS } from './socket.ts';
import type { UpstreamSettings } from './options.ts';

/** Close codes by which a server rejects the subprotocol it was given. */
export const PROTOCOL_REJECTED: ReadonlySet<number> = new Set([1002, 4406]);

export const otherProtocol = (protocol: string): string => (protocol === TRANSPORT_WS ? LEGACY_WS : TRANSPORT_WS);

/** The subprotocols a new socket offers. */
export function offerFor(settings: UpstreamSettings): string[] {
  switch (settings.protocol) {
    case 'graphql-transport-ws':
      return [TRANSPORT_WS];
    case 'subscriptions-transport-ws':
      return [LEGACY_WS];
    default: {
      const known = settings.memory.get(settings.url);
      return known ? [known] : [TRANSPORT_WS, LEGACY_WS];
    }
  }
}

/** A socket offering `offer` was acknowledged: a lone `auto` offer (a fallback) is worth remembering. */
export function learned(settings: UpstreamSettings, offer: readonly string[]): void {
  if (settings.protocol === 'auto' && offer.length === 1) settings.memory.set(settings.url, offer[0]!);
}

/** A socket offering `offer` failed before its acknowledgement: what was learned may be stale. */
export function forget(settings: UpstreamSettings, offer: readonly string[]): void {
  if (settings.protocol === 'auto' && offer.length === 1) settings.memory.delete(settings.url);
}
