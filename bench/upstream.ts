/**
 * The benchmark's upstream, run as its own process: a real graphql-ws server
 * (`graphql-ws/use/ws` on `ws`, per-message deflate off) serving
 * `subscription { bench(filter: { group, first }) { seq sentAt payload } }`.
 *
 * Load is driven over IPC by the orchestrator: `{ cmd: 'load', rate, groups,
 * payloadBytes }` publishes `rate` events per second in total, event `seq`
 * going to the subscribers of group `seq % groups` and to every subscriber of
 * group -1 (the direct baseline), so the load is smooth rather than bursts.
 * Each event is stamped with its send time (`sentAt`, ms since the epoch with
 * sub-millisecond precision). `{ cmd: 'stop' }` stops publishing; `{ cmd:
 * 'stats' }` answers open sockets and running subscriptions.
 *
 * Operations are parsed and validated by graphql-ws as usual; execution is
 * replaced by a shared event source (no resolver work per event), so the
 * upstream spends its CPU on the protocol and the sockets, not on graphql-js.
 */
import type { AddressInfo } from 'node:net';
import { buildSchema, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { benchTypeDefs } from './schema.ts';

type Push = (result: ExecutionResult) => void;

const schema = buildSchema(benchTypeDefs);
/** Subscribers per group; group -1 receives every event. */
const groupsOf = new Map<number, Set<Push>>();
let subscriptions = 0;
let sockets = 0;
let connections = 0;

function stream(group: number, first: boolean): AsyncIterableIterator<ExecutionResult> {
  // A push queue: events arrive from the publisher, `next()` hands them out.
  const queue: ExecutionResult[] = [];
  let waiting: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
  let done = false;
  const push: Push = (result) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w({ value: result, done: false });
    } else if (queue.length < 10_000) queue.push(result);
  };
  let set = groupsOf.get(group);
  if (!set) groupsOf.set(group, (set = new Set()));
  set.add(push);
  subscriptions++;
  if (first) queue.push(makeEvent(-1, 0));
  const end = () => {
    if (done) return;
    done = true;
    subscriptions--;
    set.delete(push);
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
  };
  return {
    next: () => {
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: () => {
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw: (err) => {
      end();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

let payload = '';
function makeEvent(seq: number, _group: number): ExecutionResult {
  return { data: { bench: { seq, sentAt: performance.timeOrigin + performance.now(), payload } } };
}

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql', perMessageDeflate: false, backlog: 4096 });
await new Promise<void>((resolve, reject) => {
  wss.once('listening', resolve);
  wss.once('error', reject);
});
wss.on('connection', (socket) => {
  sockets++;
  connections++;
  socket.once('close', () => sockets--);
});
useServer(
  {
    schema,
    subscribe: (args) => {
      const { filter } = (args.variableValues ?? {}) as { filter?: { group?: number; first?: boolean } };
      return stream(Number(filter?.group ?? 0), Boolean(filter?.first));
    },
  },
  wss,
);

// The publisher: a 1 ms timer that catches up to `rate` events per second.
let timer: NodeJS.Timeout | undefined;
let seq = 0;
let published = 0;
function startLoad(rate: number, groups: number, payloadBytes: number) {
  stopLoad();
  payload = 'x'.repeat(payloadBytes);
  const t0 = performance.now();
  let sent = 0;
  timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    // Bounded catch-up: never more than 100 ms of events in one turn.
    const n = Math.min(due - sent, Math.ceil(rate / 10));
    for (let i = 0; i < n; i++) {
      const s = seq++;
      const event = makeEvent(s, s % groups);
      for (const push of groupsOf.get(s % groups) ?? []) push(event);
      for (const push of groupsOf.get(-1) ?? []) push(event);
      published++;
    }
    sent = Math.max(sent + n, due - Math.ceil(rate / 10));
  }, 1);
}
function stopLoad() {
  if (timer) clearInterval(timer);
  timer = undefined;
}

process.on('message', (msg: { cmd: string; id?: number; rate?: number; groups?: number; payloadBytes?: number }) => {
  if (msg.cmd === 'load') startLoad(msg.rate!, msg.groups!, msg.payloadBytes ?? 0);
  else if (msg.cmd === 'stop') stopLoad();
  process.send!({ reply: msg.id, sockets, connections, subscriptions, published, seq });
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql` });
