/**
 * Compile-time checks of the registration in ./subway.ts (`npm run typecheck`
 * compiles the demo with `tsc -p demo`); never imported at run time. Every
 * `@ts-expect-error` must meet an error. The generated map's own types (each
 * variable, ids, aliases, mutations) are checked in test/types/operations.typecheck.ts.
 */
import { subscribe } from '@subway-sse/client';
import { useSubscription } from '@subway-sse/client/react';

export function Checks() {
  // The hook, typed by the registered map.
  const { data } = useSubscription('Clock', { intervalMs: 1000 });
  const iso: string | undefined = data?.clock.iso;
  // @ts-expect-error: intervalMs is an Int
  useSubscription('Clock', { intervalMs: 'x' });
  // @ts-expect-error: the result is typed (`clock.iso` is a string)
  const n: number | undefined = data?.clock.iso;
  // By id, the same types as by name.
  const byId = useSubscription('sha256:8de0634c5ada5e5b9597068a4f3d70456b557fe51eacf4e5eed0b68cb765f649', { room: 'lobby' });
  const counter: number | undefined = byId.data?.counter;
  // @ts-expect-error: an operation that is not registered
  useSubscription('Nope', {});

  // The plain client, typed by the same registration.
  subscribe('Ticks', { filter: { symbols: ['ACME'] } }, { next: ({ data }) => void data?.ticks.price.toFixed(2) });
  // @ts-expect-error: Ticks takes a `filter: TickFilter!`, not a `symbol`
  subscribe('Ticks', { symbol: 'X' }, { next() {} });
  return [iso, n, counter];
}
