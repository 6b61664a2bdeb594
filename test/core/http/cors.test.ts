/** CORS: an explicit allow-list, credentials only for listed origins, never a wildcard with credentials. */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../fixtures/gateway.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const TICKS = `/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`;
const APP = 'https://app.example.com';

function corsHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers] : Object.entries(headers);
  return Object.fromEntries(entries.filter(([k]) => k.startsWith('access-control-') || k === 'vary'));
}

describe('CORS_ORIGINS', () => {
  it('lets a listed origin read the stream with credentials', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, cors: { origins: [APP] } });
    const sse = await openSse(`${gw.url}${TICKS}`, { headers: { origin: APP } });
    expect(sse.status).toBe(200);
    expect(corsHeaders(sse.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'subway-resume',
      vary: 'origin',
    });
    await upstream.until(() => upstream.listeners('A') === 1);
  });

  it('refuses an unlisted origin with 403 before any upstream connection', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { cors: { origins: [APP] } });
    const res = await fetch(`${gw.url}${TICKS}`, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(corsHeaders(res.headers)).toEqual({ vary: 'origin' });
    expect(await res.json()).toEqual({ errors: [{ message: 'This origin is not allowed to use the gateway.', extensions: { code: 'ORIGIN_NOT_ALLOWED' } }] });
    expect(upstream.connections).toBe(0);
  });

  it('serves same-origin and origin-less requests without CORS headers', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, cors: { origins: [APP] } });
    const plain = await openSse(`${gw.url}${TICKS}`);
    const same = await openSse(`${gw.url}${TICKS}`, { headers: { origin: gw.url } });
    expect([plain.status, same.status]).toEqual([200, 200]);
    expect(corsHeaders(plain.headers)).toEqual({ vary: 'origin' });
    expect(corsHeaders(same.headers)).toEqual({ vary: 'origin' });
  });

  it('gives a listed origin its error responses too, so the page can read why', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { cors: { origins: [APP] } });
    const res = await fetch(`${gw.url}/graphql?id=Nope`, { headers: { origin: APP } });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('answers a preflight for a listed origin, naming the forwarded headers, and refuses others', async () => {
    const upstream = await startUpstream();
    // host and connection are never forwarded, so a preflight does not name them either.
    const gw = await startGateway(upstream.url, { cors: { origins: [APP] }, forwardHeaders: ['authorization', 'host', 'cookie', 'connection', 'upgrade'] });
    const ok = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(ok.status).toBe(204);
    expect(corsHeaders(ok.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'accept, content-type, last-event-id, authorization',
      'access-control-expose-headers': 'subway-resume',
      'access-control-max-age': '600',
      vary: 'origin',
    });
    const evil = await fetch(`${gw.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(upstream.connections).toBe(0);
  });

  it('with "*", lets any origin read, never with credentials', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, cors: { origins: ['*'] } });
    const sse = await openSse(`${gw.url}${TICKS}`, { headers: { origin: 'https://anyone.example' } });
    expect(sse.status).toBe(200);
    expect(corsHeaders(sse.headers)).toEqual({ 'access-control-allow-origin': '*', 'access-control-expose-headers': 'subway-resume' });
  });

  it('unset, sends no CORS headers and refuses no origin (the browser keeps cross-origin pages out)', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0 });
    const sse = await openSse(`${gw.url}${TICKS}`, { headers: { origin: APP } });
    expect(sse.status).toBe(200);
    expect(corsHeaders(sse.headers)).toEqual({});
  });
});
