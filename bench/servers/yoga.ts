/**
 * The peer: GraphQL Yoga serving GraphQL over SSE (GET, distinct connections
 * mode) in front of the same graphql-ws upstream, through a schema whose
 * subscription opens one graphql-ws client (one socket, per-message deflate
 * off) per subscription, as subway does by default, and re-executes each
 * upstream result.
 *
 * `--pooled`: Yoga's pooled set-up for the sharing scenarios: one graphql-ws
 * client for every subscription, so every subscription is multiplexed on one
 * upstream socket (what graphql-ws's client does with all its operations).
 * Neither Yoga nor graphql-ws deduplicates identical subscriptions: each is
 * still its own upstream subscription.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { createSchema, createYoga } from 'graphql-yoga';
import WebSocket from 'ws';
import { BENCH_OPERATION, benchTypeDefs } from '../schema.ts';
import { ready, serverArgs } from './common.ts';

const { upstream, tls, pooled } = serverArgs();

class NoDeflateWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false });
  }
}

type Event = { seq: number; sentAt: number; payload: string };

/**
 * An iterator rather than an async generator: a generator parked in `await`
 * (an idle subscription) would only see Yoga's `return()` after the next
 * event, and would keep its upstream socket open after the client left.
 */
/** The one client of `--pooled` (it connects with its first subscription and closes 1 s after its last). */
const shared = pooled ? createClient({ url: upstream, webSocketImpl: NoDeflateWebSocket, lazy: true, lazyCloseTimeout: 1000, retryAttempts: 0 }) : undefined;

function proxy(variables: Record<string, unknown>): AsyncIterableIterator<Event> {
  const client = shared ?? createClient({ url: upstream, webSocketImpl: NoDeflateWebSocket, lazy: true, lazyCloseTimeout: 0, retryAttempts: 0 });
  const source = client.iterate<{ bench: Event }>({ query: BENCH_OPERATION, variables });
  const done = async (): Promise<IteratorResult<Event>> => {
    await source.return?.();
    if (!shared) await client.dispose();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      const r = await source.next();
      if (r.done) return done();
      if (r.value.errors) throw new Error(r.value.errors[0]!.message);
      return { value: r.value.data!.bench, done: false };
    },
    return: done,
    async throw(err) {
      await done();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const yoga = createYoga({
  schema: createSchema({
    typeDefs: benchTypeDefs,
    resolvers: {
      Subscription: {
        bench: {
          subscribe: (_: unknown, args: { filter: { group: number; first?: boolean } }) => proxy({ filter: args.filter }),
          resolve: (event: Event) => event,
        },
      },
    },
  }),
  graphiql: false,
  logging: false,
  maskedErrors: true,
});

const server = tls ? http2.createSecureServer({ ...tls, allowHTTP1: true }, yoga) : http.createServer(yoga);
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => ready((server.address() as AddressInfo).port));
