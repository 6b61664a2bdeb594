/**
 * Whether an operation can be sent upstream at all, checked once before a
 * socket opens. The upstream client serialises the `subscribe` message inside
 * graphql-ws, where a failure (a stack overflow on variables nested a few
 * thousand levels deep, a cycle, a `BigInt` from a `connectionParams` hook)
 * cannot be caught: it rejected a promise no one awaited, and Node exits on
 * that. Here the same serialisation is tried first, where its error is caught
 * and reported as the subscription's end, and the depth is bounded well
 * below what any serialiser's stack allows. (The gateway refuses deep
 * variables long before this, with a 400; this guards every other caller.)
 */

/** Deepest nesting sent upstream: far above any request the gateway admits, far below a stack overflow. */
export const MAX_SENDABLE_DEPTH = 1000;

/** Whether `value` nests objects and arrays deeper than `limit`; iterative, so it cannot overflow itself. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Why the operation cannot be sent (a message for the client), or `undefined` when it can. */
export function unsendable(operation: { variables: unknown; connectionParams?: unknown }): string | undefined {
  if (deeperThan(operation.variables, MAX_SENDABLE_DEPTH) || deeperThan(operation.connectionParams, MAX_SENDABLE_DEPTH)) {
    return `The operation could not be sent upstream: it nests more than ${MAX_SENDABLE_DEPTH} levels deep.`;
  }
  try {
    JSON.stringify(operation);
    return undefined;
  } catch {
    return 'The operation could not be sent upstream: it cannot be serialised as JSON.';
  }
}
