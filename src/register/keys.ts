/**
 * `register --generate-key <file>` and `--sign <file>`: the signing key on
 * disk (PEM, PKCS#8, Ed25519; see src/core/operations/signature.ts). Node-only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { generateKeyPair, importSigningKey, type GeneratedKeyPair, type SigningKey } from '../core/operations/signature.ts';

/** Writes a new key pair: the private key to `file` (mode 600, never over an existing file), the public key to `<file>.pub`. */
export async function writeKeyPair(file: string): Promise<GeneratedKeyPair> {
  const pair = await generateKeyPair();
  // The public half first: a failure leaves no private key behind.
  await writeFile(`${file}.pub`, pair.publicPem, { flag: 'wx' });
  await writeFile(file, pair.privatePem, { mode: 0o600, flag: 'wx' });
  return pair;
}

export async function readSigningKey(file: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return await importSigningKey(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
