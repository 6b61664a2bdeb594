/**
 * The opt-out from sharing, read from the registered document itself: a
 * comment line `# subway: unshared` in the operation's `.graphql` file
 * (conventionally right above it) says its results depend on per-connection
 * state the gateway cannot see, so it is served as in `UPSTREAM_SHARING=off`:
 * its own upstream socket and its own upstream subscription, whatever the
 * mode. Being part of the document, the marker is covered by its id (the
 * SHA-256 of the exact text), needs no change to the manifest, and travels
 * with the operation to every gateway that serves it.
 *
 * ```graphql
 * # subway: unshared
 * subscription MyNotifications { notifications { id text } }
 * ```
 */
import type { RegisteredOperation } from './registry.ts';

const MARKER = /^[ \t]*#[ \t]*subway:[ \t]*unshared[ \t]*$/m;
const known = new WeakMap<RegisteredOperation, boolean>();

/** Whether the operation's document opts out of sharing. */
export function isUnshared(op: RegisteredOperation): boolean {
  let unshared = known.get(op);
  if (unshared === undefined) known.set(op, (unshared = MARKER.test(op.body)));
  return unshared;
}
