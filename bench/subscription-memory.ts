/**
 * Benchmark: what one open subscription costs the gateway in memory, the
 * fixed part of docs/security.md's arithmetic.
 *
 *   node bench/subscription-memory.ts        # BENCH_SUBSCRIPTIONS=2000 by default
 *
 * A graphql-ws upstream in this process whose subscription never sends; the
 * gateway as a child process (bench/gateway-with-gc.ts: a full GC before each
 * reading); BENCH_SUBSCRIPTIONS streams opened over HTTP/1.1 and left open,
 * each with its upstream socket. Prints the JS heap (after a full GC) and RSS
 * (from /proc) before and after, and their growth per subscription.
 * Loopback only; bounded in time.
 */
import { buildSchema } from 'graphql';
import { channel } from '../src/example/channel.ts';
import { startGcGateway } from './gc-gateway.ts';

const N = Number(process.env.BENCH_SUBSCRIPTIONS ?? 2000);

const schema = buildSchema('type Query { ok: Boolean }\ntype Subscription { quiet(n: Int!): String! }\n');
const quiet = schema.getSubscriptionType()!.getFields().quiet!;
quiet.subscribe = () => channel<string>(() => () => {});
quiet.resolve = (v) => v;

const gateway = await startGcGateway(schema, { file: 'Quiet.graphql', text: 'subscription Quiet($n: Int!) {\n  quiet(n: $n)\n}\n' });
const { base, waitFor, collect, rss, heapUsed } = gateway;
const reading = async () => {
  await collect();
  return { heap: await heapUsed(), rss: await rss() };
};

const before = await reading();
const controllers: AbortController[] = [];
// Held: undici cancels the body of a Response that is garbage collected, which would end its stream.
const responses: Response[] = [];
for (let i = 0; i < N; i++) {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await fetch(`${base}/graphql?id=Quiet&variables=${encodeURIComponent(JSON.stringify({ n: i }))}`, { signal: controller.signal });
  if (res.status !== 200) throw new Error(`subscription ${i}: ${res.status}`);
  responses.push(res);
}
await waitFor(() => (gateway.sockets === N ? true : undefined), `${N} upstream sockets`);
const after = await reading();
for (const c of controllers) c.abort();
const MiB = 2 ** 20;
console.log(`${N} open subscriptions (HTTP/1.1, one upstream socket each):`);
console.log(`  JS heap after a full GC: ${(before.heap / MiB).toFixed(1)} -> ${(after.heap / MiB).toFixed(1)} MiB, ${((after.heap - before.heap) / N / 1024).toFixed(1)} KiB per subscription`);
console.log(`  RSS: ${(before.rss / MiB).toFixed(1)} -> ${(after.rss / MiB).toFixed(1)} MiB, ${((after.rss - before.rss) / N / 1024).toFixed(1)} KiB per subscription`);
await gateway.close();
process.exit(0);
