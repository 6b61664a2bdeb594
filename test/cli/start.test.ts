/** `npm start` with no configuration: the gateway and the embedded example, as a newcomer runs them. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.ts';
import { freePort } from '../fixtures/ports.ts';
import { connectHttp2, openSse, openSseHttp2 } from '../fixtures/sse.ts';

const start = (env: Record<string, string>) => runCli('src/cli/subway.ts', ['start'], { HOST: '127.0.0.1', ...env });

describe('npm start', () => {
  it('serves the example with no configuration, and prints a curl line that shows events', async () => {
    const server = start({ PORT: '0' });
    const [, url] = await server.output(/curl -N -k '(https:[^']+)'/);
    expect(server.stdout).toMatch(/^subway listening on https:\/\/127\.0\.0\.1:\d+ \(HTTP\/2 over TLS, HTTP\/1\.1 fallback\)\n/);
    expect(server.stdout).toMatch(/certificate: self-signed for localhost, (made now|reused): \.dev-certs\/cert\.pem\n/);
    const target = new URL(url!);
    const sse = await openSseHttp2(connectHttp2(target.origin), target.pathname + target.search);
    await sse.until((raw) => raw.split('event: next').length >= 3, 'two clock events');
    const [first] = sse.events;
    expect(first!.event).toBe('next');
    expect(Object.keys(JSON.parse(first!.data).data.clock)).toEqual(['iso', 'epochMs']);
    sse.abort();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stdout).toContain('SIGTERM: closing streams and shutting down');
  });

  it('serves plain HTTP/1.1 with TLS=off', async () => {
    const server = start({ PORT: '0', TLS: 'off' });
    const [, url] = await server.output(/curl -N '(http:[^']+)'/);
    const sse = await openSse(url!);
    await sse.until((raw) => raw.includes('event: next'), 'a clock event');
    sse.abort();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('never prints the upstream URL\'s credentials: the banner, log lines and errors show them redacted', async () => {
    const port = await freePort();
    const server = start({ PORT: '0', UPSTREAM_URL: `ws://alice:s3cr3t-pw@127.0.0.1:${port}/graphql?token=t0ken-value&tenant=acme-corp` });
    await server.output(/persisted operations/);
    expect(server.stdout).toContain(`  upstream: ws://<redacted>@127.0.0.1:${port}/graphql?token=<redacted>&tenant=<redacted>\n`);
    // A subscription to the unreachable upstream: the failure is logged and reported, the secrets are not.
    const [, base] = /listening on (http:\/\/[^ ]+)/.exec(server.stdout)!;
    const sse = await openSse(`${base}/graphql?id=Clock`);
    await sse.done();
    server.child.kill('SIGTERM');
    await server.exited;
    for (const secret of ['alice', 's3cr3t-pw', 't0ken-value', 'acme-corp']) expect(server.stdout + server.stderr + sse.raw).not.toContain(secret);
    const bad = start({ PORT: '0', UPSTREAM_URL: 'https://bob:hunter2@a.example/graphql?key=k3y' });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toBe('subway: UPSTREAM_URL must start with ws:// or wss:// (graphql-ws), got "https://<redacted>@a.example/graphql?key=<redacted>".\n');
  });

  it('fails at start with a message naming a bad variable', async () => {
    const server = start({ PORT: 'abc' });
    expect(await server.exited).toBe(1);
    expect(server.stderr).toBe('subway: PORT must be a whole number, got "abc".\n');
  });

  it('refuses to start on stale operations', async () => {
    const server = start({ PORT: '0', PERSISTED_OPERATIONS: 'test/no-such-folder' });
    expect(await server.exited).toBe(1);
    expect(server.stderr).toMatch(/^subway: test\/no-such-folder\/persisted-query-manifest.json is missing: run `subway register` to generate it.\n$/);
  });
});
