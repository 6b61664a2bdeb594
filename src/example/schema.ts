/**
 * The embedded example upstream's schema: a few live subscriptions that show
 * the gateway working with no configuration (`npm start` without UPSTREAM_URL).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLFieldConfig, type GraphQLSchema } from 'graphql';
import { channel } from './channel.ts';

/** The example's SDL; `npm run register -- --schema src/example/schema.graphql` validates against it. */
export const exampleTypeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

const ROOMS = ['lobby', 'dev', 'ops'];
const BOT_LINES = ['Hello from the example upstream.', 'Each line here is an SSE event.', 'Close the tab and the upstream sees `complete`.', 'HTTP/2 carries every subscription on one connection.'];

export function createExampleSchema(): GraphQLSchema {
  const schema = buildSchema(exampleTypeDefs);
  const startedAt = new Date().toISOString();
  const chat = new EventEmitter().setMaxListeners(0);
  let messageId = 0;
  const counters = new Map<string, number>();

  const sub = (name: string, config: Pick<GraphQLFieldConfig<unknown, unknown>, 'subscribe'>) => {
    const field = schema.getSubscriptionType()!.getFields()[name]!;
    field.subscribe = config.subscribe;
    field.resolve = (payload) => payload;
  };
  const send = (room: string, author: string, text: string) => {
    const message = { id: String(++messageId), room, author, text, at: Date.now() };
    chat.emit(room, message);
    return message;
  };

  schema.getQueryType()!.getFields().serverInfo!.resolve = () => ({ name: 'subway example upstream', startedAt, rooms: ROOMS });
  schema.getMutationType()!.getFields().sendMessage!.resolve = (_, args) => send(String(args.room), String(args.author), String(args.text));

  sub('clock', {
    subscribe: (_, { intervalMs }) =>
      channel((push) => {
        const tick = () => {
          const now = Date.now();
          push({ iso: new Date(now).toISOString(), epochMs: now });
        };
        tick();
        const timer = setInterval(tick, Math.max(100, Number(intervalMs)));
        return () => clearInterval(timer);
      }),
  });
  sub('counter', {
    subscribe: (_, { room }) =>
      channel((push) => {
        const key = String(room);
        const step = () => {
          const n = (counters.get(key) ?? 0) + 1;
          counters.set(key, n);
          push(n);
        };
        step();
        const timer = setInterval(step, 1000);
        return () => clearInterval(timer);
      }),
  });
  sub('ticks', {
    subscribe: (_, { filter }) =>
      channel((push) => {
        const { symbols, everyMs } = filter as { symbols: string[]; everyMs: number };
        const prices = new Map(symbols.map((s) => [s, 100]));
        const timer = setInterval(() => {
          for (const symbol of symbols) {
            const price = prices.get(symbol)!;
            const next = Math.max(1, Math.round((price + (Math.random() - 0.5) * 2) * 100) / 100);
            prices.set(symbol, next);
            push({ symbol, price: next, change: Math.round((next - price) * 100) / 100, at: Date.now() });
          }
        }, Math.max(50, everyMs));
        return () => clearInterval(timer);
      }),
  });
  sub('chat', {
    subscribe: (_, { room }) =>
      channel((push) => {
        const key = String(room);
        chat.on(key, push);
        let line = 0;
        const bot = setInterval(() => send(key, 'bot', BOT_LINES[line++ % BOT_LINES.length]!), 4000);
        return () => {
          chat.off(key, push);
          clearInterval(bot);
        };
      }),
  });
  return schema;
}
