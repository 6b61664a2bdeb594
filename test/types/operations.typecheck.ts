/**
 * The type test of the generated operation map (persisted-operations/operations.ts)
 * as the real client takes it: `npm test` runs `tsc --noEmit` over this file,
 * and every `@ts-expect-error` below must meet an error, so a wrong call fails
 * to compile. Nothing here runs. This file types a client with
 * `createClient<Operations, OperationIds>()`; demo/src/typecheck.ts checks the
 * other way in, the `Register` augmentation the demo uses, and the hook.
 */
import { createClient, type Sink } from '../../src/client/index.ts';
import type { OperationIds, Operations } from '../../persisted-operations/operations.ts';

const client = createClient<Operations, OperationIds>({ url: 'https://gateway.example/graphql' });
const { subscribe } = client;
const ignore: Sink<unknown> = { next() {} };

export function variables(): void {
  subscribe('Ticks', { filter: { symbols: ['ACME', 'GLOBEX'], everyMs: 250 } }, ignore);
  subscribe('Clock', {}, ignore);
  subscribe('Clock', { intervalMs: 1000 }, ignore);
  subscribe('Chat', { room: 'lobby' }, ignore);
  subscribe('ServerInfo', {}, ignore);

  // @ts-expect-error: Ticks takes a `filter: TickFilter!`, not a `symbol`
  subscribe('Ticks', { symbol: 'X' }, ignore);
  // @ts-expect-error: a symbol that is not in the enum
  subscribe('Ticks', { filter: { symbols: ['NOPE'] } }, ignore);
  // @ts-expect-error: a required variable is missing
  subscribe('Chat', {}, ignore);
  // @ts-expect-error: a variable of the wrong type
  subscribe('Chat', { room: 42 }, ignore);
  // @ts-expect-error: an undeclared variable
  subscribe('Chat', { room: 'lobby', extra: true }, ignore);
  // @ts-expect-error: no such operation
  subscribe('Nope', {}, ignore);
  // @ts-expect-error: a mutation is registered, but the gateway never runs one over GET (EventSource)
  subscribe('SendMessage', { room: 'lobby', author: 'a', text: 'b' }, ignore);
}

export function ids(): void {
  // By id, in both forms: the same types as by name.
  subscribe('074fd0890430db4f4069c8813da9b27cd82ed19b730a63189e68a54a3f545bd6', { filter: { symbols: ['ACME'] } }, ignore);
  subscribe('sha256:64fec72ed8ca37df5d4abd1a9b1531b5014789ca11983b5d5f01a36e09b01e2c', { intervalMs: 5 }, ignore);
  // @ts-expect-error: by id, Ticks still takes a `filter`
  subscribe('sha256:074fd0890430db4f4069c8813da9b27cd82ed19b730a63189e68a54a3f545bd6', { symbol: 'X' }, ignore);
  // @ts-expect-error: an id of an operation that is not registered
  subscribe(`sha256:${'0'.repeat(64)}`, {}, ignore);
  // @ts-expect-error: the mutation's id is left out as its name is
  subscribe('sha256:9a9cde4d575f270b8c5f72ec11cc10c397155eac74c1674345b718874d175be7', { room: 'lobby', author: 'a', text: 'b' }, ignore);

  // An alias (`register --import` writes one into OperationIds per foreign id) types like the name.
  interface WithAlias extends OperationIds {
    '56acae5bfefad00898456d597d014fc0': 'Ticks';
  }
  const aliased = createClient<Operations, WithAlias>();
  aliased.subscribe('56acae5bfefad00898456d597d014fc0', { filter: { symbols: ['INITECH'] } }, ignore);
  // @ts-expect-error: by alias, Ticks still takes a `filter`
  aliased.subscribe('56acae5bfefad00898456d597d014fc0', { symbol: 'X' }, ignore);
}

export function results(): void {
  subscribe('Clock', {}, {
    next({ data }) {
      if (!data) return;
      const iso: string = data.clock.iso;
      const epochMs: number = data.clock.epochMs;
      // @ts-expect-error: not a field of the Clock operation's selection
      void data.clock.timezone;
      void iso;
      void epochMs;
    },
  });
  subscribe('sha256:074fd0890430db4f4069c8813da9b27cd82ed19b730a63189e68a54a3f545bd6', { filter: { symbols: ['ACME'] } }, {
    next({ data }) {
      // @ts-expect-error: `symbol` is the Symbol enum, not any string
      const symbol: 'NOPE' | undefined = data?.ticks.symbol;
      void symbol;
    },
  });
  // @ts-expect-error: the sink gets the Clock's data, not the Counter's
  subscribe('Clock', {}, { next: ({ data }: { data?: { counter: number } | null }) => void data });
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
