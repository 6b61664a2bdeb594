/**
 * The HTTP contract on the Worker, running in workerd (wrangler's
 * programmatic dev server): the same suite as the Node server's, plus what
 * only a Worker has.
 */
import { describe, expect, it } from 'vitest';
import { conformanceSuite } from '../conformance/suite.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { startWorker } from '../fixtures/worker.ts';

describe('worker (workerd)', () => {
  conformanceSuite('worker');

  it.each([
    ['without UPSTREAM_URL', { UPSTREAM_URL: '' }],
    ['with a bad UPSTREAM_PROTOCOL', { UPSTREAM_URL: 'ws://127.0.0.1:9/graphql', UPSTREAM_PROTOCOL: 'graphql-ws' }],
  ])('%s answers 500 with a generic error; the log says what to fix', async (_, vars) => {
    const worker = await startWorker(await registeredFolder(), vars);
    const res = await fetch(`${worker.url}/graphql?id=Ticks&variables=%7B%22symbol%22%3A%22A%22%7D`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });
});
