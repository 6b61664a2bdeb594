/**
 * The type test of the generated operation map (persisted-operations/operations.ts):
 * `npm test` runs `tsc --noEmit` over this file, and every `@ts-expect-error`
 * below must meet an error, so a typed client's wrong call fails to compile.
 * Nothing here runs.
 */
import type { OperationKey, OperationOf, Operations } from '../../persisted-operations/operations.ts';

/** The shape a typed client (`subway/client`) gives `subscribe`. */
declare function subscribe<K extends OperationKey>(operation: K, variables: OperationOf<K>['variables']): AsyncIterable<OperationOf<K>['result']>;

export async function typed(): Promise<void> {
  subscribe('Ticks', { filter: { symbols: ['ACME', 'GLOBEX'], everyMs: 250 } });
  subscribe('Clock', {});
  subscribe('Clock', { intervalMs: 1000 });
  subscribe('Chat', { room: 'lobby' });
  // By id, in both forms: the same types as by name.
  subscribe('074fd0890430db4f4069c8813da9b27cd82ed19b730a63189e68a54a3f545bd6', { filter: { symbols: ['ACME'] } });
  subscribe('sha256:64fec72ed8ca37df5d4abd1a9b1531b5014789ca11983b5d5f01a36e09b01e2c', { intervalMs: 5 });

  // @ts-expect-error: Ticks takes a `filter`, not a `symbol`
  subscribe('Ticks', { symbol: 'X' });
  // @ts-expect-error: a symbol that is not in the enum
  subscribe('Ticks', { filter: { symbols: ['NOPE'] } });
  // @ts-expect-error: a required variable is missing
  subscribe('Chat', {});
  // @ts-expect-error: a variable of the wrong type
  subscribe('Chat', { room: 42 });
  // @ts-expect-error: an undeclared variable
  subscribe('Chat', { room: 'lobby', extra: true });
  // @ts-expect-error: no such operation
  subscribe('Nope', {});
  // @ts-expect-error: an id of an operation that is not registered
  subscribe(`sha256:${'0'.repeat(64)}`, {});

  for await (const result of subscribe('Clock', {})) {
    const iso: string = result.clock.iso;
    const epochMs: number = result.clock.epochMs;
    // @ts-expect-error: not a field of the Clock operation's selection
    void result.clock.timezone;
    void iso;
    void epochMs;
  }
  for await (const result of subscribe('Ticks', { filter: { symbols: ['ACME'] } })) {
    // @ts-expect-error: `symbol` is the Symbol enum, not any string
    const symbol: 'NOPE' = result.ticks.symbol;
    void symbol;
  }
}

/** The map's entries carry the id and the kind too. */
export const kinds: { [K in keyof Operations]: Operations[K]['type'] } = {
  Chat: 'subscription',
  Clock: 'subscription',
  Counter: 'subscription',
  SendMessage: 'mutation',
  ServerInfo: 'query',
  Ticks: 'subscription',
};
