/**
 * SIGTERM with open streams, in a real child process (`npm start`'s entry):
 * every stream gets a reconnection hint and ends, every upstream operation is
 * completed, a connection that never finished its request is dropped after
 * SHUTDOWN_GRACE_MS, and the process exits 0.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { registeredFolder } from '../fixtures/gateway.ts';
import { runCli } from '../fixtures/cli.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

describe('graceful shutdown', () => {
  it('ends every open stream with a retry hint, completes every upstream operation, and exits 0', async () => {
    const upstream = await startUpstream();
    const server = runCli('src/cli/subway.ts', ['start'], {
      HOST: '127.0.0.1',
      PORT: '0',
      HEARTBEAT_MS: '0',
      SHUTDOWN_GRACE_MS: '300',
      UPSTREAM_URL: upstream.url,
      PERSISTED_OPERATIONS: await registeredFolder(),
    });
    const { child, exited } = server;
    const url = (await server.output(/subway listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;

    const streams = await Promise.all(['A', 'B', 'C'].map((s) => openSse(`${url}/graphql${query({ id: 'Ticks', variables: { symbol: s } })}`)));
    await upstream.until(() => ['A', 'B', 'C'].every((s) => upstream.listeners(s) === 1), 'three upstream subscriptions');
    upstream.publish('A', { symbol: 'A', price: 1 });
    await streams[0]!.until((raw) => raw.includes('"price":1'));
    // A client that never finishes its request: only the grace period ends it.
    const { port } = new URL(url);
    const lingering = net.connect(Number(port), '127.0.0.1');
    lingering.on('error', () => {});
    const lingeringClosed = new Promise<void>((resolve) => lingering.once('close', () => resolve()));
    await new Promise<void>((resolve) => lingering.once('connect', () => resolve()));
    lingering.write('GET /graphql?id=Ticks HTTP/1.1\r\nHost: x\r\n');

    child.kill('SIGTERM');
    const bodies = await Promise.all(streams.map((s) => s.done()));
    for (const body of bodies) expect(body).toMatch(/\n\n: gateway shutting down\nretry: \d+\n\n$/);
    expect(bodies[0]).toMatch(/^:\n\nevent: next\ndata: \{"data":\{"ticks":\{"symbol":"A","price":1\}\}\}\n\n: gateway shutting down\nretry: \d+\n\n$/);
    for (const body of bodies) expect(body).not.toContain('event: complete');
    await lingeringClosed;
    expect(await exited).toBe(0);

    await upstream.until(() => upstream.sockets === 0, 'every upstream socket to close');
    expect(upstream.received.filter((m) => m.type === 'complete')).toHaveLength(3);
    expect(server.stdout).toContain('SIGTERM: closing streams and shutting down');
    expect(server.stdout).toContain('shut down: 3 streams ended with a reconnection hint');
    const ends = server.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; reason?: string });
    expect(ends.filter((l) => l.msg === 'stream end').map((l) => l.reason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(server.stderr).toBe('');
  });
});

describe('graceful shutdown with RESUME_WINDOW_MS', () => {
  it('ends every stream with a retry below one second, so clients come straight back (to another instance: a said gap)', async () => {
    const upstream = await startUpstream();
    const env = { HOST: '127.0.0.1', PORT: '0', HEARTBEAT_MS: '0', SHUTDOWN_GRACE_MS: '300', UPSTREAM_URL: upstream.url, RESUME_WINDOW_MS: '120000' };
    const dir = await registeredFolder();
    const server = runCli('src/cli/subway.ts', ['start'], { ...env, PERSISTED_OPERATIONS: dir });
    const url = (await server.output(/subway listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    expect(server.stdout).toContain('resume: a dropped stream gets what it missed for 120 s (RESUME_WINDOW_MS; docs/resume.md)');
    const path = `/graphql${query({ id: 'Ticks', variables: { symbol: 'S' } })}`;
    const streams = await Promise.all([0, 1, 2].map(() => openSse(`${url}${path}`)));
    await upstream.until(() => upstream.listeners('S') === 3, 'three upstream subscriptions');
    upstream.publish('S', { symbol: 'S', price: 1 });
    await Promise.all(streams.map((s) => s.until((raw) => raw.includes('"price":1'))));
    server.child.kill('SIGTERM');
    const bodies = await Promise.all(streams.map((s) => s.done()));
    for (const body of bodies) {
      const retry = /\n\n: gateway shutting down\nretry: (\d+)\n\n$/.exec(body);
      expect(retry, body).not.toBeNull();
      expect(Number(retry![1])).toBeLessThan(1000);
    }
    expect(await server.exited).toBe(0);
    // Nothing lingers after the process: every upstream subscription was completed.
    await upstream.until(() => upstream.sockets === 0 && upstream.listeners('S') === 0, 'every upstream subscription ended');
    // The next instance never saw those ids: the reconnect is a said gap.
    const next = runCli('src/cli/subway.ts', ['start'], { ...env, PERSISTED_OPERATIONS: dir });
    const nextUrl = (await next.output(/subway listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const id = /id: (\S+)\nevent: next/.exec(bodies[0]!)![1]!;
    const back = await openSse(`${nextUrl}${path}`, { headers: { 'last-event-id': id } });
    expect(back.headers['subway-resume']).toBe('gap');
    await back.until((raw) => raw.includes('data: {"extensions":{"subway":{"gap":true}}}\n\n'), 'the gap event');
    back.abort();
  });
});
