/** Compile-time checks of the typed hook (`npm run typecheck`); never imported at run time. */
import { useSubscription } from 'subway/react';
import './operations.ts';

export function Checks() {
  const { data } = useSubscription('Counter', { room: 'lobby' });
  const n: number | undefined = data?.counter;
  // @ts-expect-error a wrong variable type fails to compile
  useSubscription('Counter', { room: 1 });
  // @ts-expect-error an unknown operation fails to compile
  useSubscription('Nope', {});
  // @ts-expect-error the result is typed
  const s: string | undefined = data?.counter;
  return [n, s];
}
