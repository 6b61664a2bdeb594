/**
 * The bundle `wrangler deploy` would upload, built as `npm run build:worker`
 * builds it (`wrangler deploy --dry-run`): a bundle that would not build,
 * would not start, or would carry two copies of graphql fails here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { WorkerHandler } from '../../src/worker/app.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';

function build(outdir: string, env: Record<string, string>, command = 'build'): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/cli/subway.ts', 'worker', command, ...(command === 'build' ? [outdir] : [])],
      { env: { ...process.env, ...env, WRANGLER_SEND_METRICS: 'false' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'subway-bundle-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the Worker bundle', () => {
  it('builds with the operations of PERSISTED_OPERATIONS, one graphql, no Node built-ins, and starts', async () => {
    const ops = await registeredFolder();
    const out = await tempDir();
    const result = await build(out, { PERSISTED_OPERATIONS: ops });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.code).toBe(0);
    const source = await readFile(join(out, 'entry.js'), 'utf8');
    // The test operations, not the example's: the folder was chosen at build time.
    expect(source).toContain('subscription Greetings($count: Int!)');
    expect(source).not.toContain('subscription Clock');
    // graphql 16 ships CJS and ESM builds; two copies would refuse each other's schemas.
    expect(source.match(/var GraphQLSchema\d* = class/g)).toEqual(['var GraphQLSchema = class']);
    // No nodejs_compat: the bundle must not need Node's built-ins.
    expect(source).not.toMatch(/^import\b.*["']node:|require\(["']node:/m);
    expect((await stat(join(out, 'entry.js'))).size).toBeGreaterThan(0);

    // It starts (module scope builds the registry) and answers without an upstream.
    const worker = (await import(/* @vite-ignore */ pathToFileURL(join(out, 'entry.js')).href)).default as WorkerHandler;
    expect(worker.registry.operations.map((o) => o.name).sort()).toEqual(['Bump', 'Failing', 'Greetings', 'Hello', 'Orders', 'Ticks']);
    const ctx = { waitUntil: () => undefined };
    const refused = await worker.fetch(new Request('http://gateway.test/graphql?id=Nope'), { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql' }, ctx);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({ errors: [{ message: 'No registered operation has the id "Nope".', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
  }, 90_000);

  it('refuses to bundle stale operations, naming the file, and writes nothing', async () => {
    const ops = await registeredFolder();
    await writeFile(join(ops, 'Late.graphql'), 'subscription Late {\n  failing { symbol }\n}\n');
    const out = await tempDir();
    const result = await build(out, { PERSISTED_OPERATIONS: ops });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`subway: The persisted operations in ${ops} are stale: Late.graphql is not registered. Run \`subway register\`.\n`);
    await expect(stat(join(out, 'entry.js'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to deploy a Worker with no UPSTREAM_URL, before calling wrangler', async () => {
    const result = await build('', { UPSTREAM_URL: '' }, 'deploy');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('subway: UPSTREAM_URL is not set: set it under [vars] in wrangler.toml, or in the environment (`UPSTREAM_URL=wss://… subway worker deploy`).\n');
  }, 60_000);
});
