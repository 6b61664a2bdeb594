/**
 * The sharing keys, as digests (SHA-256 hex, Web Crypto): what identifies a
 * shareable upstream socket and a shareable upstream subscription without
 * holding credentials as map keys, and what a Durable Object can be named by
 * (`idFromName`), never the raw credentials.
 *
 * - A socket key covers the exact `connection_init` payload and the headers
 *   sent on the upgrade: two different credentials never share a socket.
 * - A subscription key covers the socket key, the operation's id and its
 *   variables after coercion, serialised with object keys in canonical
 *   (sorted) order: `{"a":1,"b":2}` and `{"b":2,"a":1}` are one subscription.
 */
import { sha256Text } from '../operations/safelist.ts';

/** JSON with every object's keys sorted; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The key of a shareable socket: the exact `connection_init` payload and the upgrade's headers. */
export function socketKey(connectionParams: Record<string, unknown> | undefined, upgradeHeaders: Record<string, string> | undefined): Promise<string> {
  return sha256Text(`subway/socket\n${JSON.stringify(connectionParams ?? null)}\n${JSON.stringify(upgradeHeaders ?? null)}`);
}

/** The key of a shareable subscription: its socket's key, the operation, and the coerced variables. */
export function subscriptionKey(socket: string, operationId: string, coercedVariables: Record<string, unknown>): Promise<string> {
  return sha256Text(`subway/subscription\n${socket}\n${operationId}\n${canonicalJson(coercedVariables)}`);
}
