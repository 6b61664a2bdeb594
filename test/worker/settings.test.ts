/** The Worker's vars as settings: the same text Node reads, whichever way wrangler.toml wrote them. */
import { describe, expect, it } from 'vitest';
import { readGatewayConfig } from '../../src/core/config.ts';
import { createWorkerHandler, workerSettings } from '../../src/worker/app.ts';
import { workerObjects } from '../../src/worker/objects.ts';
import { loadOperations } from '../../src/node/operations/load.ts';
import { registeredFolder } from '../fixtures/gateway.ts';

describe('workerSettings', () => {
  it('reads quoted and unquoted vars as text, and ignores other bindings', () => {
    const env = { UPSTREAM_URL: 'wss://a.example/graphql', HEARTBEAT_MS: 0, OPERATIONS_LIST: false, RETRY_MS: '500', KV: { get() {} }, PORT: '1' };
    expect(workerSettings(env)).toEqual({ UPSTREAM_URL: 'wss://a.example/graphql', HEARTBEAT_MS: '0', OPERATIONS_LIST: 'false', RETRY_MS: '500' });
    expect(readGatewayConfig(workerSettings(env))).toMatchObject({ heartbeatMs: 0, listOperations: false, retryMs: 500 });
  });

  it('refuses a setting bound to something that is not text, naming it', () => {
    expect(() => workerSettings({ OTHER: 1, UPSTREAM_PROTOCOL: { auto: true } } as never)).toThrow('UPSTREAM_PROTOCOL must be a text var, got object.');
  });

  it('answers 500 and logs which binding to add when PERSISTED_OPERATIONS names a KV binding the Worker lacks', async () => {
    const worker = createWorkerHandler(await loadOperations(await registeredFolder({ Hello: 'query Hello { hello }\n' })));
    const logged: unknown[] = [];
    const { error } = console;
    console.error = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const res = await worker.fetch(new Request('http://gateway.test/graphql?id=Hello'), { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', PERSISTED_OPERATIONS: 'kv:OPERATIONS/web', NOT_KV: 'x' }, { waitUntil: () => {} });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    } finally {
      console.error = error;
    }
    expect(logged).toEqual(['[subway] PERSISTED_OPERATIONS: kv:OPERATIONS names no KV namespace binding of this Worker; add [[kv_namespaces]] with binding = "OPERATIONS" to wrangler.toml.']);
  });
});

describe('UPSTREAM_SHARING on a Worker', () => {
  const namespace = { idFromName: (name: string) => name, get: () => ({ fetch: async () => new Response() }) };

  it('needs no Durable Object when off: nothing is delegated', () => {
    expect(workerObjects(readGatewayConfig({ UPSTREAM_SHARING: 'off' }), {})).toEqual({});
  });

  it.each(['connection', 'subscription'])('%s: hands subscriptions to the SUBWAY_HUB objects and serves their /metrics', (mode) => {
    const objects = workerObjects(readGatewayConfig({ UPSTREAM_SHARING: mode }), { SUBWAY_HUB: namespace });
    expect(typeof objects.delegate).toBe('function');
    expect(typeof objects.metrics).toBe('function');
  });

  it('without the binding, answers 500 and logs the wrangler.toml lines to add', async () => {
    const worker = createWorkerHandler(await loadOperations(await registeredFolder({ Hello: 'query Hello { hello }\n' })));
    const logged: unknown[] = [];
    const { error } = console;
    console.error = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const res = await worker.fetch(new Request('http://gateway.test/graphql?id=Hello'), { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', UPSTREAM_SHARING: 'subscription' }, { waitUntil: () => {} });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    } finally {
      console.error = error;
    }
    expect(logged).toEqual([
      '[subway] UPSTREAM_SHARING=subscription needs the Durable Object binding SUBWAY_HUB (class SubwayHub, exported by the Worker\'s entry module); add to wrangler.toml:\n' +
        '[[durable_objects.bindings]]\nname = "SUBWAY_HUB"\nclass_name = "SubwayHub"\n\n[[migrations]]\ntag = "subway-hub-v1"\nnew_sqlite_classes = ["SubwayHub"]',
    ]);
  });
});
