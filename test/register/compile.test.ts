/** `npm run register`: the command, its output files, and its errors, run as a real process. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { onTeardown } from '../fixtures/leftovers.ts';
import { registerProcess } from '../fixtures/register.ts';
import { startUpstream, testTypeDefs } from '../fixtures/upstream.ts';


async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'subway-register-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  return dir;
}

const register = registerProcess;

const TICKS = 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n';

describe('register', () => {
  it('writes an Apollo persisted-query manifest with SHA-256 ids of the exact file bytes, introspecting over graphql-ws', async () => {
    const upstream = await startUpstream();
    const hello = '# a comment is part of the bytes\r\nquery Hello { hello }';
    const dir = await folder({ 'Ticks.graphql': TICKS, 'Hello.graphql': hello, 'notes.txt': 'ignored' });
    const result = await register(['--upstream', upstream.url], { PERSISTED_OPERATIONS: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const manifest = await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(JSON.parse(manifest)).toEqual({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha(hello), name: 'Hello', type: 'query', body: hello },
        { id: sha(TICKS), name: 'Ticks', type: 'subscription', body: TICKS },
      ],
    });
    expect(manifest.endsWith('}\n')).toBe(true);
    const companion = JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8'));
    expect(companion.files).toEqual({ 'Hello.graphql': sha(hello), 'Ticks.graphql': sha(TICKS) });
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe']);
  });

  it('keeps only the input types the variables reach in the snapshot', async () => {
    const schemaFile = join(await folder({ 'schema.graphql': testTypeDefs }), 'schema.graphql');
    const dir = await folder({ 'Orders.graphql': 'subscription Orders($filter: OrderFilter!) { orders(filter: $filter) { symbol } }\n' });
    expect((await register(['--schema', schemaFile, '--dir', dir])).code).toBe(0);
    const { inputSchema } = JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8'));
    expect(inputSchema).toBe(
      'input OrderFilter {\n  symbols: [String!]!\n  side: Side\n  range: Range\n  tags: [String!] = []\n}\n\n' +
        'input Range {\n  min: Int!\n  max: Int = 100\n}\n\n' +
        'enum Side {\n  BUY\n  SELL\n}\n\n' +
        'type Query {\n  _: Boolean\n}\n',
    );
  });

  it.each([
    ['an invalid field', { 'Ticks.graphql': 'subscription Ticks {\n  ticks(symbol: "A") { nope }\n}\n' }, ['{dir}/Ticks.graphql:2:24: Cannot query field "nope" on type "Tick".']],
    ['a syntax error', { 'Ticks.graphql': 'subscription Ticks {\n  ticks(\n' }, ['{dir}/Ticks.graphql:3:1: Syntax Error: Expected Name, found <EOF>.']],
    ['an anonymous operation', { 'Ticks.graphql': '{ hello }' }, ['{dir}/Ticks.graphql:1:1: the operation must be named']],
    ['two operations in one file', { 'Ticks.graphql': 'query Ticks { hello }\nquery Other { hello }\n' }, ['{dir}/Ticks.graphql:2:1: a persisted-operation file holds exactly one operation (found 2)']],
    ['a file named after another operation', { 'Ticks.graphql': 'query Hello { hello }\n' }, ['{dir}/Ticks.graphql:1:7: operation "Hello" must live in Hello.graphql (file names match operation names)']],
    ['an unknown variable type', { 'Ticks.graphql': 'query Ticks($a: Nope) { hello }\n' }, ['{dir}/Ticks.graphql:1:17: Unknown type "Nope".', '{dir}/Ticks.graphql:1:13: Variable "$a" is never used in operation "Ticks".']],
  ])('fails on %s with file:line:column and writes nothing', async (_, files, expected) => {
    const schemaFile = join(await folder({ 'schema.graphql': testTypeDefs }), 'schema.graphql');
    const dir = await folder(files);
    const result = await register(['--schema', schemaFile, '--dir', dir]);
    expect(result.code).toBe(1);
    const shown = dir.startsWith(process.cwd()) ? dir.slice(process.cwd().length + 1) : (await import('node:path')).relative(process.cwd(), dir);
    expect(result.stderr.trim().split('\n')).toEqual([...expected.map((l) => l.replace('{dir}', shown)), `${expected.length} problem${expected.length === 1 ? '' : 's'}; nothing was written.`]);
    await expect(readFile(join(dir, 'persisted-query-manifest.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with a clear message when the upstream cannot be reached', async () => {
    const dir = await folder({ 'Ticks.graphql': TICKS });
    const result = await register(['--upstream', 'ws://127.0.0.1:1/graphql', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Cannot load the schema: Cannot introspect ws:\/\/127\.0\.0\.1:1\/graphql/);
  });

  it('explains its usage when given neither or both schema sources', async () => {
    const result = await register([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Give exactly one of --upstream and --schema.');
  });
});
