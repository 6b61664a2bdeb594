/**
 * `PERSISTED_OPERATIONS` on the Worker, in workerd: a bundle URL served by a
 * real HTTP server with ETags, and a local KV namespace written by
 * `register --publish-kv` (wrangler), with the bundled list as the fallback.
 *
 * A Worker has no timers between requests: a request that finds the
 * isolate's list older than `PERSISTED_OPERATIONS_POLL_MS` refreshes it
 * first. So "within one poll interval" is tested as it is promised: a
 * request made one interval after a change must see it (a wait on the clock
 * by design; that no fetch happens within the interval is tested with an
 * injected clock in test/core/operations/live.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleText, testKey, OPERATIONS } from '../fixtures/bundle.ts';
import { startBundleServer } from '../fixtures/bundle-server.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { register, tempFolder, testSchemaFile } from '../fixtures/register.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { startWorker } from '../fixtures/worker.ts';

const { Ticks, Hello, Greetings, Orders, Bump } = OPERATIONS;
const POLL_MS = 400;
/** One poll interval, and a little: the promise is that no isolate serves a list older than that. */
const aPollLater = () => sleep(POLL_MS + 50);

const status = async (url: string) => (await fetch(url, { headers: { accept: 'text/event-stream' } })).status;

describe('operation sources on workerd', () => {
  it('a URL source: signed bundles verified in workerd; a new operation within one interval; a removed one 404 while its open stream goes on; a bad bundle keeps the last good', async () => {
    const upstream = await startUpstream();
    const key = await testKey();
    const cdn = await startBundleServer(await bundleText({ Ticks, Greetings }, key.signing));
    const bundled = await registeredFolder({ Hello });
    const worker = await startWorker(bundled, {
      UPSTREAM_URL: upstream.url,
      HEARTBEAT_MS: '0',
      PERSISTED_OPERATIONS: cdn.url,
      PERSISTED_OPERATIONS_POLL_MS: String(POLL_MS),
      PERSISTED_OPERATIONS_PUBLIC_KEY: key.publicBase64,
    });
    const op = (id: string, variables: Record<string, unknown> = {}) => `${worker.url}/graphql${query({ id, variables })}`;
    const stream = await openSse(op('Ticks', { symbol: 'OPEN' }));
    expect(stream.status).toBe(200);
    await upstream.until(() => upstream.listeners('OPEN') === 1, 'the open subscription');
    // The source answered at the isolate's start: its list, not the bundled one.
    expect(await status(op('Hello'))).toBe(404);

    cdn.set(await bundleText({ Greetings, Orders }, key.signing));
    await aPollLater();
    const before = cdn.requests.length;
    expect(await status(op('Orders', { filter: { symbols: ['A'] } }))).toBe(200);
    expect(cdn.requests.slice(before).map((r) => [r.status, r.version])).toEqual([[200, 2]]);
    const removed = await fetch(op('Ticks', { symbol: 'NEW' }), { headers: { accept: 'text/event-stream' } });
    expect(removed.status).toBe(404);
    expect(await removed.json()).toEqual({ errors: [{ message: 'No registered operation has the id "Ticks".', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
    expect(await status(op('Greetings', { count: 1 }))).toBe(200);

    upstream.publish('OPEN', { symbol: 'OPEN', price: 3 });
    await stream.until((raw) => raw.includes('event: next'), 'the event after the swap');
    upstream.finish('OPEN');
    expect(await stream.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"OPEN","price":3}}}\n\nevent: complete\ndata:\n\n');

    for (const bad of [await bundleText({ Greetings, Orders, Bump }), '{"format":', await bundleText({ Bump }, (await testKey()).signing)]) {
      cdn.set(bad);
      await aPollLater();
      const from = cdn.requests.length;
      expect(await status(op('Orders', { filter: { symbols: ['A'] } }))).toBe(200);
      expect(await status(op('Bump'))).toBe(404);
      // Fetched (once, or again if the machine is slow enough for an interval to pass), refused, the last good kept.
      expect(new Set(cdn.requests.slice(from).map((r) => [r.status, r.version].join()))).toEqual(new Set([[200, cdn.requests.at(-1)!.version].join()]));
    }
    // A source that stops answering: the last good list, once the request has waited at most the deadline.
    cdn.failWith(503);
    await aPollLater();
    expect(await status(op('Orders', { filter: { symbols: ['A'] } }))).toBe(200);
  });

  it('serves the bundled list while the source is unreachable at the isolate\'s start, and the source\'s once it answers; merges two sources and refuses a conflicting one', async () => {
    const upstream = await startUpstream();
    const cdn = await startBundleServer();
    cdn.set(await bundleText({ Ticks }), '/web.json');
    cdn.set(await bundleText({ Bump }), '/admin.json');
    cdn.failWith(503);
    const worker = await startWorker(await registeredFolder({ Hello }), {
      UPSTREAM_URL: upstream.url,
      PERSISTED_OPERATIONS: `${cdn.origin}/web.json,${cdn.origin}/admin.json`,
      PERSISTED_OPERATIONS_POLL_MS: String(POLL_MS),
    });
    const op = (id: string, variables: Record<string, unknown> = {}) => `${worker.url}/graphql${query({ id, variables })}`;
    expect(await status(op('Hello', { name: 'x' }))).toBe(200);
    expect(await status(op('Ticks', { symbol: 'A' }))).toBe(404);

    cdn.failWith(undefined);
    await aPollLater();
    expect(await status(op('Ticks', { symbol: 'A' }))).toBe(200);
    expect(await status(op('Bump'))).toBe(405); // a mutation over GET: registered
    expect(await status(op('Hello', { name: 'x' }))).toBe(404);
    const listed = (await (await fetch(`${worker.url}/operations`)).json()) as { operations: { name: string }[] };
    expect(listed.operations.map((o) => o.name)).toEqual(['Bump', 'Ticks']);

    // The admin app publishes a Ticks of its own: refused (it conflicts with web's), web's stays.
    cdn.set(await bundleText({ Bump, Greetings, Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { price }\n}\n' }), '/admin.json');
    await aPollLater();
    expect(await status(op('Greetings', { count: 1 }))).toBe(404);
    const ticks = await openSse(op('Ticks', { symbol: 'B' }));
    await upstream.until(() => upstream.listeners('B') === 1, 'the subscription');
    expect(upstream.received.filter((m) => m.type === 'subscribe').map((m) => (m.payload as { query: string }).query).at(-1)).toBe(Ticks);
    ticks.abort();
  });

  it('a KV source: the bundled list while the key is missing; `register --publish-kv --local` writes the bundle, served within one interval, no redeploy', async () => {
    const upstream = await startUpstream();
    const persist = await mkdtemp(join(tmpdir(), 'subway-kv-'));
    onTeardown(() => rm(persist, { recursive: true, force: true }));
    const namespace = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const worker = await startWorker(
      await registeredFolder({ Hello }),
      { UPSTREAM_URL: upstream.url, PERSISTED_OPERATIONS: 'kv:OPERATIONS/web', PERSISTED_OPERATIONS_POLL_MS: String(POLL_MS) },
      { kv: { OPERATIONS: namespace }, persistTo: persist },
    );
    const op = (id: string, variables: Record<string, unknown> = {}) => `${worker.url}/graphql${query({ id, variables })}`;
    // Nothing published yet: the key is missing, the bundled list serves.
    expect(await status(op('Hello', { name: 'x' }))).toBe(200);
    expect(await status(op('Ticks', { symbol: 'KV' }))).toBe(404);

    const app = await tempFolder({ 'Ticks.graphql': Ticks, 'Greetings.graphql': Greetings });
    const published = await register(['--schema', await testSchemaFile(), '--dir', app, '--publish-kv', `${namespace}/web`, '--local', '--persist-to', persist]);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    expect(published.stdout).toMatch(/Published .*subway-bundle\.json to the local KV namespace c0ffee00c0ffee00c0ffee00c0ffee00, key web\.\n$/);
    await aPollLater();

    const sse = await openSse(op('Ticks', { symbol: 'KV' }));
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('KV') === 1, 'the subscription');
    upstream.publish('KV', { symbol: 'KV', price: 1 });
    upstream.finish('KV');
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"KV","price":1}}}\n\nevent: complete\ndata:\n\n');
    const greetings = await openSse(op('Greetings', { count: 1 }));
    expect(await greetings.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: complete\ndata:\n\n');
    expect(await status(op('Hello', { name: 'x' }))).toBe(404);
    // A run of wrangler (a process, and a Miniflare) and a workerd: seconds each on a busy machine.
  }, 60_000);
});
