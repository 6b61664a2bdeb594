/**
 * RESUME_WINDOW_MS on a Worker: until the Durable Object carries resume to
 * the edge (issue 14), a Worker serves it off, and says so when it starts
 * rather than ignoring the setting silently.
 */
import { describe, expect, it } from 'vitest';
import { readGatewayConfig } from '../../src/core/config.ts';
import { createWorkerHandler, workerResume } from '../../src/worker/app.ts';
import { loadOperations } from '../../src/node/operations/load.ts';
import { registeredFolder } from '../fixtures/gateway.ts';

const OFF_LINE =
  '[subway] RESUME_WINDOW_MS=120000 is not available on Workers yet (it needs a Durable Object): streams carry no event ids and a reconnect starts a fresh subscription, as with RESUME_WINDOW_MS=0.';

describe('RESUME_WINDOW_MS on a Worker', () => {
  it('serves 0, and says so when asked for more', () => {
    const lines: string[] = [];
    expect(workerResume(readGatewayConfig({ RESUME_WINDOW_MS: '120000' }), (line) => lines.push(line)).resumeWindowMs).toBe(0);
    expect(lines).toEqual([OFF_LINE]);
    expect(workerResume(readGatewayConfig({}), (line) => lines.push(line)).resumeWindowMs).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('logs it once, when the Worker builds its gateway on its first request', async () => {
    const worker = createWorkerHandler(await loadOperations(await registeredFolder({ Hello: 'query Hello { hello }\n' })));
    const warned: string[] = [];
    const { warn } = console;
    console.warn = (...args: unknown[]) => void warned.push(args.join(' '));
    try {
      const env = { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', RESUME_WINDOW_MS: '120000' };
      for (let i = 0; i < 2; i++) expect((await worker.fetch(new Request('http://gateway.test/healthz'), env, { waitUntil: () => {} })).status).toBe(200);
    } finally {
      console.warn = warn;
    }
    expect(warned).toEqual([OFF_LINE]);
  });
});
