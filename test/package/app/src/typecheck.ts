// Compile-time checks, under the app's own settings, of the registration in
// ./subway.ts: every @ts-expect-error must meet an error. Never imported.
import { createClient, subscribe, type ResultOf, type VariablesOf } from '@subway-sse/client';
import { useSubscription } from '@subway-sse/client/react';

export function checks(): void {
  const price: number | undefined = useSubscription('Ticks', { symbol: 'A' }).data?.ticks.price;
  // @ts-expect-error: `symbol` is a String
  useSubscription('Ticks', { symbol: 1 });
  // @ts-expect-error: a required variable is missing
  useSubscription('Ticks', {});
  // @ts-expect-error: no such operation in graphql/
  useSubscription('Clock', {});
  const stop = subscribe('Hello', {}, { next: ({ data }) => void data?.hello.toUpperCase() });
  // Options an app builds from possibly-undefined values (exactOptionalPropertyTypes).
  const url: string | undefined = undefined;
  createClient({ url, withCredentials: undefined, retryMs: 500 });
  const variables: VariablesOf<'Ticks'> = { symbol: 'B' };
  const result: ResultOf<'Ticks'> = { ticks: { symbol: 'B', price: 1 } };
  void [price, stop, variables, result];
}
