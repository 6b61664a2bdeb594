import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/core/config.ts';
import { DEMO_CUT_PATH, startServer } from '../../src/node/server.ts';
import { createStaticHandler } from '../../src/node/static.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startUpstream } from '../fixtures/upstream.ts';

async function site() {
  const root = await mkdtemp(join(tmpdir(), 'subway-static-'));
  onTeardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'site', 'assets'), { recursive: true });
  await writeFile(join(root, 'site', 'index.html'), '<!doctype html><title>demo</title>');
  await writeFile(join(root, 'site', 'assets', 'app-1a2b.js'), 'console.log(1)');
  await writeFile(join(root, 'secret.json'), '{"secret":true}');
  return createStaticHandler(join(root, 'site'));
}

const get = (path: string, method = 'GET') => new Request(`http://localhost${path}`, { method });

describe('the demo page handler', () => {
  it('serves / as index.html (revalidated) and hashed assets (immutable)', async () => {
    const serve = await site();
    const index = (await serve(get('/')))!;
    expect(index.status).toBe(200);
    expect(Object.fromEntries(index.headers)).toEqual({
      'cache-control': 'no-cache',
      'content-length': '34',
      'content-type': 'text/html; charset=utf-8',
      'x-content-type-options': 'nosniff',
    });
    expect(await index.text()).toBe('<!doctype html><title>demo</title>');
    const asset = (await serve(get('/assets/app-1a2b.js')))!;
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const head = (await serve(get('/assets/app-1a2b.js', 'HEAD')))!;
    expect(head.headers.get('content-length')).toBe('14');
    expect(head.body).toBeNull();
  });

  it('answers another method on a page with 405 and its Allow', async () => {
    const serve = await site();
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = (await serve(get('/', method)))!;
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toEqual({ errors: [{ message: 'Only GET and HEAD are served on this page.', extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
    }
  });

  it('leaves everything else to the gateway: missing files, folders, paths outside the root, names no file can have', async () => {
    const serve = await site();
    for (const request of [
      get('/missing.js', 'POST'),
      get('/graphql?id=Clock'),
      get('/missing.js'),
      get('/assets'),
      get('/assets/'),
      get('/%2e%2e/secret.json'),
      get('/..%2fsecret.json'),
      get('/%E0%A4%A'),
      get('/a%00b.js'),
      get(`/${'a'.repeat(5000)}.js`),
      get('/index.html/x.js'),
    ]) {
      expect(await serve(request), request.url).toBeUndefined();
    }
  });
});

describe('the demo page’s "cut network" route', () => {
  async function demoFolder() {
    const root = await mkdtemp(join(tmpdir(), 'subway-demo-'));
    onTeardown(() => rm(root, { recursive: true, force: true }));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>demo</title>');
    return root;
  }

  it('resets the requester’s connections when the embedded example serves the demo', async () => {
    const demoDir = await demoFolder();
    const server = await startServer(readConfig({ PORT: '0', HOST: '127.0.0.1', TLS: 'off' }), { demoDir, log: () => {} });
    onTeardown(() => server.close());
    expect(server.demo).toBe(true);
    const error = await fetch(`${server.url}${DEMO_CUT_PATH}`, { method: 'POST' }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(TypeError);
  });

  it('does not exist with a configured UPSTREAM_URL (a production gateway)', async () => {
    const upstream = await startUpstream();
    const demoDir = await demoFolder();
    const server = await startServer(readConfig({ PORT: '0', HOST: '127.0.0.1', TLS: 'off', UPSTREAM_URL: upstream.url }), { demoDir, log: () => {} });
    onTeardown(() => server.close());
    expect(server.demo).toBe(false);
    const response = await fetch(`${server.url}${DEMO_CUT_PATH}`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
  });
});
