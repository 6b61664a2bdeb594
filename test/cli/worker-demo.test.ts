/**
 * `UPSTREAM_SHARING=subscription RESUME_WINDOW_MS=120000 npm run dev:worker`
 * as the demo page uses it (issue 14's "done when"): the page at `/`, the
 * shared counts in `/metrics` (one upstream subscription for the streams of
 * one card), and the "Cut network" route (a front of the CLI's in front of
 * wrangler) after which the reconnect replays what it missed from the
 * Durable Object: the counter has no hole and no number twice.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEMO_DIR } from '../../src/node/server.ts';
import { runCli } from '../fixtures/cli.ts';
import { freePort } from '../fixtures/ports.ts';
import { lastEventId, openCuttable } from '../fixtures/resume.ts';
import { query } from '../fixtures/sse.ts';

const numbers = (raw: string) => [...raw.matchAll(/"counter":(\d+)/g)].map((m) => Number(m[1]));

async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
}

describe('npm run dev:worker with sharing and resume: the demo', () => {
  it('serves the page, one upstream subscription per card, and survives "Cut network" with no hole in the counter', async () => {
    // The page as `npm run dev:worker` builds it first (predev:worker).
    if (!existsSync(`${DEMO_DIR}/index.html`)) execFileSync('npm', ['run', '--silent', 'build:demo'], { stdio: 'ignore' });
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', UPSTREAM_URL: '', UPSTREAM_SHARING: 'subscription', RESUME_WINDOW_MS: '120000', WRANGLER_SEND_METRICS: 'false' };
    const dev = runCli('src/cli/subway.ts', ['worker', 'dev'], env, 'SIGTERM');
    await dev.output(/Ready on http:\/\/127\.0\.0\.1:\d+/);
    const origin = `http://127.0.0.1:${port}`;
    expect(dev.stdout).toContain(`subway: demo page ${origin}/`);
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>subway · live GraphQL over server-sent events</title>');

    // Two tabs on one card: two streams, one upstream subscription.
    const path = `/graphql${query({ id: 'Counter', variables: { room: 'cut-test' } })}`;
    const first = await openCuttable(`${origin}${path}`);
    const other = await openCuttable(`${origin}${path}`);
    await first.until((raw) => numbers(raw).length >= 2, 'two counts');
    await other.until((raw) => numbers(raw).length >= 1, 'a count');
    const deadline = Date.now() + 5000;
    while ((await metric(origin, 'subway_subscribers')) !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await metric(origin, 'subway_subscribers')).toBe(2);
    expect(await metric(origin, 'subway_upstream_subscriptions')).toBe(1);
    other.abort();

    // "Cut network": every connection of this address is reset, the page's stream among them.
    await new Promise<void>((resolve) => {
      const cut = http.request(`${origin}/demo/cut-network`, { method: 'POST', agent: false });
      cut.on('error', () => resolve());
      cut.on('response', () => resolve());
      cut.end();
    });
    await first.until(() => first.ended, 'the cut');
    const before = numbers(first.raw);
    // Counts go on meanwhile; EventSource comes back with the last id it saw.
    await new Promise((r) => setTimeout(r, 1500));
    const again = await openCuttable(`${origin}${path}`, { 'last-event-id': lastEventId(first.raw)! });
    expect(again.headers['subway-resume']).toBe('replayed');
    await again.until((raw) => numbers(raw).length >= 2, 'the missed counts and a live one');
    const all = [...before, ...numbers(again.raw)];
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => all[0]! + i));
    again.abort();
    dev.stop('SIGTERM');
    expect(await dev.exited).toBe(0);
  }, 120_000);
});
