/**
 * The bundle is validated whole before it may be served: format and
 * version, every id against its document's bytes, an input schema with every
 * variable's type, and (with keys configured) an Ed25519 signature over the
 * canonical JSON. Real Web Crypto; keys made by Node's OpenSSL.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, signedBytes } from '../../../src/core/operations/bundle.ts';
import { formatJson } from '../../../src/core/operations/manifest.ts';
import { createBundleVerifier, generateKeyPair, importSigningKey, keyIdOf, parsePublicKey, signBundle } from '../../../src/core/operations/signature.ts';
import { failureReason } from '../../../src/core/operations/source.ts';
import { registryFromBundleText } from '../../../src/core/operations/validate.ts';
import { bundleOf, bundleText, testKey } from '../../fixtures/bundle.ts';
import { TEST_OPERATIONS } from '../../fixtures/gateway.ts';

const none = createBundleVerifier([]);
const raw = (key: string) => parsePublicKey(key) as Uint8Array<ArrayBuffer>;

/** The failure a bundle text gets, as `[reason, message]`. */
async function refusal(text: string, verifier = none): Promise<[string, string]> {
  try {
    await registryFromBundleText(text, 'https://cdn.test/b.json', verifier);
  } catch (err) {
    return [failureReason(err), (err as Error).message];
  }
  throw new Error('the bundle was accepted');
}

describe('the bundle', () => {
  it('builds the registry of its operations, aliases and input types', async () => {
    const text = await bundleText(TEST_OPERATIONS);
    const registry = await registryFromBundleText(text, 'b', none);
    expect(registry.operations.map((o) => o.name).sort()).toEqual(['Bump', 'Failing', 'Greetings', 'Hello', 'Orders', 'Ticks']);
    const orders = registry.resolve('Orders')!;
    expect(orders.inputSchema.getType('OrderFilter')?.toString()).toBe('OrderFilter');
    expect(JSON.parse(text)).toMatchObject({ format: 'subway-operations-bundle', version: 1, aliases: {} });
  });

  it.each([
    ['not JSON', (t: string) => t.slice(0, 40), 'invalid', 'https://cdn.test/b.json: not JSON ('],
    ['another format', (t: string) => t.replace('"subway-operations-bundle"', '"apollo-persisted-query-manifest"'), 'invalid', '"format" must be "subway-operations-bundle", got "apollo-persisted-query-manifest"'],
    ['a newer version', (t: string) => t.replace('"version": 1', '"version": 2'), 'invalid', 'bundle version 2 is newer than this gateway reads (1): upgrade subway'],
    ['an id that is not its body\'s hash', (t: string) => t.replace('ticks(symbol: $symbol) { symbol price }', 'ticks(symbol: $symbol) { symbol }'), 'invalid', 'operation Ticks has the id'],
    ['a variable type missing from the input schema', (t: string) => t.replace(/input OrderFilter \{[^}]*\}\\n/, ''), 'invalid', 'Operation Orders: the input schema has no input type OrderFilter for $filter'],
    ['an input schema that does not build', (t: string) => t.replace('"inputSchema": "', '"inputSchema": "input {'), 'invalid', 'The input schema does not build'],
  ])('refuses %s, naming the source', async (_, corrupt, reason, message) => {
    const [got, text] = await refusal(corrupt(await bundleText(TEST_OPERATIONS)));
    expect(got).toBe(reason);
    expect(text).toContain('https://cdn.test/b.json');
    expect(text).toContain(message);
  });

  it('refuses an id that is not its body\'s hash, with both hashes', async () => {
    const bundle = bundleOf({ Hello: TEST_OPERATIONS.Hello! });
    bundle.operations[0]!.id = 'a'.repeat(64);
    const [, message] = await refusal(formatJson(bundle));
    expect(message).toMatch(/^https:\/\/cdn\.test\/b\.json: operation Hello has the id a{64}, but its document hashes to [0-9a-f]{64}$/);
  });
});

describe('signatures', () => {
  it('signs the canonical JSON of everything but the signature, and verifies with the public key in each documented form', async () => {
    const key = await testKey();
    const text = await bundleText(TEST_OPERATIONS, key.signing);
    const parsed = JSON.parse(text);
    expect(parsed.signature).toEqual({ algorithm: 'Ed25519', keyId: key.signing.keyId, value: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/) });
    expect(key.signing.keyId).toBe(await keyIdOf(raw(key.publicBase64)));
    // Canonical: sorted keys, no whitespace; independent of how the file is indented.
    expect(new TextDecoder().decode(signedBytes(parsed))).toBe(canonicalJson({ ...parsed, signature: undefined }));
    expect(canonicalJson({ b: [1, 'é', { d: null, c: true }], a: 'x"y' })).toBe('{"a":"x\\"y","b":[1,"é",{"c":true,"d":null}]}');
    const rawBase64 = Buffer.from(raw(key.publicBase64)).toString('base64');
    for (const form of [key.publicPem, key.publicBase64, rawBase64]) {
      const registry = await registryFromBundleText(JSON.stringify(parsed), 'b', createBundleVerifier([raw(form)]));
      expect(registry.operations).toHaveLength(6);
    }
  });

  it('refuses unsigned, wrongly signed and altered bundles when a key is configured', async () => {
    const key = await testKey();
    const other = await testKey();
    const verifier = createBundleVerifier([raw(key.publicBase64)]);
    expect(await refusal(await bundleText(TEST_OPERATIONS), verifier)).toEqual([
      'signature',
      'https://cdn.test/b.json: is not signed, and PERSISTED_OPERATIONS_PUBLIC_KEY requires a signature',
    ]);
    expect(await refusal(await bundleText(TEST_OPERATIONS, other.signing), verifier)).toEqual([
      'signature',
      `https://cdn.test/b.json: is signed by key ${other.signing.keyId}, which is not in PERSISTED_OPERATIONS_PUBLIC_KEY (${key.signing.keyId})`,
    ]);
    // Whoever can write to the bucket adds an operation to a signed bundle: the signature no longer verifies.
    const signed = JSON.parse(await bundleText({ Hello: TEST_OPERATIONS.Hello! }, key.signing));
    const injected = bundleOf({ Hello: TEST_OPERATIONS.Hello!, Ticks: TEST_OPERATIONS.Ticks! });
    const altered = JSON.stringify({ ...injected, signature: signed.signature });
    expect(await refusal(altered, verifier)).toEqual([
      'signature',
      `https://cdn.test/b.json: has a signature that does not verify with key ${key.signing.keyId}: the bundle was changed after it was signed`,
    ]);
    // A forged key id does not help either.
    const forged = await signBundle(bundleOf({ Ticks: TEST_OPERATIONS.Ticks! }), { ...other.signing, keyId: key.signing.keyId });
    expect((await refusal(JSON.stringify(forged), verifier))[1]).toContain('has a signature that does not verify');
  });

  it('accepts a bundle signed by any of several keys (a rotation)', async () => {
    const [old, next] = [await testKey(), await testKey()];
    const verifier = createBundleVerifier([raw(old.publicBase64), raw(next.publicBase64)]);
    for (const key of [old, next]) {
      expect((await registryFromBundleText(await bundleText({ Hello: TEST_OPERATIONS.Hello! }, key.signing), 'b', verifier)).operations).toHaveLength(1);
    }
  });

  it('makes key pairs in the formats it reads, and reads the keys OpenSSL writes', async () => {
    const pair = await generateKeyPair();
    expect(pair.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
    expect(pair.publicPem).toBe(`-----BEGIN PUBLIC KEY-----\n${pair.publicBase64}\n-----END PUBLIC KEY-----\n`);
    expect(pair.publicBase64).toMatch(/^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/);
    const signing = await importSigningKey(pair.privatePem);
    expect(signing.keyId).toBe(pair.keyId);
    const verifier = createBundleVerifier([raw(pair.publicPem)]);
    expect((await registryFromBundleText(await bundleText({ Hello: TEST_OPERATIONS.Hello! }, signing), 'b', verifier)).operations).toHaveLength(1);
    // Node's OpenSSL reads what Web Crypto wrote, and the other way round (testKey is made by OpenSSL).
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    expect(createPrivateKey(pair.privatePem).asymmetricKeyType).toBe('ed25519');
    expect(createPublicKey(pair.publicPem).asymmetricKeyType).toBe('ed25519');
  });

  it.each([
    ['not base64', 'not a key!', 'not base64 or PEM'],
    ['an RSA key', 'MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==', 'not an Ed25519 public key'],
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE\n-----END PRIVATE KEY-----', 'a PEM public key must be one "-----BEGIN PUBLIC KEY-----" block'],
  ])('refuses a public key that is %s', (_, text, message) => {
    expect(parsePublicKey(text)).toContain(message);
  });

  it('refuses to sign with something that is not an Ed25519 PKCS#8 key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(importSigningKey(rsa)).rejects.toThrow('not an Ed25519 private key in PKCS#8');
    await expect(importSigningKey('hello')).rejects.toThrow('not a PEM private key');
  });
});
