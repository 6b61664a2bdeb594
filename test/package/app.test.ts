/**
 * The packages as a team adopts them: `npm pack` makes the two tarballs once
 * per run, and a separate React + Vite + TypeScript app (test/package/app,
 * copied to a temporary folder, outside this repository's tsconfig)
 * installs them from the tarballs, as it would from the registry. Then the app
 *
 * - registers its own `.graphql` folder with the installed `npx subway register`
 *   against a live upstream (introspection over graphql-ws),
 * - type-checks under `strict`, `exactOptionalPropertyTypes`,
 *   `noPropertyAccessFromIndexSignature` (no `allowImportingTsExtensions`, no
 *   `skipLibCheck`), and again under `strict: false`,
 * - builds with Vite,
 * - streams in Chromium, through Vite's proxy, from a gateway started by the
 *   installed `npx subway start`,
 * - a plain Node `.mjs` script imports the client from the package and
 *   receives events,
 * - and the gateway runs on workerd from the package: `npx subway worker dev`
 *   on the app's folder streams, and the app's own Worker entry
 *   (`createWorkerHandler` with its JSON imported) bundles with wrangler.
 *
 * The docs' code blocks that claim to compile are type-checked there too,
 * against the installed packages. Other versions (React, Vite, TypeScript,
 * ...) are pinned to the ones this repository installed, so npm finds them in
 * its cache.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandler } from '../../src/worker/app.ts';
import { launchChromium } from '../browser/chromium.ts';
import { runCommand } from '../fixtures/cli.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { freePort } from '../fixtures/ports.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { extractSnippets, KINDS, snippetFile } from './snippets.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Node 24 (the `node` devDependency) first on the PATH of every command the app runs, as npm scripts have it. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;

interface Packed {
  name: string;
  filename: string;
  files: { path: string; size: number }[];
  size: number;
  unpackedSize: number;
}

let tmp: string;
let app: string;
let packed: Packed[];

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeout?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, PATH, ...options.env }, timeout: options.timeout ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolveRun({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, stdout, stderr }),
    );
  });
}

async function ok(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The version this repository installed (read from node_modules: some packages do not export their package.json). */
const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const tarball = (name: string) => join(tmp, 'pack', packed.find((p) => p.name === name)!.filename);
const npmInstall = (cwd: string) => ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, timeout: 240_000 });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'subway-package-'));
  await mkdir(join(tmp, 'pack'));
  // Once per run: the tarballs as the registry would have them (each package's prepack builds it).
  const out = await ok('npm', ['pack', '--workspaces', '--include-workspace-root', '--pack-destination', join(tmp, 'pack'), '--json', '--loglevel=error'], { cwd: ROOT, timeout: 240_000 });
  packed = JSON.parse(out.slice(out.indexOf('[\n'))) as Packed[];
  app = join(tmp, 'app');
  await cp(join(ROOT, 'test/package/app'), app, { recursive: true });
  const manifest = {
    name: 'an-app',
    private: true,
    type: 'module',
    dependencies: { '@subway-sse/client': `file:${tarball('@subway-sse/client')}`, react: version('react'), 'react-dom': version('react-dom') },
    devDependencies: {
      '@subway-sse/gateway': `file:${tarball('@subway-sse/gateway')}`,
      ...Object.fromEntries(['@types/node', '@types/react', '@types/react-dom', 'eventsource', 'hono', 'typescript', 'vite', 'wrangler'].map((p) => [p, version(p)])),
    },
  };
  await writeFile(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await npmInstall(app);
}, 480_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The installed `npx subway …`, in the app. */
const subway = (args: string[], env: Record<string, string> = {}) => run('npx', ['--no-install', 'subway', ...args], { cwd: app, env });

async function register(upstream: TestUpstream): Promise<void> {
  const result = await subway(['register', '--dir', 'graphql', '--upstream', upstream.url]);
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('Registered 2 operations: wrote graphql/persisted-query-manifest.json, graphql/subway.json, graphql/operations.ts, graphql/subway-bundle.json.\n');
  expect(result.code).toBe(0);
}

/** `npx subway start` of the app on its own folder, on a free port; resolves with its URL. */
async function startGateway(upstream: TestUpstream): Promise<string> {
  const gateway = runCommand('npx', ['--no-install', 'subway', 'start', '--dir', 'graphql', '--upstream', upstream.url, '--port', '0'], { PATH, HOST: '127.0.0.1' }, { cwd: app, group: true, stopWith: 'SIGTERM' });
  const [, url] = await gateway.output(/subway listening on (http:\/\/127\.0\.0\.1:\d+) \(HTTP\/1\.1\)/);
  await gateway.output(/curl -N '[^']+'/);
  expect(gateway.stdout).toContain(`  2 persisted operations from graphql: Hello, Ticks\n\nTry it:\n  curl -N '${url}/graphql?id=Hello'\n`);
  return url!;
}

describe('the packages, installed into an app', () => {
  it('ship their built JavaScript, declarations and source maps, and nothing else', () => {
    const client = packed.find((p) => p.name === '@subway-sse/client')!;
    expect(client.files.map((f) => f.path).sort()).toEqual(
      ['LICENSE', 'README.md', 'package.json', ...['index', 'react', 'stable-json'].flatMap((m) => [`dist/${m}.d.ts`, `dist/${m}.js`, `dist/${m}.js.map`])].sort(),
    );
    const gateway = packed.find((p) => p.name === '@subway-sse/gateway')!;
    const strays = gateway.files.map((f) => f.path).filter((f) => !/^(dist\/lib\/.+\.(js|js\.map|d\.ts)|dist\/lib\/example\/schema\.graphql|docs\/[a-z-]+\.md|LICENSE|README\.md|package\.json)$/.test(f));
    expect(gateway.files.map((f) => f.path)).toContain('LICENSE');
    expect(strays).toEqual([]);
    for (const entry of ['dist/lib/core/index.js', 'dist/lib/node/index.js', 'dist/lib/worker/index.js', 'dist/lib/cli/subway.js']) {
      expect(gateway.files.map((f) => f.path)).toContain(entry);
    }
    console.log(`packed: @subway-sse/client ${client.size} B (${client.unpackedSize} B unpacked, ${client.files.length} files); @subway-sse/gateway ${gateway.size} B (${gateway.unpackedSize} B unpacked, ${gateway.files.length} files)`);
  });

  it('the client installs with no runtime dependencies: alone in node_modules, React an optional peer', async () => {
    const bare = join(tmp, 'bare');
    await mkdir(bare);
    await writeFile(join(bare, 'package.json'), '{"name":"bare","private":true}\n');
    await ok('npm', ['install', tarball('@subway-sse/client'), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: bare });
    const installed = (await readdir(join(bare, 'node_modules'))).filter((n) => !n.startsWith('.'));
    expect(installed).toEqual(['@subway-sse']);
    expect(await readdir(join(bare, 'node_modules/@subway-sse'))).toEqual(['client']);
    const manifest = JSON.parse(await readFile(join(bare, 'node_modules/@subway-sse/client/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest['dependencies']).toBeUndefined();
    expect(manifest['peerDependenciesMeta']).toEqual({ react: { optional: true } });
    expect(manifest['sideEffects']).toBe(false);
    // The app has one React: its own (two copies would break hooks).
    const reacts = (await run('npm', ['ls', 'react', '--all', '--parseable'], { cwd: app })).stdout.trim().split('\n');
    expect(reacts).toEqual([join(app, 'node_modules/react')]);
  }, 120_000);

  it('what a page loads of the client is small: subscribe and the hook, minified and gzipped', async () => {
    // This repository's Vite (the app's is the same version); imports resolve from the app's node_modules.
    const sizes: Record<string, number> = {};
    for (const [name, code] of Object.entries({
      subscribe: "import { subscribe } from '@subway-sse/client'; console.log(subscribe);",
      hook: "import { useSubscription } from '@subway-sse/client/react'; console.log(useSubscription);",
    })) {
      await writeFile(join(app, `${name}-entry.js`), code);
      const result = (await build({
        root: app,
        configFile: false,
        logLevel: 'silent',
        build: { write: false, lib: { entry: join(app, `${name}-entry.js`), formats: ['es'], fileName: name }, rollupOptions: { external: ['react'] } },
      })) as { output: { type: string; code?: string }[] } | { output: { type: string; code?: string }[] }[];
      const chunk = (Array.isArray(result) ? result[0]! : result).output.find((o) => o.type === 'chunk')!;
      sizes[name] = gzipSync(chunk.code!).length;
    }
    console.log(`client in a page, minified + gzip: subscribe ${sizes['subscribe']} B, useSubscription (and subscribe) ${sizes['hook']} B`);
    expect(sizes['subscribe']).toBeLessThan(2500);
    expect(sizes['hook']).toBeLessThan(3000);
  }, 60_000);

  it('registers its own operations with the installed `npx subway register`, and type-checks under the strictest settings and under strict: false', async () => {
    const upstream = await startUpstream();
    await register(upstream);
    const types = await readFile(join(app, 'graphql/operations.ts'), 'utf8');
    expect(types).toContain("  Ticks: { id: '");
    // Both programs in one `tsc --build` (one process, the libraries parsed once).
    const tsc = join(app, 'node_modules/typescript/bin/tsc');
    const checked = await run(process.execPath, [tsc, '--build', 'tsconfig.json', 'tsconfig.loose.json'], { cwd: app });
    expect(checked.stdout).toBe('');
    expect(checked.code).toBe(0);
    // `register --check` agrees the installed command wrote what it would write now.
    const check = await subway(['register', '--check', '--dir', 'graphql', '--upstream', upstream.url]);
    expect(check.stdout).toBe('2 operations in graphql validate and the generated files are up to date.\n');
  }, 120_000);

  it('builds with Vite, and streams in Chromium through the Vite proxy from a gateway the installed `npx subway start` runs', async () => {
    await ok(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build'], { cwd: app });
    const upstream = await startUpstream();
    const gateway = await startGateway(upstream);
    const port = await freePort();
    runCommand(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { SUBWAY_GATEWAY: gateway }, { cwd: app, stopWith: 'SIGTERM' });
    const page = `http://127.0.0.1:${port}`;
    await expect.poll(() => fetch(page).then((r) => r.status, () => 0), { timeout: 15_000 }).toBe(200);

    const browser: Browser = await launchChromium();
    onTeardown(() => browser.close());
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (err) => errors.push(String(err)));
    await tab.goto(`${page}/?symbol=ACME&symbol=GLOBEX`);
    await upstream.until(() => upstream.listeners('ACME') === 1 && upstream.listeners('GLOBEX') === 1, 'both tickers subscribed upstream');
    await tab.waitForSelector('#ticker-ACME[data-status=open]');
    upstream.publish('ACME', { symbol: 'ACME', price: 12.5 });
    upstream.publish('GLOBEX', { symbol: 'GLOBEX', price: 7 });
    await tab.waitForFunction(() => document.querySelector('#ticker-ACME')?.textContent === 'ACME: 12.50' && document.querySelector('#ticker-GLOBEX')?.textContent === 'GLOBEX: 7.00');
    upstream.publish('ACME', { symbol: 'ACME', price: 13 });
    await tab.waitForFunction(() => document.querySelector('#ticker-ACME')?.textContent === 'ACME: 13.00');
    expect(errors).toEqual([]);
    // Leaving the page closes its streams, through the proxy and the gateway, to the upstream.
    await tab.goto('about:blank');
    await upstream.until(() => upstream.sockets === 0, 'the upstream sockets closed');
  }, 120_000);

  it('a plain Node .mjs script imports the client from the package and receives events', async () => {
    const upstream = await startUpstream();
    const gateway = await startGateway(upstream);
    const script = runCommand(process.execPath, ['client.mjs', `${gateway}/graphql`, 'ACME', '2'], {}, { cwd: app });
    await script.output(/\{"open":true\}\n/);
    await upstream.until(() => upstream.listeners('ACME') === 1, 'the upstream subscription');
    upstream.publish('ACME', { symbol: 'ACME', price: 1 });
    upstream.publish('ACME', { symbol: 'ACME', price: 2 });
    expect(await script.exited).toBe(0);
    expect(script.stdout).toBe('{"open":true}\n{"data":{"ticks":{"symbol":"ACME","price":1}}}\n{"data":{"ticks":{"symbol":"ACME","price":2}}}\n');
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket closed after stop()');
  }, 60_000);

  it('runs on workerd from the package: `npx subway worker dev` streams the app\'s operations, and the app\'s own Worker entry bundles', async () => {
    const upstream = await startUpstream();
    const port = await freePort();
    const env = { PATH, WRANGLER_SEND_METRICS: 'false', UPSTREAM_URL: upstream.url, PORT: String(port), HOST: '127.0.0.1' };
    const dev = runCommand('npx', ['--no-install', 'subway', 'worker', 'dev', '--dir', 'graphql'], env, { cwd: app, group: true, stopWith: 'SIGINT' });
    await dev.output(/Ready on http:\/\/127\.0\.0\.1:\d+/);
    expect(dev.stdout).toContain('subway: bundling 2 persisted operations from graphql\n');
    const script = runCommand(process.execPath, ['client.mjs', `http://127.0.0.1:${port}/graphql`, 'WORKERD', '1'], {}, { cwd: app });
    await script.output(/\{"open":true\}\n/);
    await upstream.until(() => upstream.listeners('WORKERD') === 1, 'the upstream subscription from workerd');
    upstream.publish('WORKERD', { symbol: 'WORKERD', price: 3 });
    expect(await script.exited).toBe(0);
    expect(script.stdout).toBe('{"open":true}\n{"data":{"ticks":{"symbol":"WORKERD","price":3}}}\n');
    dev.stop('SIGINT');
    await dev.exited;

    // docs/workers.md, "Your own wrangler project": the team's entry, bundled by wrangler as `wrangler deploy` would.
    const wrangler = join(app, 'node_modules/wrangler/bin/wrangler.js');
    await ok(process.execPath, [wrangler, 'deploy', 'worker.ts', '--dry-run', '--outdir', 'out', '--name', 'app', '--compatibility-date', '2026-11-17'], { cwd: app, env: { WRANGLER_SEND_METRICS: 'false' } });
    const bundle = await readFile(join(app, 'out/worker.js'), 'utf8');
    expect(bundle).not.toMatch(/^import\b.*["']node:|require\(["']node:/m);
    const worker = (await import(/* @vite-ignore */ pathToFileURL(join(app, 'out/worker.js')).href)).default as WorkerHandler;
    expect(worker.registry.operations.map((o) => o.name)).toEqual(['Hello', 'Ticks']);
    const listed = await worker.fetch(new Request('http://worker.test/operations'), { UPSTREAM_URL: upstream.url }, { waitUntil: () => undefined });
    expect(((await listed.json()) as { operations: { name: string }[] }).operations.map((o) => o.name)).toEqual(['Hello', 'Ticks']);
  }, 120_000);

  it("every code block the docs mark to compile type-checks against the installed packages", async () => {
    const { snippets, problems } = await extractSnippets(ROOT);
    expect(problems).toEqual([]);
    const dir = join(app, 'snippets');
    // The blocks are written for the example's operations (Clock, Ticks, …): its generated files stand in for `graphql/`.
    await mkdir(join(dir, 'graphql'), { recursive: true });
    for (const file of ['operations.ts', 'persisted-query-manifest.json', 'subway.json']) await cp(join(ROOT, 'persisted-operations', file), join(dir, 'graphql', file));
    const strictest = { strict: true, exactOptionalPropertyTypes: true, noPropertyAccessFromIndexSignature: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false, isolatedModules: true, verbatimModuleSyntax: true, resolveJsonModule: true, target: 'ES2022' };
    const options: Record<(typeof KINDS)[number], Record<string, unknown>> = {
      app: { ...strictest, lib: ['ES2022', 'DOM', 'DOM.Iterable'], module: 'ESNext', moduleResolution: 'bundler', jsx: 'react-jsx', types: [] },
      node: { ...strictest, lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
      worker: { ...strictest, lib: ['ES2022', 'DOM'], module: 'ESNext', moduleResolution: 'bundler', types: [] },
    };
    const counts: Record<string, number> = {};
    for (const kind of KINDS) {
      const mine = snippets.filter((s) => s.kind === kind);
      counts[kind] = mine.length;
      await mkdir(join(dir, kind), { recursive: true });
      for (const s of mine) await writeFile(join(dir, kind, snippetFile(s)), s.code);
      await writeFile(join(dir, `tsconfig.${kind}.json`), JSON.stringify({ compilerOptions: options[kind], include: [kind, 'graphql/operations.ts'] }, null, 2));
    }
    console.log(`docs code blocks compiled: ${JSON.stringify(counts)}`);
    // At least the blocks these docs had when this test was written: a lost marker shows here.
    expect(counts['app']).toBeGreaterThanOrEqual(6);
    expect(counts['node']).toBeGreaterThanOrEqual(5);
    expect(counts['worker']).toBeGreaterThanOrEqual(2);
    const tsc = join(app, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '--build', ...KINDS.map((kind) => `tsconfig.${kind}.json`)], { cwd: dir });
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
