/**
 * `register --import`: files written by the real tools (Apollo's
 * generate-persisted-query-manifest, GraphQL Code Generator's client preset,
 * relay-compiler; see test/fixtures/imports/README.md), then a subscription
 * through a real gateway by each foreign id.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOperations } from '../../src/node/operations/load.ts';
import { createRegistry } from '../../src/core/operations/registry.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { register, tempFolder, testSchemaFile } from '../fixtures/register.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const FIXTURES = 'test/fixtures/imports';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Case {
  file: string;
  format: string;
  name: string;
  /** What the client sends as its id. */
  foreignId: string;
  /** The alias stored in subway.json, if the id is not the canonical SHA-256. */
  alias?: { key: string; hash: string };
  flags?: string[];
}

const CASES: Case[] = [
  { file: 'apollo-persisted-query-manifest.json', format: 'apollo-manifest', name: 'ApolloTicks', foreignId: '50f2807380e3c31391c94056a571b06bf7d87d439e07201162998bb280835f11' },
  { file: 'codegen-persisted-documents.json', format: 'flat-map', name: 'CodegenTicks', foreignId: 'sha256:7365c423b29d9027643dde4703902e2bec797da85327bb88f5a9e4fc96c84f67' },
  { file: 'codegen-persisted-documents-sha1.json', format: 'flat-map', name: 'CodegenTicks', foreignId: '07ea8e67d222be05cbe2c18703de4d5ad18cdd69', alias: { key: '07ea8e67d222be05cbe2c18703de4d5ad18cdd69', hash: 'sha1' } },
  { file: 'relay-persisted-queries.json', format: 'flat-map', name: 'RelayTicksSubscription', foreignId: '56acae5bfefad00898456d597d014fc0', alias: { key: '56acae5bfefad00898456d597d014fc0', hash: 'md5' } },
  { file: 'relay-query-map.json', format: 'relay-query-map', name: 'RelayArrayTicks', foreignId: '20c854ed2253b771226af16a26613c16', alias: { key: '20c854ed2253b771226af16a26613c16', hash: 'md5' } },
  { file: 'yoga-store.json', format: 'flat-map', name: 'YogaTicks', foreignId: 'ce2b8614183bc487b495a9db61d6a3c80cbd9be0383991fef7881c604994293a' },
  { file: 'custom-ids.json', format: 'flat-map', name: 'CustomTicks', foreignId: 'ticks-v1', alias: { key: 'ticks-v1', hash: 'custom' }, flags: ['--allow-custom-ids'] },
];

function bodyOf(file: string, text: string): string {
  const value = JSON.parse(text);
  if (Array.isArray(value)) return value[0][1];
  if (value.operations) return value.operations[0].body;
  return Object.values(value)[0] as string;
}

describe('register --import', () => {
  it.each(CASES)('imports $file ($format) and serves $name by its foreign id', async (c) => {
    const upstream = await startUpstream();
    const dir = await tempFolder();
    const source = join(FIXTURES, c.file);
    const body = bodyOf(c.file, await readFile(source, 'utf8'));
    const result = await register(['--import', source, '--schema', await testSchemaFile(), '--dir', dir, ...(c.flags ?? [])]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${source} (${c.format}):\n  ${c.name}: `);

    // The body is written verbatim, so the folder stays the source of truth and the SHA-256 is the body's.
    expect(await readFile(join(dir, `${c.name}.graphql`), 'utf8')).toBe(body);
    const companion = JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8'));
    expect(companion.aliases).toEqual(c.alias ? { [c.alias.key]: { id: sha256(body), hash: c.alias.hash } } : undefined);
    const manifest = JSON.parse(await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8'));
    expect(manifest.operations).toEqual([{ id: sha256(body), name: c.name, type: 'subscription', body }]);

    const gw = await startGateway(upstream.url, { heartbeatMs: 0, dir });
    const sse = await openSse(`${gw.url}/graphql${query({ id: c.foreignId, variables: { symbol: 'IMP' } })}`);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('IMP') === 1, 'the subscription');
    expect(upstream.received.find((m) => m.type === 'subscribe')!.payload).toEqual({ query: body, operationName: c.name, variables: { symbol: 'IMP' } });
    upstream.publish('IMP', { symbol: 'IMP', price: 7 });
    upstream.finish('IMP');
    const events = (await sse.done(), sse.events);
    expect(events.map((e) => e.event)).toEqual(['next', 'complete']);
    expect(JSON.parse(events[0]!.data).data.ticks.symbol).toBe('IMP');
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket to close');
  });

  it('keeps aliases across later registers, and drops one whose operation changed', async () => {
    const dir = await tempFolder();
    const schema = await testSchemaFile();
    expect((await register(['--import', join(FIXTURES, 'relay-persisted-queries.json'), '--schema', schema, '--dir', dir])).code).toBe(0);
    const again = await register(['--schema', schema, '--dir', dir]);
    expect(again.code).toBe(0);
    expect(Object.keys(JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8')).aliases)).toEqual(['56acae5bfefad00898456d597d014fc0']);
    const file = join(dir, 'RelayTicksSubscription.graphql');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, `${await readFile(file, 'utf8')}# edited\n`);
    const edited = await register(['--schema', schema, '--dir', dir]);
    expect(edited.code).toBe(0);
    expect(edited.stdout).toContain(`note: alias 56acae5bfefad00898456d597d014fc0 dropped: no operation has the id ${sha256(await readFile(join(FIXTURES, 'relay-persisted-queries.json'), 'utf8').then((t) => Object.values(JSON.parse(t))[0] as string))} any more (its file changed or was removed)`);
    expect(JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8')).aliases).toBeUndefined();
  });

  it('resolves an alias with its algorithm prefix and in upper case, and refuses a hand-edited alias that is not the hash it claims', async () => {
    const dir = await tempFolder();
    const schema = await testSchemaFile();
    expect((await register(['--import', join(FIXTURES, 'relay-persisted-queries.json'), '--schema', schema, '--dir', dir])).code).toBe(0);
    const registry = createRegistry(await loadOperations(dir));
    const op = registry.resolve('RelayTicksSubscription')!;
    expect(op.aliases).toEqual(['56acae5bfefad00898456d597d014fc0']);
    expect(registry.resolve('56acae5bfefad00898456d597d014fc0')).toBe(op);
    expect(registry.resolve('md5:56ACAE5BFEFAD00898456D597D014FC0')).toBe(op);
    expect(registry.resolve('56acae5bfefad00898456d597d014fc1')).toBeUndefined();

    const path = join(dir, 'subway.json');
    const companion = JSON.parse(await readFile(path, 'utf8'));
    companion.aliases = { ['0'.repeat(32)]: companion.aliases['56acae5bfefad00898456d597d014fc0'] };
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, JSON.stringify(companion));
    const result = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`subway.json: alias ${'0'.repeat(32)} is recorded as the MD5 of RelayTicksSubscription, but it is not\n`);
  });

  it('is idempotent: importing the same file twice changes nothing', async () => {
    const dir = await tempFolder();
    const schema = await testSchemaFile();
    const args = ['--import', join(FIXTURES, 'relay-query-map.json'), '--schema', schema, '--dir', dir];
    expect((await register(args)).code).toBe(0);
    const before = await readFile(join(dir, 'subway.json'), 'utf8');
    const second = await register(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('(operation already registered)');
    expect(await readFile(join(dir, 'subway.json'), 'utf8')).toBe(before);
  });

  const TICK = (name: string) => `subscription ${name}($symbol: String!) { ticks(symbol: $symbol) { symbol } }`;
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  it.each<[string, unknown, Record<string, string>, string[], string[]?]>([
    ['a custom id without --allow-custom-ids', { 'my-id': TICK('A') }, {}, ['{file} "my-id": the id "my-id" is not the SHA-256, SHA-1 or MD5 of its body; pass --allow-custom-ids to accept it unverified']],
    ['an anonymous operation', { [md5('{ hello }')]: '{ hello }' }, {}, [`{file} "${md5('{ hello }')}": the operation is anonymous; subway names each operation (its file is <Name>.graphql)`]],
    ['several operations in one document', [[md5('query A { hello } query B { hello }'), 'query A { hello } query B { hello }']], {}, ['{file} [0]: holds 2 operations; a persisted document holds exactly one']],
    ['a name taken by a different operation', { [md5(TICK('Ticks'))]: TICK('Ticks') }, { 'Ticks.graphql': 'subscription Ticks { ticks(symbol: "A") { price } }\n' }, [`{file} "${md5(TICK('Ticks'))}": operation "Ticks" already exists (Ticks.graphql) with different text`]],
    ['one id for two documents', [[md5(TICK('A')), TICK('A')], [md5(TICK('A')), TICK('B')]], {}, [`{file} [1]: the id "${md5(TICK('A'))}" is not the SHA-256, SHA-1 or MD5 of its body; pass --allow-custom-ids to accept it unverified`]],
    ['one custom id for two documents', [['v1', TICK('A')], ['v1', TICK('B')]], {}, [`{file} [1]: the id "v1" already stands for another operation (${sha256(TICK('A'))})`], ['--allow-custom-ids']],
    ['a custom id that is the name of another operation', { Other: TICK('A') }, { 'Other.graphql': 'query Other { hello }\n' }, ['{file} "Other": the id "Other" is the name of another operation'], ['--allow-custom-ids']],
    ['a custom id that looks like a SHA-256', { ['a'.repeat(64)]: TICK('A') }, {}, [`{file} "${'a'.repeat(64)}": the id "${'a'.repeat(64)}" looks like a SHA-256 id but is not the hash of its body`], ['--allow-custom-ids']],
    ['an Apollo entry whose name differs from its body', { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(TICK('A')), name: 'B', type: 'subscription', body: TICK('A') }] }, {}, ['{file} operations[0]: named "B" in the file but "A" in its body']],
  ])('refuses %s, with a clear message, and writes nothing', async (_, content, existing, expected, flags = []) => {
    const dir = await tempFolder(existing);
    const file = join(await tempFolder({ 'import.json': JSON.stringify(content) }), 'import.json');
    const result = await register(['--import', file, '--schema', await testSchemaFile(), '--dir', dir, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([...expected.map((l) => l.replace('{file}', file)), `${expected.length} problem${expected.length === 1 ? '' : 's'}; nothing was written.`]);
    await expect(readFile(join(dir, 'subway.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a file in no known format', async () => {
    const file = join(await tempFolder({ 'import.json': '"text"' }), 'import.json');
    const result = await register(['--import', file, '--schema', await testSchemaFile(), '--dir', await tempFolder()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${file}: cannot import: expected an Apollo manifest, a {id: document} map or an [[id, text]] list\n`);
  });
});
