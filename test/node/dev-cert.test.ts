import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devCertificate } from '../../src/node/dev-cert.ts';
import { onTeardown } from '../fixtures/leftovers.ts';

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'subway-certs-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, '.dev-certs');
}

describe('devCertificate', () => {
  it('makes a certificate for localhost, 127.0.0.1 and ::1 once, and reuses it', async () => {
    const dir = await tempDir();
    const made = await devCertificate(dir);
    expect(made).toMatchObject({ created: true, certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') });
    const x509 = new X509Certificate(made.cert);
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(await readFile(made.certPath, 'utf8')).toBe(made.cert);
    expect((await stat(made.keyPath)).mode & 0o777).toBe(0o600);

    const again = await devCertificate(dir);
    expect(again).toEqual({ ...made, created: false });
  });

  it('makes a new one when the old one is within a week of expiring', async () => {
    const dir = await tempDir();
    const made = await devCertificate(dir);
    const expires = Date.parse(new X509Certificate(made.cert).validTo);
    const later = await devCertificate(dir, expires - 6 * 24 * 3600 * 1000);
    expect(later.created).toBe(true);
    expect(later.cert).not.toBe(made.cert);
  });
});
