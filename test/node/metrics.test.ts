/**
 * The Node server's observability: /metrics (prom-client), /healthz, /readyz,
 * and one JSON log line per stream start and end, without variables or tokens.
 */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/core/config.ts';
import { startServer } from '../../src/node/server.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { leftover } from '../fixtures/leftovers.ts';
import { openSse, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

async function start(upstreamUrl: string, env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const server = leftover(
    await startServer(
      readConfig({ PORT: '0', HOST: '127.0.0.1', HEARTBEAT_MS: '0', UPSTREAM_URL: upstreamUrl, PERSISTED_OPERATIONS: await registeredFolder(), ...env }),
      { log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
  );
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  return { server, lines, metric };
}

describe('metrics and logs', () => {
  it('counts streams, upstream sockets, events, bytes, rejections and durations, and logs one line per start and end', async () => {
    const upstream = await startUpstream();
    const { server, lines, metric } = await start(upstream.url, { FORWARD_HEADERS: 'authorization' });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metric('subway_streams_open')).toBe(0);

    const sse = await openSse(`${server.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'SECRETSYM' } })}`, {
      headers: { authorization: 'Bearer TOPSECRET' },
    });
    await upstream.until(() => upstream.listeners('SECRETSYM') === 1);
    upstream.publish('SECRETSYM', { symbol: 'S', price: 1 });
    upstream.publish('SECRETSYM', { symbol: 'S', price: 2 });
    await sse.until((raw) => raw.includes('"price":2'));
    expect(await metric('subway_streams_open')).toBe(1);
    expect(await metric('subway_upstream_sockets_open')).toBe(1);
    expect(await metric('subway_events_forwarded_total{operation="Ticks"}')).toBe(2);
    const eventBytes = sse.events.reduce((n, e) => n + Buffer.byteLength(`event: next\ndata: ${e.data}\n\n`), 0);
    expect(await metric('subway_event_bytes_total{operation="Ticks"}')).toBe(eventBytes);

    expect((await fetch(`${server.url}/graphql?id=Nope`)).status).toBe(404);
    expect(await metric('subway_rejections_total{code="PERSISTED_QUERY_NOT_IN_LIST",status="404"}')).toBe(1);

    upstream.finish('SECRETSYM');
    await sse.done();
    await upstream.until(() => upstream.sockets === 0);
    expect(await metric('subway_streams_open')).toBe(0);
    expect(await metric('subway_upstream_sockets_open')).toBe(0);
    expect(await metric('subway_streams_ended_total{operation="Ticks",reason="complete"}')).toBe(1);
    expect(await metric('subway_stream_duration_seconds_count{reason="complete"}')).toBe(1);
    expect(await metric('process_resident_memory_bytes')).toBeGreaterThan(0);

    expect(lines).toHaveLength(2);
    const [startLine, endLine] = lines as [Record<string, unknown>, Record<string, unknown>];
    expect(startLine).toEqual({ time: expect.any(String), level: 'info', msg: 'stream start', stream: 1, operation: 'Ticks', client: '127.0.0.1' });
    expect(endLine).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'stream end',
      stream: 1,
      operation: 'Ticks',
      client: '127.0.0.1',
      reason: 'complete',
      durationMs: expect.any(Number),
      events: 2,
      bytes: Buffer.byteLength(sse.raw),
    });
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('SECRETSYM');
    expect(logged).not.toContain('TOPSECRET');
  });

  it('logs variables only when asked, and never headers', async () => {
    const upstream = await startUpstream();
    const { server, lines } = await start(upstream.url, { LOG_VARIABLES: 'true', FORWARD_HEADERS: 'authorization' });
    const sse = await openSse(`${server.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'VISIBLE' } })}`, { headers: { authorization: 'Bearer TOPSECRET' } });
    await upstream.until(() => upstream.listeners('VISIBLE') === 1);
    sse.abort();
    await upstream.until(() => upstream.sockets === 0);
    await upstream.until(() => server.gateway.stats().streams === 0);
    expect(lines.map((l) => [l.msg, l.variables, l.reason])).toEqual([
      ['stream start', { symbol: 'VISIBLE' }, undefined],
      ['stream end', undefined, 'client-gone'],
    ]);
    expect(JSON.stringify(lines)).not.toContain('TOPSECRET');
  });

  it('answers /healthz and /readyz; LOG_STREAMS=false keeps the log quiet', async () => {
    const upstream = await startUpstream();
    const { server, lines } = await start(upstream.url, { LOG_STREAMS: 'false' });
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', streams: 0, upstreamFailures: 0 });
    const sse = await openSse(`${server.url}/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
    await sse.done();
    expect(lines).toEqual([]);
    await server.gateway.dispose();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    const refused = await fetch(`${server.url}/graphql${query({ id: 'Greetings', variables: { count: 2 } })}`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ errors: [{ message: 'The gateway is shutting down.', extensions: { code: 'SHUTTING_DOWN' } }] });
  });

  it('shows what sharing does: upstream sockets and subscriptions, subscribers, subscribers per shared subscription, frames encoded and written', async () => {
    const upstream = await startUpstream();
    const { server, metric } = await start(upstream.url, { UPSTREAM_SHARING: 'subscription', LOG_STREAMS: 'false' });
    const open = (symbol: string) => openSse(`${server.url}/graphql${query({ id: 'Ticks', variables: { symbol } })}`);
    const streams = [await open('M1'), await open('M1'), await open('M1'), await open('M2')];
    await upstream.until(() => upstream.listeners('M1') === 1 && upstream.listeners('M2') === 1);
    upstream.publish('M1', { symbol: 'M1', price: 1 });
    await Promise.all(streams.slice(0, 3).map((s) => s.until((raw) => raw.includes('"price":1'))));
    expect(await metric('subway_upstream_sockets')).toBe(1);
    expect(await metric('subway_upstream_sockets_open')).toBe(1);
    expect(await metric('subway_upstream_subscriptions')).toBe(2);
    expect(await metric('subway_subscribers')).toBe(4);
    expect(await metric('subway_subscribers_per_shared_subscription_count')).toBe(2);
    expect(await metric('subway_subscribers_per_shared_subscription_sum')).toBe(4);
    expect(await metric('subway_subscribers_per_shared_subscription_bucket{le="1"}')).toBe(1);
    expect(await metric('subway_subscribers_per_shared_subscription_bucket{le="5"}')).toBe(2);
    expect(await metric('subway_frames_encoded_total')).toBe(1);
    expect(await metric('subway_frames_written_total')).toBe(3);
    expect(await metric('subway_events_forwarded_total{operation="Ticks"}')).toBe(3);
    for (const s of streams) s.abort();
    await upstream.until(() => upstream.sockets === 0);
    expect(await metric('subway_upstream_subscriptions')).toBe(0);
    expect(await metric('subway_subscribers_per_shared_subscription_count')).toBe(0);
  });
});

describe('resume in /metrics and the logs', () => {
  it('shows lingering subscriptions, what is buffered, and each resume’s outcome', async () => {
    const upstream = await startUpstream();
    const { server, lines, metric } = await start(upstream.url, { RESUME_WINDOW_MS: '60000' });
    const path = `${server.url}/graphql${query({ id: 'Ticks', variables: { symbol: 'RM' } })}`;
    const first = await openSse(path);
    await upstream.until(() => upstream.listeners('RM') === 1);
    upstream.publish('RM', { symbol: 'RM', price: 1 });
    const raw = await first.until((text) => text.includes('"price":1}}}\n\n'));
    const id = /id: (\S+)\nevent: next/.exec(raw)![1]!;
    first.abort();
    await expect.poll(() => server.gateway.resumeStats().lingering).toBe(1);
    upstream.publish('RM', { symbol: 'RM', price: 2 });
    await expect.poll(() => server.gateway.resumeStats().bufferedEvents).toBe(2);
    expect(await metric('subway_resume_lingering_subscriptions')).toBe(1);
    expect(await metric('subway_resume_buffered_events')).toBe(2);
    expect(await metric('subway_resume_buffered_bytes')).toBe(server.gateway.resumeStats().bufferedBytes);
    const back = await openSse(path, { headers: { 'last-event-id': id } });
    await back.until((text) => text.includes('"price":2'));
    const gap = await openSse(path, { headers: { 'last-event-id': 'nothing-of-ours' } });
    expect(gap.headers['subway-resume']).toBe('gap');
    expect(await metric('subway_resumes_total{outcome="replayed",reason=""}')).toBe(1);
    expect(await metric('subway_resumes_total{outcome="gap",reason="unknown"}')).toBe(1);
    expect(await metric('subway_resume_lingering_subscriptions')).toBe(0);
    const starts = lines.filter((l) => l['msg'] === 'stream start' && 'resume' in l).map((l) => l['resume']);
    expect(starts).toEqual([{ outcome: 'replayed', events: 1 }, { outcome: 'gap', reason: 'unknown' }]);
  });
});
