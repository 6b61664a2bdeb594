/**
 * `PERSISTED_OPERATIONS` with bundle URLs on the Node server, end to end:
 * real HTTP servers serving bundles with ETags, a real graphql-ws upstream,
 * the real gateway (`startServer`, as `npm start` runs it). Waits on log
 * lines and requests, not on time.
 */
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../../src/core/config.ts';
import { formatJson } from '../../../src/core/operations/manifest.ts';
import { startServer, type RunningServer } from '../../../src/node/server.ts';
import { bundleOf, bundleText, testKey, OPERATIONS } from '../../fixtures/bundle.ts';
import { startBundleServer } from '../../fixtures/bundle-server.ts';
import { runCli } from '../../fixtures/cli.ts';
import { registeredFolder } from '../../fixtures/gateway.ts';
import { leftover } from '../../fixtures/leftovers.ts';
import { register, tempFolder, testSchemaFile } from '../../fixtures/register.ts';
import { freePort } from '../../fixtures/ports.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream, type TestUpstream } from '../../fixtures/upstream.ts';
import { waiter } from '../../fixtures/waiter.ts';

const { Ticks, Hello, Greetings, Bump } = OPERATIONS;
type Line = Record<string, unknown>;

async function start(upstream: TestUpstream, env: Record<string, string>) {
  const lines: Line[] = [];
  const changed = new EventEmitter();
  const server = leftover(
    await startServer(readConfig({ UPSTREAM_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', HEARTBEAT_MS: '0', LOG_STREAMS: 'false', ...env }), {
      log(line) {
        lines.push(JSON.parse(line) as Line);
        changed.emit('change');
      },
    }),
  );
  const until = waiter(changed, 'log');
  /** Resolves with the `n`-th line (1-based) from now on that has these fields. */
  const nextLine = async (fields: Line, n = 1) => {
    const from = lines.length;
    const matching = () => lines.slice(from).filter((l) => Object.entries(fields).every(([k, v]) => l[k] === v));
    await until(() => matching().length >= n, JSON.stringify(fields));
    return matching()[n - 1]!;
  };
  return { server, lines, nextLine };
}

/** A sample of /metrics: the value of the series with these labels, or undefined. */
async function metric(server: RunningServer, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1], p[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const hello = (server: RunningServer) => fetch(`${server.url}/graphql${query({ id: 'Hello', variables: { name: 'x' } })}`, { headers: { accept: 'text/event-stream' } });
const HELLO_BODY = ':\n\nevent: next\ndata: {"data":{"hello":"hello x"}}\n\nevent: complete\ndata:\n\n';

describe('operation sources on Node', () => {
  it('serves a newly published operation within one poll, without a restart; a removed one answers 404 while its open stream goes on', async () => {
    const upstream = await startUpstream();
    const cdn = await startBundleServer(await bundleText({ Ticks, Hello }));
    const { server, nextLine } = await start(upstream, { PERSISTED_OPERATIONS: cdn.url, PERSISTED_OPERATIONS_POLL_MS: '200' });
    const stream = await openSse(`${server.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'OPEN' } })}`);
    expect(stream.status).toBe(200);
    await upstream.until(() => upstream.listeners('OPEN') === 1, 'the open subscription');
    const greetings = `${server.url}/graphql${query({ id: 'Greetings', variables: { count: 1 } })}`;
    expect((await fetch(greetings, { headers: { accept: 'text/event-stream' } })).status).toBe(404);

    const before = cdn.requests.length;
    cdn.set(await bundleText({ Hello, Greetings }));
    const loaded = await nextLine({ msg: 'operations loaded' });
    expect(loaded).toMatchObject({ level: 'info', source: cdn.url, operations: 2, total: 2 });
    // The first poll after the change brought it: one request, no restart.
    expect(cdn.requests.slice(before).map((r) => [r.status, r.version])).toEqual([[200, 2]]);

    const fresh = await openSse(greetings);
    expect(await fresh.done()).toBe(':\n\nevent: next\ndata: {"data":{"greetings":"hi 0"}}\n\nevent: complete\ndata:\n\n');
    const removed = await fetch(`${server.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEW' } })}`, { headers: { accept: 'text/event-stream' } });
    expect(removed.status).toBe(404);
    expect(await removed.json()).toEqual({ errors: [{ message: 'No registered operation has the id "Ticks".', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
    // The stream opened before the swap keeps its operation to the end.
    upstream.publish('OPEN', { symbol: 'OPEN', price: 1 });
    upstream.finish('OPEN');
    expect(await stream.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"OPEN","price":1}}}\n\nevent: complete\ndata:\n\n');
    expect(await metric(server, 'subway_operation_source_loads_total', { source: cdn.url })).toBe(2);
    expect(await metric(server, 'subway_operations_registered')).toBe(2);
  });

  it('refuses a corrupted, wrongly hashed, unsigned or wrongly signed bundle: the last good stays, one log line and one count each, /readyz ready', async () => {
    const upstream = await startUpstream();
    const key = await testKey();
    const stranger = await testKey();
    const cdn = await startBundleServer(await bundleText({ Hello }, key.signing));
    // No background polls: each bad version is fetched by an explicit poll.
    const { server, lines } = await start(upstream, { PERSISTED_OPERATIONS: cdn.url, PERSISTED_OPERATIONS_POLL_MS: '3600000', PERSISTED_OPERATIONS_PUBLIC_KEY: key.publicPem });
    const good = server.registry;
    const wronglyHashed = bundleOf({ Hello, Ticks });
    wronglyHashed.operations[1]!.body = wronglyHashed.operations[1]!.body.replace('price', 'symbol');
    const { signBundle } = await import('../../../src/core/operations/signature.ts');
    const cases: [string, string, string, string][] = [
      ['corrupted', (await bundleText({ Hello, Ticks }, key.signing)).slice(0, 200), 'invalid', `${cdn.url}: not JSON (`],
      ['wrongly hashed', formatJson(await signBundle(wronglyHashed, key.signing)), 'invalid', `${cdn.url}: operation Ticks has the id`],
      ['unsigned', await bundleText({ Hello, Ticks }), 'signature', `${cdn.url}: is not signed, and PERSISTED_OPERATIONS_PUBLIC_KEY requires a signature`],
      ['wrongly signed', await bundleText({ Hello, Ticks }, stranger.signing), 'signature', `${cdn.url}: is signed by key ${stranger.signing.keyId}, which is not in PERSISTED_OPERATIONS_PUBLIC_KEY`],
    ];
    for (const [what, text, reason, message] of cases) {
      const from = lines.length;
      cdn.set(text);
      await server.sources.refresh();
      expect(lines.slice(from), what).toEqual([{ time: expect.any(String), level: 'warn', msg: 'operations source failed', source: cdn.url, reason, error: expect.stringContaining(message), total: 1 }]);
      expect(server.registry, what).toBe(good);
      expect(await (await hello(server)).text(), what).toBe(HELLO_BODY);
      expect((await fetch(`${server.url}/graphql?id=Ticks`, { headers: { accept: 'text/event-stream' } })).status, what).toBe(404);
      expect((await fetch(`${server.url}/readyz`)).status, what).toBe(200);
      expect(await metric(server, 'subway_operation_source_up', { source: cdn.url }), what).toBe(0);
    }
    expect(await metric(server, 'subway_operation_source_failures_total', { source: cdn.url, reason: 'invalid' })).toBe(2);
    expect(await metric(server, 'subway_operation_source_failures_total', { source: cdn.url, reason: 'signature' })).toBe(2);

    cdn.set(await bundleText({ Hello, Ticks }, key.signing));
    await server.sources.refresh();
    expect(server.registry.resolve('Ticks')).toBeDefined();
    expect(await metric(server, 'subway_operation_source_up', { source: cdn.url })).toBe(1);
    expect(lines.at(-1)).toMatchObject({ msg: 'operations loaded', source: cdn.url, operations: 2 });
  });

  it('starts with the sources that answer, logs the one that does not, and adds it once it answers', async () => {
    const upstream = await startUpstream();
    const folder = await registeredFolder({ Hello });
    const cdn = await startBundleServer(await bundleText({ Ticks }));
    cdn.failWith(503);
    const { server, lines, nextLine } = await start(upstream, { PERSISTED_OPERATIONS: `${folder},${cdn.url}`, PERSISTED_OPERATIONS_POLL_MS: '200' });
    expect(lines[0]).toEqual({ time: expect.any(String), level: 'warn', msg: 'operations source failed', source: cdn.url, reason: 'unreachable', error: `${cdn.url}: answered HTTP 503`, total: 0 });
    expect(await (await hello(server)).text()).toBe(HELLO_BODY);
    expect(server.sources.status()).toEqual([
      { source: folder, ok: true, operations: 1 },
      { source: cdn.url, ok: false, operations: undefined, reason: 'unreachable', error: `${cdn.url}: answered HTTP 503` },
    ]);
    cdn.failWith(undefined);
    expect(await nextLine({ msg: 'operations loaded' })).toMatchObject({ source: cdn.url, operations: 1, total: 2 });
    expect(server.registry.operations.map((o) => o.name).sort()).toEqual(['Hello', 'Ticks']);
  });

  it('reloads a folder by the same rules: a bad write is one log line and one count, a conflict with another source is refused naming both', async () => {
    const upstream = await startUpstream();
    const schema = await testSchemaFile();
    const folder = await tempFolder({ 'Hello.graphql': Hello });
    expect((await register(['--schema', schema, '--dir', folder])).code).toBe(0);
    const cdn = await startBundleServer(await bundleText({ Ticks }));
    const { server, nextLine } = await start(upstream, { PERSISTED_OPERATIONS: `${folder},${cdn.url}`, PERSISTED_OPERATIONS_POLL_MS: '3600000' });
    const good = server.registry;

    await writeFile(join(folder, 'persisted-query-manifest.json'), '{ not json');
    expect(await nextLine({ msg: 'operations source failed' })).toMatchObject({ level: 'warn', source: folder, reason: 'invalid', error: expect.stringContaining('persisted-query-manifest.json is not valid JSON') });
    expect(server.registry).toBe(good);
    expect(await (await hello(server)).text()).toBe(HELLO_BODY);
    expect(await metric(server, 'subway_operation_source_failures_total', { source: folder, reason: 'invalid' })).toBeGreaterThanOrEqual(1);

    // The folder's app registers a Ticks of its own: the URL's app has another.
    await writeFile(join(folder, 'Ticks.graphql'), 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { price } }\n');
    expect((await register(['--schema', schema, '--dir', folder])).code).toBe(0);
    const conflict = await nextLine({ msg: 'operations source failed', reason: 'conflict' });
    expect(conflict.error).toMatch(new RegExp(`^"Ticks" means different operations in ${folder} \\(Ticks, [0-9a-f]{12}…\\) and ${cdn.url} \\(Ticks, [0-9a-f]{12}…\\)$`));
    expect(server.registry.resolve('Ticks')!.body).toBe(Ticks);
    expect(await metric(server, 'subway_operation_source_up', { source: folder })).toBe(0);
  });

  it('merges two apps\' bundles; refuses to start on a conflict, naming both', async () => {
    const upstream = await startUpstream();
    const web = await startBundleServer(await bundleText({ Ticks, Hello }));
    const admin = await startBundleServer(await bundleText({ Hello, Bump }));
    const { server } = await start(upstream, { PERSISTED_OPERATIONS: `${web.url}, ${admin.url}` });
    expect(server.registry.operations.map((o) => o.name).sort()).toEqual(['Bump', 'Hello', 'Ticks']);
    const listed = (await (await fetch(`${server.url}/operations`)).json()) as { operations: { name: string }[] };
    expect(listed.operations.map((o) => o.name)).toEqual(['Bump', 'Hello', 'Ticks']);

    const rival = await startBundleServer(await bundleText({ Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { price }\n}\n' }));
    await expect(start(upstream, { PERSISTED_OPERATIONS: `${web.url},${rival.url}` })).rejects.toThrow(
      new RegExp(`^"Ticks" means different operations in ${web.url} \\(Ticks, [0-9a-f]{12}…\\) and ${rival.url} \\(Ticks, [0-9a-f]{12}…\\)\\. Rename the operation in one app`),
    );
  });

  it('refuses to start when no source yields a good list, naming each', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const upstream = await startUpstream();
    await expect(start(upstream, { PERSISTED_OPERATIONS: `http://127.0.0.1:${a}/web.json,http://127.0.0.1:${b}/admin.json?token=SECRET` })).rejects.toThrow(
      `No operation source yields a good list: http://127.0.0.1:${a}/web.json: cannot fetch (ECONNREFUSED); http://127.0.0.1:${b}/admin.json?…: cannot fetch (ECONNREFUSED)`,
    );
    // As `npm start` says it: one line naming the source, exit code 1.
    const cli = runCli('src/cli/subway.ts', ['start'], { PORT: '0', HOST: '127.0.0.1', UPSTREAM_URL: upstream.url, PERSISTED_OPERATIONS: `http://127.0.0.1:${a}/bundle.json` });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toBe(`subway: http://127.0.0.1:${a}/bundle.json: cannot fetch (ECONNREFUSED)\n`);
  });

  it('refuses to start a KV source on Node, naming it', async () => {
    const upstream = await startUpstream();
    await expect(start(upstream, { PERSISTED_OPERATIONS: 'kv:OPS' })).rejects.toThrow(
      'PERSISTED_OPERATIONS: kv:OPS is a Workers KV binding, which only a Worker has; on Node, serve the bundle over https:// instead.',
    );
  });
});
