/**
 * RESUME_WINDOW_MS on a Worker needs its Durable Object (docs/workers.md,
 * "Sharing and resuming"): every subscription goes to one, where it lingers
 * for its client. Without the binding the Worker says what to add rather
 * than serving without resume silently. (Resume itself on workerd:
 * test/worker/resume.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { readGatewayConfig } from '../../src/core/config.ts';
import { createWorkerHandler } from '../../src/worker/app.ts';
import { workerObjects } from '../../src/worker/objects.ts';
import { loadOperations } from '../../src/node/operations/load.ts';
import { registeredFolder } from '../fixtures/gateway.ts';

describe('RESUME_WINDOW_MS on a Worker', () => {
  const namespace = { idFromName: (name: string) => name, get: () => ({ fetch: async () => new Response() }) };

  it('hands subscriptions to the SUBWAY_HUB objects, in every sharing mode', () => {
    for (const mode of ['off', 'connection', 'subscription']) {
      const objects = workerObjects(readGatewayConfig({ RESUME_WINDOW_MS: '120000', UPSTREAM_SHARING: mode }), { SUBWAY_HUB: namespace });
      expect(typeof objects.delegate).toBe('function');
    }
    expect(workerObjects(readGatewayConfig({ RESUME_WINDOW_MS: '0' }), {})).toEqual({});
  });

  it('without the binding, answers 500 and logs the wrangler.toml lines to add', async () => {
    const worker = createWorkerHandler(await loadOperations(await registeredFolder({ Hello: 'query Hello { hello }\n' })));
    const logged: unknown[] = [];
    const { error } = console;
    console.error = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const env = { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', RESUME_WINDOW_MS: '120000' };
      const res = await worker.fetch(new Request('http://gateway.test/graphql?id=Hello'), env, { waitUntil: () => {} });
      expect(res.status).toBe(500);
    } finally {
      console.error = error;
    }
    expect(logged).toEqual([
      '[subway] RESUME_WINDOW_MS=120000 needs the Durable Object binding SUBWAY_HUB (class SubwayHub, exported by the Worker\'s entry module); add to wrangler.toml:\n' +
        '[[durable_objects.bindings]]\nname = "SUBWAY_HUB"\nclass_name = "SubwayHub"\n\n[[migrations]]\ntag = "subway-hub-v1"\nnew_sqlite_classes = ["SubwayHub"]',
    ]);
  });
});
