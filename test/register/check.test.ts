/** `register --check` (the CI gate), `--emit-map` and `--watch`, run as real processes. */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { onTeardown } from '../fixtures/leftovers.ts';
import { register, registerProcess, tempFolder, testSchemaFile } from '../fixtures/register.ts';
import { testTypeDefs } from '../fixtures/upstream.ts';

const TICKS = 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n';
const HELLO = 'query Hello { hello }\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function registered(files: Record<string, string> = { 'Ticks.graphql': TICKS, 'Hello.graphql': HELLO }) {
  const dir = await tempFolder(files);
  const schema = await testSchemaFile();
  const result = await register(['--schema', schema, '--dir', dir]);
  if (result.code !== 0) throw new Error(result.stderr);
  return { dir, schema, shown: relative(process.cwd(), dir) };
}

describe('register --check', () => {
  it('passes on a fresh folder and writes nothing', async () => {
    const { dir, schema, shown } = await registered();
    const before = await readFile(join(dir, 'subway.json'), 'utf8');
    const result = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(result).toEqual({ code: 0, stdout: `2 operations in ${shown} validate and the generated files are up to date.\n`, stderr: '' });
    expect(await readFile(join(dir, 'subway.json'), 'utf8')).toBe(before);
  });

  it('passes on the repository\'s own operations against the example schema (the committed files are fresh)', async () => {
    const result = await register(['--check', '--schema', 'src/example/schema.graphql', '--dir', 'persisted-operations']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('fails on a stale manifest, naming the operation', async () => {
    const { dir, schema, shown } = await registered();
    await writeFile(join(dir, 'Ticks.graphql'), TICKS.replace('symbol price', 'price'));
    await writeFile(join(dir, 'New.graphql'), 'query New { hello }\n');
    const result = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `${shown}/persisted-query-manifest.json: operation New is not registered`,
      `${shown}/persisted-query-manifest.json: operation Ticks changed since it was registered`,
      `${shown}/subway.json is out of date`,
      `${shown}/operations.ts is out of date`,
      `${shown}/subway-bundle.json is out of date`,
      `The generated files in ${shown} are stale: run \`subway register\` and commit the result.`,
    ]);
  });

  it('fails on a removed operation and on a missing generated file', async () => {
    const { dir, schema, shown } = await registered();
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'Hello.graphql'));
    await rm(join(dir, 'operations.ts'));
    const result = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${shown}/persisted-query-manifest.json: operation Hello was registered but no longer exists`,
      `${shown}/subway.json is out of date`,
      `${shown}/operations.ts is missing`,
      `${shown}/subway-bundle.json is out of date`,
      `The generated files in ${shown} are stale: run \`subway register\` and commit the result.`,
    ]);
  });

  it('fails when a schema change breaks an operation, naming the operation and the field', async () => {
    const { dir, shown } = await registered();
    const changed = await testSchemaFile(testTypeDefs.replace('type Tick { symbol: String!, price: Float! }', 'type Tick { symbol: String!, last: Float! }'));
    // As a real process: CI reads the exit code.
    const result = await registerProcess(['--check', '--schema', changed, '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${shown}/Ticks.graphql:2:35: Cannot query field "price" on type "Tick".`,
      '1 problem; an operation no longer validates against the schema.',
    ]);
  });

  it('refuses to combine --check with --import or --watch', async () => {
    const result = await register(['--check', '--watch', '--schema', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--check verifies the folder as it is: it goes with neither --watch nor --import.');
  });
});

describe('register --emit-map', () => {
  it('writes a flat {hash: body} map, keeps it fresh on later runs, and --check covers it', async () => {
    const { dir, schema, shown } = await registered();
    expect((await register(['--emit-map', '--schema', schema, '--dir', dir])).code).toBe(0);
    expect(await readFile(join(dir, 'persisted-documents.json'), 'utf8')).toBe(`${JSON.stringify({ [sha256(HELLO)]: HELLO, [sha256(TICKS)]: TICKS }, null, 2)}\n`);
    await writeFile(join(dir, 'Hello.graphql'), 'query Hello { hello(name: "map") }\n');
    const check = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(check.stderr).toContain(`${shown}/persisted-documents.json is out of date\n`);
    expect((await register(['--schema', schema, '--dir', dir])).code).toBe(0);
    expect(Object.values(JSON.parse(await readFile(join(dir, 'persisted-documents.json'), 'utf8')))).toContain('query Hello { hello(name: "map") }\n');
  });

  it('keeps the manifest byte-compatible with Apollo\'s format', async () => {
    const { dir } = await registered();
    const text = await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8');
    expect(text).toBe(
      `${JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(HELLO), name: 'Hello', type: 'query', body: HELLO }, { id: sha256(TICKS), name: 'Ticks', type: 'subscription', body: TICKS }] }, null, 2)}\n`,
    );
  });
});

describe('register --watch', () => {
  it('re-registers when a .graphql file is added or changed', async () => {
    const dir = await tempFolder({ 'Hello.graphql': HELLO });
    const child = spawn(process.execPath, ['src/register/cli.ts', '--watch', '--schema', await testSchemaFile(), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTeardown(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    let err = '';
    const waiters = new Set<() => void>();
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      for (const w of [...waiters]) w();
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      for (const w of [...waiters]) w();
    });
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text) || err.includes(text)) {
            waiters.delete(check);
            resolve();
          }
        };
        void exited.then(() => reject(new Error(`exited before "${text}": ${out}${err}`)));
        waiters.add(check);
        check();
      });
    await until('Watching');
    expect(out).toContain('Registered 1 operation:');
    await writeFile(join(dir, 'Ticks.graphql'), TICKS);
    await until('Registered 2 operations:');
    expect(JSON.parse(await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8')).operations.map((o: { name: string }) => o.name)).toEqual(['Hello', 'Ticks']);
    // A broken edit is reported and leaves the last good files in place.
    await writeFile(join(dir, 'Ticks.graphql'), 'subscription Ticks { nope }\n');
    await until('nothing was written.');
    expect(err).toContain('Ticks.graphql:1:22: Cannot query field "nope" on type "Subscription".');
    expect(JSON.parse(await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8')).operations).toHaveLength(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
