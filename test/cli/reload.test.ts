/** A running server picks up a rewritten manifest without a restart, and keeps the old one when the new one is bad. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/core/config.ts';
import type { Registry } from '../../src/core/operations/registry.ts';
import { startServer } from '../../src/node/server.ts';
import { leftover } from '../fixtures/leftovers.ts';
import { register, tempFolder, testSchemaFile } from '../fixtures/register.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

describe('reloading the operations', () => {
  it('serves a newly registered operation without a restart, and keeps the last good registry on a bad write', async () => {
    const upstream = await startUpstream();
    const schema = await testSchemaFile();
    const dir = await tempFolder({ 'Hello.graphql': 'query Hello { hello }\n' });
    expect((await register(['--schema', schema, '--dir', dir])).code).toBe(0);

    const reloads: ({ registry: Registry } | { error: unknown })[] = [];
    const waiters = new Set<() => void>();
    /** Resolves once a reload satisfies `predicate` (register writes several files: a reload may see them half-way). */
    const reloaded = (predicate: (r: (typeof reloads)[number]) => boolean, from = 0) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!reloads.slice(from).some(predicate)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    const server = leftover(
      await startServer(readConfig({ UPSTREAM_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', PERSISTED_OPERATIONS: dir, HEARTBEAT_MS: '0' }), {
        onReload: (result) => {
          reloads.push(result);
          for (const w of [...waiters]) w();
        },
      }),
    );
    const ticks = (symbol: string) => `${server.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`;
    expect((await fetch(ticks('A'), { headers: { accept: 'text/event-stream' } })).status).toBe(404);

    await writeFile(join(dir, 'Ticks.graphql'), 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { symbol } }\n');
    expect((await register(['--schema', schema, '--dir', dir])).code).toBe(0);
    await reloaded((r) => 'registry' in r && r.registry.operations.length === 2);
    expect(server.registry.resolve('Ticks')).toBeDefined();
    const sse = await openSse(ticks('B'));
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('B') === 1, 'the subscription');
    upstream.publish('B', { symbol: 'B', price: 1 });
    upstream.finish('B');
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"B"}}}\n\nevent: complete\ndata:\n\n');

    const count = reloads.length;
    await writeFile(join(dir, 'persisted-query-manifest.json'), '{ not json');
    await reloaded((r) => 'error' in r, count);
    expect(reloads.slice(count)).toEqual([{ error: expect.objectContaining({ message: expect.stringContaining('persisted-query-manifest.json is not valid JSON') }) }]);
    // The last good registry still serves.
    expect(server.registry.resolve('Ticks')).toBeDefined();
    const again = await openSse(ticks('C'));
    expect(again.status).toBe(200);
    again.abort();
  });
});
