/**
 * The Worker serves exactly the operations folder it was given, through the
 * real commands: `npm run dev:worker`, `npm run build:worker` and
 * `npm run deploy -- --dry-run`, each with a PERSISTED_OPERATIONS that is not
 * the default. (wrangler dev ignores `--alias` when wrangler.toml has an
 * `[alias]` table: an earlier version silently served persisted-operations/
 * in dev. The folder now reaches wrangler as the script's own imports.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { WorkerHandler } from '../../src/worker/app.ts';
import { runCommand } from '../fixtures/cli.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { freePort } from '../fixtures/ports.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const TEST_NAMES = ['Bump', 'Failing', 'Greetings', 'Hello', 'Orders', 'Ticks'];
const quiet = { WRANGLER_SEND_METRICS: 'false' };

function npmRun(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', ...args], { env: { ...process.env, ...quiet, ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'subway-worker-out-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The operation names a built bundle serves: it is loaded, and its registry (built at module scope) asked. */
async function bundledNames(outdir: string): Promise<string[]> {
  const worker = (await import(/* @vite-ignore */ pathToFileURL(join(outdir, 'entry.js')).href)).default as WorkerHandler;
  return worker.registry.operations.map((o) => o.name).sort();
}

/** Resolves once nothing listens on the port any more (bounded by the test's time-out). */
async function closed(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the Worker serves the folder it was given', () => {
  it('npm run dev:worker: the folder of PERSISTED_OPERATIONS, not persisted-operations/', async () => {
    const upstream = await startUpstream();
    const ops = await registeredFolder();
    const port = await freePort();
    const env = { ...quiet, PERSISTED_OPERATIONS: ops, UPSTREAM_URL: upstream.url, PORT: String(port), HOST: '127.0.0.1' };
    const dev = runCommand('npm', ['run', 'dev:worker'], env, { stopWith: 'SIGINT', group: true });
    await dev.output(/Ready on http:\/\/127\.0\.0\.1:\d+/);
    expect(dev.stdout).toContain(`subway: bundling 6 persisted operations from ${ops}`);
    const base = `http://127.0.0.1:${port}`;
    const listed = (await (await fetch(`${base}/operations`)).json()) as { operations: { name: string }[] };
    expect(listed.operations.map((o) => o.name)).toEqual(TEST_NAMES);
    const clock = await fetch(`${base}/graphql?id=Clock`, { headers: { accept: 'text/event-stream' } });
    expect(clock.status).toBe(404);
    expect(await clock.json()).toEqual({ errors: [{ message: 'No registered operation has the id "Clock".', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
    const hello = await openSse(`${base}/graphql${query({ id: 'Hello', variables: { name: 'dev' } })}`);
    await hello.until((raw) => raw.includes('event: complete'), 'the query to complete');
    expect(hello.events.map((e) => [e.event, e.data])).toEqual([['next', '{"data":{"hello":"hello dev"}}'], ['complete', '']]);
    // Ctrl-C, as in a terminal: the whole job gets SIGINT, and workerd lets go of the port.
    dev.stop('SIGINT');
    await dev.exited;
    await closed(port);
  }, 90_000);

  it('npm run build:worker: the bundle carries that folder, and nothing of persisted-operations/', async () => {
    const ops = await registeredFolder();
    const out = await tempDir();
    const result = await npmRun(['build:worker', '--', out], { PERSISTED_OPERATIONS: ops });
    expect(result.code).toBe(0);
    expect(await bundledNames(out)).toEqual(TEST_NAMES);
    expect(await readFile(join(out, 'entry.js'), 'utf8')).not.toContain('subscription Clock');
  }, 90_000);

  it('npm run deploy -- --dry-run: the same folder (given with --dir this time)', async () => {
    const ops = await registeredFolder();
    const out = await tempDir();
    const result = await npmRun(['deploy', '--', '--dir', ops, '--dry-run', '--outdir', out], { UPSTREAM_URL: 'wss://upstream.example/graphql', PERSISTED_OPERATIONS: '' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`subway: bundling 6 persisted operations from ${ops}`);
    expect(await bundledNames(out)).toEqual(TEST_NAMES);
    expect(await readFile(join(out, 'entry.js'), 'utf8')).not.toContain('subscription Clock');
  }, 90_000);

  it('wrangler.toml names no [alias] table that `wrangler dev` would prefer to the folder', async () => {
    expect(await readFile('wrangler.toml', 'utf8')).not.toMatch(/^\[alias\]/m);
  });
});
