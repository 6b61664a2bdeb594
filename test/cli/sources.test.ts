/**
 * The promise, as an operator runs it: `npm start` with
 * `PERSISTED_OPERATIONS=https://…/subway-bundle.json` serves an operation
 * an app registers and publishes later, within the poll interval, without a
 * restart. A real process, a real HTTPS server (trusted through
 * NODE_EXTRA_CA_CERTS, as a private CA would be), the bundle `register` wrote.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBundleServer } from '../fixtures/bundle-server.ts';
import { runCli } from '../fixtures/cli.ts';
import { register, tempFolder, testSchemaFile } from '../fixtures/register.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { testCertificate } from '../fixtures/tls.ts';
import { startUpstream } from '../fixtures/upstream.ts';

describe('npm start with a bundle URL', () => {
  it('serves an operation registered and published after the start, within the poll interval', async () => {
    const upstream = await startUpstream();
    const schema = await testSchemaFile();
    const app = await tempFolder({ 'Hello.graphql': 'query Hello { hello }\n' });
    expect((await register(['--schema', schema, '--dir', app])).code).toBe(0);
    const certificate = await testCertificate();
    const cdn = await startBundleServer(await readFile(join(app, 'subway-bundle.json'), 'utf8'), { tls: certificate });
    const ca = join(await tempFolder({ 'ca.pem': certificate.cert }), 'ca.pem');

    const server = runCli('src/cli/subway.ts', ['start'], {
      HOST: '127.0.0.1',
      PORT: '0',
      TLS: 'off',
      UPSTREAM_URL: upstream.url,
      PERSISTED_OPERATIONS: cdn.url,
      PERSISTED_OPERATIONS_POLL_MS: '300',
      LOG_STREAMS: 'false',
      NODE_EXTRA_CA_CERTS: ca,
    });
    const [, base] = await server.output(/subway listening on (http:\/\/\S+)/);
    await server.output(new RegExp(`1 persisted operations from ${cdn.url.replace(/[.?]/g, '\\$&')}: Hello\\n`));
    expect(cdn.url).toMatch(/^https:/);

    await writeFile(join(app, 'Ticks.graphql'), 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { symbol } }\n');
    expect((await register(['--schema', schema, '--dir', app])).code).toBe(0);
    cdn.set(await readFile(join(app, 'subway-bundle.json'), 'utf8'));
    const [line] = await server.output(/\{[^\n]*"msg":"operations loaded"[^\n]*\}\n/);
    expect(JSON.parse(line!)).toMatchObject({ level: 'info', source: cdn.url, operations: 2, total: 2 });

    const sse = await openSse(`${base}/graphql${query({ id: 'Ticks', variables: { symbol: 'NEW' } })}`);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('NEW') === 1, 'the subscription');
    upstream.publish('NEW', { symbol: 'NEW', price: 1 });
    upstream.finish('NEW');
    expect(await sse.done()).toBe(':\n\nevent: next\ndata: {"data":{"ticks":{"symbol":"NEW"}}}\n\nevent: complete\ndata:\n\n');
  });
});
