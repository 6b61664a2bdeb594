/**
 * Signed bundles: Ed25519 through Web Crypto (`crypto.subtle`, in Node and
 * workerd alike), so whoever can write to the bucket, CDN or KV namespace a
 * gateway reads cannot add an operation without the private key.
 *
 * Key formats (what `openssl genpkey -algorithm ed25519` and
 * `subway register --generate-key` write):
 * - private key: PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`);
 * - public key: PEM, SPKI (`-----BEGIN PUBLIC KEY-----`), or its base64 body
 *   on one line (`MCowBQYDK2VwAyEA…`, what `PERSISTED_OPERATIONS_PUBLIC_KEY`
 *   usually holds), or the raw 32-byte key in base64.
 */
import { BUNDLE_FORMAT, signedBytes, type SubwayBundle } from './bundle.ts';
import { sourceFailure } from './source.ts';

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const ED25519 = { name: 'Ed25519' } as const;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The base64 body of a PEM block of `label`, or undefined when `text` is no such block. */
function pemBody(text: string, label: string): string | undefined {
  const m = new RegExp(`^-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----$`).exec(text.trim());
  return m?.[1]!.replace(/\s+/g, '');
}

function pem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Reads an Ed25519 public key in any of the accepted forms; returns its raw
 * 32 bytes, or a sentence saying what is wrong.
 */
export function parsePublicKey(text: string): Uint8Array<ArrayBuffer> | string {
  const trimmed = text.trim();
  const body = trimmed.startsWith('-----') ? pemBody(trimmed, 'PUBLIC KEY') : trimmed;
  if (body === undefined) return 'a PEM public key must be one "-----BEGIN PUBLIC KEY-----" block';
  const bytes = fromBase64(body);
  if (!bytes) return 'not base64 or PEM';
  if (bytes.length === 32) return bytes;
  if (bytes.length === 44 && SPKI_PREFIX.every((b, i) => bytes[i] === b)) return bytes.slice(12);
  return 'not an Ed25519 public key (expected the SPKI of `openssl pkey -pubout`, or 32 raw bytes)';
}

/** The key id bundles name their signer by: 16 hex digits of the SHA-256 of the raw public key. */
export async function keyIdOf(raw: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', raw))).slice(0, 16);
}

function rejected(source: string, detail: string): never {
  throw sourceFailure('signature', `${source}: ${detail}`);
}

export interface BundleVerifier {
  /** Whether bundles must be signed (public keys are configured). */
  readonly required: boolean;
  /** Throws unless `bundle` (as parsed) is signed by one of the keys. A no-op when none are configured. */
  verify(bundle: object, source: string): Promise<void>;
}

/**
 * Verifies bundles against the raw public keys (32 bytes each, as
 * `parsePublicKey` returns them). Several keys allow a rotation: sign with
 * the new key once every gateway trusts both. Keys are imported on first use.
 */
export function createBundleVerifier(rawKeys: readonly Uint8Array<ArrayBuffer>[]): BundleVerifier {
  let keys: Promise<{ id: string; key: WebCryptoKey }[]> | undefined;
  const imported = () =>
    (keys ??= Promise.all(
      rawKeys.map(async (raw) => ({ id: await keyIdOf(raw), key: await crypto.subtle.importKey('raw', raw, ED25519, false, ['verify']) })),
    ));
  return {
    required: rawKeys.length > 0,
    async verify(bundle, source) {
      if (rawKeys.length === 0) return;
      const signature = (bundle as Partial<SubwayBundle>).signature;
      if (!signature) rejected(source, 'is not signed, and PERSISTED_OPERATIONS_PUBLIC_KEY requires a signature');
      const all = await imported();
      const candidates = all.filter((k) => k.id === signature.keyId);
      if (candidates.length === 0) {
        rejected(source, `is signed by key ${signature.keyId}, which is not in PERSISTED_OPERATIONS_PUBLIC_KEY (${all.map((k) => k.id).join(', ')})`);
      }
      const value = fromBase64(signature.value);
      const data = signedBytes(bundle);
      for (const { key } of candidates) {
        if (value && value.length === 64 && (await crypto.subtle.verify(ED25519, key, value, data))) return;
      }
      rejected(source, `has a signature that does not verify with key ${signature.keyId}: the bundle was changed after it was signed`);
    },
  };
}

/**
 * Web Crypto's key, named without the DOM lib: Node's own types declare
 * `CryptoKey` as a value only, and these declarations must compile there too.
 */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface SigningKey {
  readonly privateKey: WebCryptoKey;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array<ArrayBuffer>;
  readonly keyId: string;
}

/** Imports a PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`, `register --generate-key`). */
export async function importSigningKey(text: string): Promise<SigningKey> {
  const body = pemBody(text, 'PRIVATE KEY');
  const der = body === undefined ? undefined : fromBase64(body);
  if (!der) throw new Error('not a PEM private key (expected one "-----BEGIN PRIVATE KEY-----" block, PKCS#8, Ed25519)');
  let extractable: WebCryptoKey;
  try {
    extractable = await crypto.subtle.importKey('pkcs8', der, ED25519, true, ['sign']);
  } catch {
    throw new Error('not an Ed25519 private key in PKCS#8 (make one with `subway register --generate-key <file>` or `openssl genpkey -algorithm ed25519`)');
  }
  // The JWK of an OKP private key carries its public half (`x`): the key id needs it.
  const { x } = await crypto.subtle.exportKey('jwk', extractable);
  const publicKey = fromBase64((x ?? '').replace(/-/g, '+').replace(/_/g, '/').padEnd(44, '='))!;
  const privateKey = await crypto.subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
  return { privateKey, publicKey, keyId: await keyIdOf(publicKey) };
}

/** The bundle with its `signature` (replacing any earlier one). */
export async function signBundle(bundle: SubwayBundle, key: SigningKey): Promise<SubwayBundle> {
  const { signature: _, ...unsigned } = bundle;
  if (unsigned.format !== BUNDLE_FORMAT) throw new Error('not an operations bundle');
  const value = new Uint8Array(await crypto.subtle.sign(ED25519, key.privateKey, signedBytes(unsigned)));
  return { ...unsigned, signature: { algorithm: 'Ed25519', keyId: key.keyId, value: toBase64(value) } };
}

export interface GeneratedKeyPair {
  /** PKCS#8 PEM: keep it secret (a CI secret), give it to `register --sign`. */
  privatePem: string;
  /** SPKI PEM. */
  publicPem: string;
  /** The SPKI's base64 on one line: the value for `PERSISTED_OPERATIONS_PUBLIC_KEY`. */
  publicBase64: string;
  keyId: string;
}

export async function generateKeyPair(): Promise<GeneratedKeyPair> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as { privateKey: WebCryptoKey; publicKey: WebCryptoKey };
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  return {
    privatePem: pem('PRIVATE KEY', pkcs8),
    publicPem: pem('PUBLIC KEY', spki),
    publicBase64: toBase64(spki),
    keyId: await keyIdOf(spki.slice(12)),
  };
}
