/**
 * The example's operations, typed for the client and the hook. Written by
 * hand from persisted-operations/*.graphql; a generated map (`npm run
 * register` with types) has the same shape and replaces this file.
 */
type Symbol = 'ACME' | 'GLOBEX' | 'INITECH' | 'UMBRELLA';

export interface Tick {
  symbol: Symbol;
  price: number;
  change: number;
  at: number;
}

export interface ChatMessage {
  id: string;
  author: string;
  text: string;
  at: number;
}

export interface Operations {
  Clock: { variables: { intervalMs?: number }; result: { clock: { iso: string; epochMs: number } } };
  Counter: { variables: { room: string }; result: { counter: number } };
  Ticks: { variables: { filter: { symbols: Symbol[]; everyMs?: number } }; result: { ticks: Tick } };
  Chat: { variables: { room: string }; result: { chat: ChatMessage } };
}

export type { Symbol };

declare module 'subway/client' {
  interface Register {
    operations: Operations;
  }
}
