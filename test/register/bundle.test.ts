/**
 * `register` writes the bundle beside the other generated files; `--sign`
 * signs it, `--generate-key` makes the key (and the value the gateways need),
 * `--publish-kv` hands it to wrangler. Real files, real keys (the KV write
 * itself is tested against workerd in test/worker/sources.test.ts).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBundle } from '../../src/core/operations/bundle.ts';
import { createBundleVerifier, parsePublicKey } from '../../src/core/operations/signature.ts';
import { registryFromBundleText } from '../../src/core/operations/validate.ts';
import { parseKvTarget, wranglerKvArgs } from '../../src/register/publish-kv.ts';
import { testKey } from '../fixtures/bundle.ts';
import { register, registerProcess, tempFolder, testSchemaFile } from '../fixtures/register.ts';

const TICKS = 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n';
const HELLO = 'query Hello { hello }\n';

async function folder() {
  return { dir: await tempFolder({ 'Ticks.graphql': TICKS, 'Hello.graphql': HELLO }), schema: await testSchemaFile() };
}

describe('register: the bundle', () => {
  it('writes subway-bundle.json: the manifest\'s operations, the aliases and the input schema, loadable as it is', async () => {
    const { dir, schema } = await folder();
    const result = await register(['--schema', schema, '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/, \S*subway-bundle\.json\.\n$/);
    const text = await readFile(join(dir, 'subway-bundle.json'), 'utf8');
    const bundle = checkBundle(JSON.parse(text), 'b');
    const manifest = JSON.parse(await readFile(join(dir, 'persisted-query-manifest.json'), 'utf8'));
    const companion = JSON.parse(await readFile(join(dir, 'subway.json'), 'utf8'));
    expect(bundle).toEqual({ format: 'subway-operations-bundle', version: 1, operations: manifest.operations, aliases: {}, inputSchema: companion.inputSchema });
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['format', 'version', 'operations', 'aliases', 'inputSchema']);
    expect((await registryFromBundleText(text, 'b', createBundleVerifier([]))).operations.map((o) => o.name)).toEqual(['Hello', 'Ticks']);
  });

  it('--sign signs it with a PKCS#8 key from OpenSSL; the signature verifies, and --check accepts a signed bundle', async () => {
    const { dir, schema } = await folder();
    const key = await testKey();
    const keyFile = join(await tempFolder({ 'signing.pem': key.privatePem }), 'signing.pem');
    const result = await register(['--schema', schema, '--dir', dir, '--sign', keyFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`(the bundle signed with key ${key.signing.keyId}).`);
    const text = await readFile(join(dir, 'subway-bundle.json'), 'utf8');
    expect(JSON.parse(text).signature).toMatchObject({ algorithm: 'Ed25519', keyId: key.signing.keyId });
    const verifier = createBundleVerifier([parsePublicKey(key.publicPem) as Uint8Array<ArrayBuffer>]);
    expect((await registryFromBundleText(text, 'b', verifier)).operations).toHaveLength(2);
    // Ed25519 is deterministic: signing again writes the same bytes.
    expect((await register(['--schema', schema, '--dir', dir, '--sign', keyFile])).code).toBe(0);
    expect(await readFile(join(dir, 'subway-bundle.json'), 'utf8')).toBe(text);
    // CI checks the committed files, signed or not.
    expect((await register(['--check', '--schema', schema, '--dir', dir])).code).toBe(0);
    // An edited bundle is stale, signature or not.
    await writeFile(join(dir, 'subway-bundle.json'), text.replace('"Hello"', '"Hallo"'));
    const check = await register(['--check', '--schema', schema, '--dir', dir]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('subway-bundle.json is out of date');
  });

  it('--generate-key writes a private key only its owner reads, and prints the public key the gateways take', async () => {
    const dir = await tempFolder();
    const file = join(dir, 'signing.pem');
    const result = await registerProcess(['--generate-key', file]);
    expect(result.code).toBe(0);
    const publicKey = /PERSISTED_OPERATIONS_PUBLIC_KEY=(\S+)\n$/.exec(result.stdout)![1]!;
    expect(publicKey).toMatch(/^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect(await readFile(`${file}.pub`, 'utf8')).toBe(`-----BEGIN PUBLIC KEY-----\n${publicKey}\n-----END PUBLIC KEY-----\n`);
    // The key signs, and the printed value verifies.
    const { dir: ops, schema } = await folder();
    expect((await register(['--schema', schema, '--dir', ops, '--sign', file])).code).toBe(0);
    const verifier = createBundleVerifier([parsePublicKey(publicKey) as Uint8Array<ArrayBuffer>]);
    expect((await registryFromBundleText(await readFile(join(ops, 'subway-bundle.json'), 'utf8'), 'b', verifier)).operations).toHaveLength(2);
    // A key is never overwritten.
    const again = await register(['--generate-key', file]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `${file}.pub exists: a key is never overwritten; choose another name.\n` });
  });

  it.each([
    [['--check', '--sign', 'k.pem'], '--check writes nothing: it goes with neither --sign nor --publish-kv.'],
    [['--local'], '--local and --persist-to say where --publish-kv writes.'],
    [['--publish-kv', 'my-namespace'], '--publish-kv takes a namespace id (32 hex digits) or a binding name, then optionally /<key>; got "my-namespace"'],
    [['--generate-key', 'k.pem', '--check'], '--generate-key makes a key and nothing else.'],
  ])('refuses %j with a usage error', async (args, message) => {
    const { dir, schema } = await folder();
    const result = await register([...(args[0] === '--generate-key' ? [] : ['--schema', schema, '--dir', dir]), ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(message);
  });

  it('fails, writing nothing, when the signing key cannot be read', async () => {
    const { dir, schema } = await folder();
    const result = await register(['--schema', schema, '--dir', dir, '--sign', join(dir, 'nope.pem')]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `Cannot sign with the key: cannot read ${join(dir, 'nope.pem')} (ENOENT)\n` });
    await expect(stat(join(dir, 'subway-bundle.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('--publish-kv runs `wrangler kv key put` for a namespace id or a binding, remote unless --local', () => {
    expect(parseKvTarget('0123456789abcdef0123456789abcdef/web')).toEqual({ namespace: '0123456789abcdef0123456789abcdef', key: 'web' });
    expect(parseKvTarget('OPERATIONS')).toEqual({ namespace: 'OPERATIONS', key: 'subway-bundle.json' });
    expect(wranglerKvArgs({ namespace: 'OPERATIONS', key: 'web' }, 'ops/subway-bundle.json')).toEqual([
      'kv', 'key', 'put', 'web', '--path', 'ops/subway-bundle.json', '--binding', 'OPERATIONS', '--remote',
    ]);
    expect(wranglerKvArgs({ namespace: '0123456789abcdef0123456789abcdef', key: 'web' }, 'b.json', { local: true, persistTo: '.state' })).toEqual([
      'kv', 'key', 'put', 'web', '--path', 'b.json', '--namespace-id', '0123456789abcdef0123456789abcdef', '--local', '--persist-to', '.state',
    ]);
  });
});
