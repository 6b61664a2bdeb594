/**
 * Benchmark: gateway RSS across connect/abort churn.
 *
 *   npm run bench:churn            # BENCH_CYCLES=5000 by default
 *
 * Same setup as slow-consumer.ts: a graphql-ws upstream in this process, the
 * gateway as a child process (`src/cli/start.ts` via bench/gateway-with-gc.ts,
 * so a full GC runs before each reading), RSS from /proc (Linux).
 * Runs BENCH_CYCLES subscriptions, 50 at a time, each aborted at a different
 * stage (before the head, after it, mid-stream), then checks that the
 * upstream holds no socket and the gateway's /metrics shows no open stream,
 * and prints RSS before, at the peak and after. Loopback only; bounded in time.
 */
import { buildSchema } from 'graphql';
import { channel } from '../src/example/channel.ts';
import { startGcGateway } from './gc-gateway.ts';

const CYCLES = Number(process.env.BENCH_CYCLES ?? 5000);
const CONCURRENCY = 50;

const schema = buildSchema('type Query { ok: Boolean }\ntype Subscription { tick(n: Int!): String! }\n');
const tick = schema.getSubscriptionType()!.getFields().tick!;
tick.subscribe = (_, { n }) =>
  channel<string>((push) => {
    const timer = setInterval(() => push(`tick ${n}`), 2);
    return () => clearInterval(timer);
  });
tick.resolve = (v) => v;

const gateway = await startGcGateway(schema, { file: 'Tick.graphql', text: 'subscription Tick($n: Int!) {\n  tick(n: $n)\n}\n' });
const { base, waitFor, collect, rss, heapUsed } = gateway;
const openStreams = async () => Number(/^subway_streams_open (\d+)/m.exec(await gateway.metrics())![1]);

const cycle = async (i: number) => {
  const controller = new AbortController();
  const pending = fetch(`${base}/graphql?id=Tick&variables=${encodeURIComponent(JSON.stringify({ n: i }))}`, { signal: controller.signal });
  if (i % 3 === 0) {
    controller.abort();
    await pending.catch(() => {});
    return;
  }
  const res = await pending;
  const reader = res.body!.getReader();
  if (i % 3 === 2) {
    // Mid-stream: wait for the first event.
    let text = '';
    while (!text.includes('event: next')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  }
  controller.abort();
  await reader.read().catch(() => {});
};
const run = async (n: number) => {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await cycle(next++);
  }));
  await waitFor(async () => (gateway.sockets === 0 && (await openStreams()) === 0 ? true : undefined), 'everything to be torn down');
};

await run(500); // warm-up
await new Promise((r) => setTimeout(r, 500));
await collect();
const before = await rss();
const heapBefore = await heapUsed();
let peak = before;
const sampler = setInterval(() => void rss().then((v) => (peak = Math.max(peak, v))), 20);
const started = Date.now();
await run(CYCLES);
const elapsed = Date.now() - started;
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1000));
await collect();
const after = await rss();
const heapAfter = await heapUsed();
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`churn: ${CYCLES} connect/abort cycles, ${CONCURRENCY} at a time, in ${elapsed} ms`);
console.log(`  afterwards: upstream sockets ${gateway.sockets}, gateway streams open ${await openStreams()}`);
console.log(`  gateway JS heap used: before ${mb(heapBefore)}, after ${mb(heapAfter)}`);
console.log(`  gateway RSS: before ${mb(before)}, peak ${mb(peak)} (+${mb(peak - before)}), after ${mb(after)} (+${mb(after - before)})`);

await gateway.close();
