/**
 * Auth forwarding against the real upstream: only allow-listed headers reach
 * it (connection_init payload and upgrade request), or whatever the
 * connectionParams hook computes; a hook may refuse before any upstream work.
 */
import { describe, expect, it } from 'vitest';
import { SubwayError } from '../../../src/core/errors.ts';
import { nodeWebSocketWithHeaders } from '../../../src/node/serve.ts';
import { startGateway } from '../../fixtures/gateway.ts';
import { openSse, query } from '../../fixtures/sse.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const TICKS = `/graphql${query({ id: 'Ticks', variables: { symbol: 'A' } })}`;
const CLIENT_HEADERS = {
  authorization: 'Bearer abc.def.ghi',
  cookie: 'session=s3cr3t; theme=dark',
  'x-internal-secret': 'do-not-forward',
  'user-agent': 'test-browser/1.0',
  'x-forwarded-for': '203.0.113.9',
};
/** What the `ws` client itself sends on every upgrade. */
const WS_OWN_HEADERS = ['connection', 'host', 'sec-websocket-key', 'sec-websocket-protocol', 'sec-websocket-version', 'upgrade'];

describe('FORWARD_HEADERS', () => {
  it('passes allow-listed headers in connection_init and on the upgrade, and nothing else of the request', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, {
      heartbeatMs: 0,
      forwardHeaders: ['authorization', 'cookie', 'x-absent'],
      upstream: { webSocketWithHeaders: nodeWebSocketWithHeaders },
    });
    const sse = await openSse(`${gw.url}${TICKS}`, { headers: CLIENT_HEADERS });
    await upstream.until(() => upstream.listeners('A') === 1);
    expect(sse.status).toBe(200);
    expect(upstream.received[0]).toEqual({
      type: 'connection_init',
      payload: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'session=s3cr3t; theme=dark' } },
    });
    const upgrade = upstream.upgrades[0]!;
    expect(Object.keys(upgrade).sort()).toEqual([...WS_OWN_HEADERS, 'authorization', 'cookie'].sort());
    expect(upgrade.authorization).toBe('Bearer abc.def.ghi');
    expect(upgrade.cookie).toBe('session=s3cr3t; theme=dark');
    expect(JSON.stringify(upstream.received)).not.toContain('do-not-forward');
  });

  it('forwards nothing by default: no payload, no client header on the upgrade', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, upstream: { webSocketWithHeaders: nodeWebSocketWithHeaders } });
    await openSse(`${gw.url}${TICKS}`, { headers: CLIENT_HEADERS });
    await upstream.until(() => upstream.listeners('A') === 1);
    expect(upstream.received[0]).toEqual({ type: 'connection_init' });
    expect(Object.keys(upstream.upgrades[0]!).sort()).toEqual(WS_OWN_HEADERS);
  });

  it('never forwards hop-by-hop or handshake headers, even when listed', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, { heartbeatMs: 0, forwardHeaders: ['host', 'connection', 'authorization'] });
    await openSse(`${gw.url}${TICKS}`, { headers: CLIENT_HEADERS });
    await upstream.until(() => upstream.listeners('A') === 1);
    expect(upstream.received[0]).toEqual({ type: 'connection_init', payload: { headers: { authorization: 'Bearer abc.def.ghi' } } });
  });
});

describe('the connectionParams hook', () => {
  it('computes the payload (a cookie mapped to a token), and the allow-listed headers still go on the upgrade', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, {
      heartbeatMs: 0,
      forwardHeaders: ['cookie'],
      upstream: { webSocketWithHeaders: nodeWebSocketWithHeaders },
      connectionParams: async (request, forwarded) => {
        const session = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
        expect(forwarded).toEqual({ cookie: 'session=s3cr3t; theme=dark' });
        return { authToken: `token-for-${session}` };
      },
    });
    await openSse(`${gw.url}${TICKS}`, { headers: CLIENT_HEADERS });
    await upstream.until(() => upstream.listeners('A') === 1);
    expect(upstream.received[0]).toEqual({ type: 'connection_init', payload: { authToken: 'token-for-s3cr3t' } });
    expect(upstream.upgrades[0]!.cookie).toBe('session=s3cr3t; theme=dark');
    expect(upstream.upgrades[0]!.authorization).toBeUndefined();
  });

  it('refuses with the SubwayError it throws, before any upstream connection, and frees the limit slot', async () => {
    const upstream = await startUpstream();
    const gw = await startGateway(upstream.url, {
      heartbeatMs: 0,
      maxSubscriptions: 1,
      connectionParams: (request) => {
        if (request.headers.get('authorization') !== 'Bearer good') throw new SubwayError('UNAUTHENTICATED', 401, 'A valid token is required.');
        return { token: 'good' };
      },
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}${TICKS}`, { headers: { authorization: 'Bearer bad' } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ errors: [{ message: 'A valid token is required.', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    expect(upstream.connections).toBe(0);
    // The refused requests did not keep their slots: the one slot is free.
    const ok = await openSse(`${gw.url}${TICKS}`, { headers: { authorization: 'Bearer good' } });
    expect(ok.status).toBe(200);
    await upstream.until(() => upstream.listeners('A') === 1);
    expect(upstream.received[0]).toEqual({ type: 'connection_init', payload: { token: 'good' } });
  });
});
