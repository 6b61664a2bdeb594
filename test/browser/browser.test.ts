/**
 * The client, the hook and the demo page in real Chromium (Debian's package,
 * headless, driven by playwright-core), against real gateways on loopback:
 * HTTP/2 over TLS with a test certificate, and plain HTTP/1.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/core/config.ts';
import { createGateway } from '../../src/core/gateway.ts';
import { loadOperations } from '../../src/node/operations/load.ts';
import { createRegistry } from '../../src/core/operations/registry.ts';
import { NodeWebSocket, serveNode } from '../../src/node/serve.ts';
import { createStaticHandler, withStatic } from '../../src/node/static.ts';
import { startServer } from '../../src/node/server.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { leftover, onTeardown } from '../fixtures/leftovers.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startTcpProxy } from '../fixtures/resume.ts';
import { startUpstream } from '../fixtures/upstream.ts';
import { launchChromium } from './chromium.ts';

let browser: Browser;
let tmp: string;
const built = { harness: '', demo: '' };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'subway-browser-'));
  built.harness = join(tmp, 'harness');
  built.demo = join(tmp, 'demo');
  // The harness in development mode, so StrictMode really mounts, unmounts and mounts.
  await build({
    configFile: false,
    root: fileURLToPath(new URL('./harness/', import.meta.url)),
    mode: 'development',
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'warn',
    build: { outDir: built.harness, emptyOutDir: true, minify: false },
  });
  // The demo exactly as `npm run build:demo` makes it, into a temporary folder.
  await build({ configFile: fileURLToPath(new URL('../../demo/vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir: built.demo, emptyOutDir: true } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  onTeardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  onTeardown(() => expect(errors, 'uncaught errors in the page').toEqual([]));
  return page;
}

const protocolOf = (page: Page) => page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol);

/** The example server as `npm start` runs it, with the demo built from this checkout. */
async function demoServer(env: Record<string, string> = {}) {
  const server = await startServer(readConfig({ PORT: '0', HOST: '127.0.0.1', ...env }), { devCertDir: join(tmp, 'certs'), demoDir: built.demo });
  onTeardown(() => server.close());
  let sessions = 0;
  server.node.server.on('session', () => sessions++);
  return {
    server,
    get sessions() {
      return sessions;
    },
  };
}

/** The test upstream (which counts its sockets and subscriptions) behind a gateway that also serves the harness page. */
async function harnessServer(options: { resumeWindowMs?: number; proxied?: boolean } = {}) {
  const upstream = await startUpstream();
  const registry = createRegistry(await loadOperations(await registeredFolder()));
  const gateway = createGateway({ registry, upstream: { url: upstream.url, webSocketImpl: NodeWebSocket }, resumeWindowMs: options.resumeWindowMs });
  const node = leftover(await serveNode(withStatic(gateway, createStaticHandler(built.harness)), { port: 0, host: '127.0.0.1', tls: await testCertificate() }));
  // With `proxied`, the page reaches the gateway through a TCP proxy the test can take down, as a network would go.
  const proxy = options.proxied ? await startTcpProxy(node.port) : undefined;
  const page = await newPage();
  await page.goto(proxy ? `https://127.0.0.1:${proxy.port}/` : `${node.url}/`);
  await page.waitForFunction(() => document.title === 'ready');
  expect(await protocolOf(page)).toBe('h2');
  return { upstream, gateway, page, proxy };
}

interface HarnessState {
  status: string;
  data?: unknown;
  error?: { name: string; code: string; status?: number; message: string };
}
type Harness = {
  mount(id: string, variables: unknown, strict?: boolean): void;
  unmount(): void;
  state(): HarnessState | undefined;
  results(): unknown[];
  sources(): number[];
  gaps(): { calls: number; flag: boolean };
};
/** Runs `fn` (self-contained: its source is sent to the page) with the page's `window.harness`. */
const harness = <T>(page: Page, fn: (h: Harness) => T) => page.evaluate(`(${fn.toString()})(window.harness)`) as Promise<T>;
const untilStatus = (page: Page, status: string) =>
  page.waitForFunction((s) => (window as unknown as { harness: Harness }).harness.state()?.status === s, status);

describe('the demo page in Chromium', () => {
  it('renders live data from the example upstream over h2', async () => {
    const { server } = await demoServer();
    expect(server.url).toMatch(/^https:/);
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('.protocol b').textContent()).toBe('h2');
    const clock = page.locator('[data-testid=clock] .clock');
    await page.waitForFunction(() => document.querySelector('[data-testid=clock] .clock')?.getAttribute('data-iso') !== '');
    const first = await clock.getAttribute('data-iso');
    expect(Date.parse(first!)).toBeGreaterThan(0);
    // The next second's event re-renders the clock.
    await page.waitForFunction((iso) => document.querySelector('[data-testid=clock] .clock')?.getAttribute('data-iso') !== iso, first);
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid=counter] .counter')?.textContent ?? ''));
    for (const card of ['clock', 'counter', 'ticks', 'chat']) {
      await page.waitForSelector(`[data-testid=${card}] .pill[data-status=open]`);
    }
    // Four cards, four streams; StrictMode's first mounts left nothing open.
    await expect.poll(() => server.gateway.stats().streams).toBe(4);
  });

  it.each([
    ['120000', 0],
    ['0', 'some'],
  ] as const)('with RESUME_WINDOW_MS=%s, "Cut network" resets the page’s connection and the counter card misses %s numbers', async (window, expected) => {
    const demo = await demoServer({ RESUME_WINDOW_MS: window });
    const page = await newPage();
    await page.goto(`${demo.server.url}/`);
    const note = page.locator('[data-testid=counter] [data-missed]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=counter] .counter')?.textContent) >= 2);
    const before = Number(await page.locator('[data-testid=counter] .counter').textContent());
    expect(demo.sessions).toBe(1);
    await page.getByRole('button', { name: 'Cut network' }).click();
    // A new connection (EventSource came back), then a few more numbers.
    await expect.poll(() => demo.sessions, { timeout: 10_000 }).toBeGreaterThan(1);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=counter] .counter')?.textContent) >= n + 5, before, { timeout: 15_000 });
    expect(await note.getAttribute('data-cuts')).toBe('1');
    const missed = Number(await note.getAttribute('data-missed'));
    if (expected === 0) {
      expect(missed).toBe(0);
      expect(await note.getAttribute('data-gap')).toBe('false');
      expect(await note.textContent()).toContain('No number missed across 1 network cut.');
    } else {
      expect(missed).toBeGreaterThan(0);
    }
  }, 40_000);

  it('streams 50 subscriptions at once over one HTTP/2 connection', async () => {
    const demo = await demoServer();
    const page = await newPage();
    await page.goto(`${demo.server.url}/?mux=50`);
    await page.waitForFunction(() => document.querySelectorAll('.cells .cell:not([data-events="0"])').length === 50, undefined, { timeout: 20_000 });
    expect(await protocolOf(page)).toBe('h2');
    expect(await page.locator('.mux').getAttribute('data-open')).toBe('50');
    expect(demo.server.gateway.stats().streams).toBe(50);
    expect(demo.sessions).toBe(1);
  });

  it('with UPSTREAM_SHARING=subscription, two tabs share one upstream subscription per card, and the page shows it', async () => {
    const { server } = await demoServer({ UPSTREAM_SHARING: 'subscription' });
    const tabs = [await newPage(), await newPage()];
    for (const tab of tabs) await tab.goto(`${server.url}/`);
    for (const tab of tabs) for (const card of ['clock', 'counter', 'ticks', 'chat']) await tab.waitForSelector(`[data-testid=${card}] .pill[data-status=open]`);
    // Eight streams, four upstream subscriptions (one per distinct card), on one upstream socket: on the page, from /metrics.
    for (const tab of tabs) {
      await tab.waitForFunction(() => {
        const figures = document.querySelector('[data-testid=sharing]');
        return figures?.getAttribute('data-subscribers') === '8' && figures.getAttribute('data-upstream-subscriptions') === '4';
      });
    }
    expect(server.gateway.sharingStats()).toMatchObject({ subscribers: 8, upstreamSubscriptions: 4, upstreamSockets: 1 });
    await tabs[1]!.close();
    await tabs[0]!.waitForFunction(() => document.querySelector('[data-testid=sharing]')?.getAttribute('data-subscribers') === '4');
    expect(server.gateway.sharingStats()).toMatchObject({ subscribers: 4, upstreamSubscriptions: 4 });
  });

  it('stalls after six subscriptions over HTTP/1.1 (the same page, TLS=off)', async () => {
    const demo = await demoServer({ TLS: 'off' });
    expect(demo.server.url).toMatch(/^http:/);
    const page = await newPage();
    await page.goto(`${demo.server.url}/?mux=50`);
    expect(await protocolOf(page)).toBe('http/1.1');
    // Six streams have each had two events (a second apart): the browser had time to send more, and did not.
    await page.waitForFunction(() => [...document.querySelectorAll('.cells .cell')].filter((c) => Number(c.getAttribute('data-events')) >= 2).length >= 6);
    const live = await page.$$eval('.cells .cell', (cells) => cells.filter((c) => c.getAttribute('data-events') !== '0').length);
    expect(live).toBe(6);
    expect(demo.server.gateway.stats().streams).toBe(6);
    expect(await page.locator('.mux').getAttribute('data-open')).toBe('50');
  });
});

describe('useSubscription in Chromium', () => {
  it('closes the upstream subscription on unmount (under StrictMode)', async () => {
    const { upstream, gateway, page } = await harnessServer();
    await harness(page, (h) => h.mount('Ticks', { symbol: 'U' }));
    await untilStatus(page, 'open');
    await upstream.until(
      () => gateway.stats().streams === 1 && gateway.stats().upstreamConnections === 1 && upstream.sockets === 1 && upstream.listeners('U') === 1,
      'one live upstream subscription',
    );
    upstream.publish('U', { symbol: 'U', price: 7 });
    await page.waitForFunction(() => (window as unknown as { harness: Harness }).harness.state()?.data !== undefined);
    expect(await harness(page, (h) => h.state())).toEqual({ status: 'open', data: { ticks: { symbol: 'U', price: 7 } } });
    await harness(page, (h) => h.unmount());
    await upstream.until(() => upstream.sockets === 0 && upstream.listeners('U') === 0, 'the upstream socket closed');
    expect(gateway.stats()).toEqual({ streams: 0, upstreamConnections: 0 });
    expect(upstream.received.filter((m) => m.type === 'complete').length).toBeGreaterThanOrEqual(1);
  });

  it('closes the source on "complete", so the browser does not reconnect', async () => {
    const { upstream, gateway, page } = await harnessServer();
    await harness(page, (h) => h.mount('Greetings', { count: 2 }, false));
    await untilStatus(page, 'complete');
    expect(await harness(page, (h) => h.state())).toEqual({ status: 'complete', data: { greetings: 'hi 1' } });
    expect(await harness(page, (h) => h.results())).toEqual([{ data: { greetings: 'hi 0' } }, { data: { greetings: 'hi 1' } }]);
    // One EventSource, CLOSED: a closed EventSource never reconnects (an open one would, after its retry delay).
    expect(await harness(page, (h) => h.sources())).toEqual([2]);
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
    await upstream.until(() => upstream.sockets === 0, 'the upstream socket closed');
    expect(gateway.stats().streams).toBe(0);
  });

  it('with resume on, loses no event while the network between the page and the gateway is down', async () => {
    const { upstream, gateway, page, proxy } = await harnessServer({ resumeWindowMs: 60_000, proxied: true });
    await harness(page, (h) => h.mount('Ticks', { symbol: 'N' }, false));
    await untilStatus(page, 'open');
    await upstream.until(() => upstream.listeners('N') === 1, 'the upstream subscription');
    let published = 0;
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) upstream.publish('N', { symbol: 'N', price: ++published });
    };
    const received = () => harness(page, (h) => h.results().length);
    for (let round = 0; round < 2; round++) {
      publish(5);
      await expect.poll(received, { interval: 20 }).toBe(published);
      // The network goes down (every connection reset, new ones refused); events go on meanwhile.
      await proxy!.stop();
      publish(5);
      await expect.poll(() => gateway.stats().streams, { interval: 20 }).toBe(0);
      publish(5);
      await proxy!.start();
      await expect.poll(received, { interval: 50, timeout: 15_000 }).toBe(published);
    }
    const prices = (await harness(page, (h) => h.results())) as { data: { ticks: { price: number } } }[];
    expect(prices.map((r) => r.data.ticks.price)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(await harness(page, (h) => h.gaps())).toEqual({ calls: 0, flag: false });
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
  }, 40_000);

  it('surfaces a 404 for an unknown id with the gateway\'s message', async () => {
    const { upstream, page } = await harnessServer();
    await harness(page, (h) => h.mount('Nope', {}, false));
    await untilStatus(page, 'error');
    expect(await harness(page, (h) => h.state())).toEqual({
      status: 'error',
      error: { name: 'SubwayClientError', code: 'PERSISTED_QUERY_NOT_IN_LIST', status: 404, message: 'No registered operation has the id "Nope".' },
    });
    expect(await page.locator('#state').textContent()).toContain('No registered operation has the id \\"Nope\\".');
    expect(await harness(page, (h) => h.sources())).toEqual([2]);
    expect(upstream.connections).toBe(0);
  });
});
