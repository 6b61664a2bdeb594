/**
 * A self-signed certificate for local development, so `npm start` serves
 * HTTP/2 (browsers speak HTTP/2 only over TLS). Made once with `selfsigned`,
 * kept in a git-ignored folder, and reused across restarts until it is within
 * a week of expiring.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { DEFAULTS } from '../core/defaults.ts';

export interface DevCertificate {
  cert: string;
  key: string;
  /** Where the PEM files are: `<dir>/cert.pem`, `<dir>/key.pem`. */
  certPath: string;
  keyPath: string;
  /** Whether this call made it (false: reused from an earlier start). */
  created: boolean;
}

const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

async function reuse(certPath: string, keyPath: string, now: number): Promise<{ cert: string; key: string } | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - now < RENEW_BEFORE_MS) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    return { cert, key };
  } catch {
    return undefined; // missing or unreadable: make a new one
  }
}

/**
 * Reads the certificate in `dir`, or makes one for localhost, 127.0.0.1 and ::1.
 * @param dir folder of the PEM files, created if missing. @default ".dev-certs"
 */
export async function devCertificate(dir: string = DEFAULTS.devCertDir, now = Date.now()): Promise<DevCertificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const found = await reuse(certPath, keyPath, now);
  if (found) return { ...found, certPath, keyPath, created: false };
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(now + 365 * 24 * 3600 * 1000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await mkdir(dir, { recursive: true });
  // Written beside and renamed, so two starts at once never read half a file.
  const suffix = `.${process.pid}.tmp`;
  await writeFile(keyPath + suffix, pems.private, { mode: 0o600 });
  await writeFile(certPath + suffix, pems.cert);
  await rename(keyPath + suffix, keyPath);
  await rename(certPath + suffix, certPath);
  return { cert: pems.cert, key: pems.private, certPath, keyPath, created: true };
}
