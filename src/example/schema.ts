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
  const counters = new Map<string, { n: number; listeners: Set<(n: number) => void>; timer: ReturnType<typeof setInterval> | undefined; idleSince: number | undefined }>();

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
  // One count per room, a step a second: every subscriber sees the same numbers, each once, so a hole in a page's
  // counter is an event that page missed (the demo's network cut shows it). While nobody listens the room keeps no
  // timer, and catches up with the seconds that passed when someone comes back.
  sub('counter', {
    subscribe: (_, { room }) =>
      channel((push) => {
        const key = String(room);
        const shared = counters.get(key) ?? { n: 0, listeners: new Set<(n: number) => void>(), timer: undefined, idleSince: undefined };
        counters.set(key, shared);
        const step = () => {
          shared.n++;
          for (const listener of shared.listeners) listener(shared.n);
        };
        shared.listeners.add(push);
        if (shared.timer === undefined) {
          if (shared.idleSince !== undefined) shared.n += Math.floor((Date.now() - shared.idleSince) / 1000);
          step();
          shared.timer = setInterval(step, 1000);
        } else {
          push(shared.n);
        }
        return () => {
          shared.listeners.delete(push);
          if (shared.listeners.size > 0) return;
          clearInterval(shared.timer);
          shared.timer = undefined;
          shared.idleSince = Date.now();
        };
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
