/** The `subscribeUpstream` contract, driven directly (no gateway), over real sockets. */
import { describe, expect, it } from 'vitest';
import { NodeWebSocket } from '../../../src/node/serve.ts';
import { subscribeUpstream, type UpstreamEnd } from '../../../src/core/upstream/subscribe.ts';
import { freePort } from '../../fixtures/ports.ts';
import { startUpstream } from '../../fixtures/upstream.ts';

const TICKS = { query: 'subscription Ticks($symbol: String!) { ticks(symbol: $symbol) { symbol price } }', operationName: 'Ticks' };

function run(url: string, symbol: unknown, extra: { connectionParams?: Record<string, unknown> } = {}) {
  const results: unknown[] = [];
  const ends: UpstreamEnd[] = [];
  let connected = 0;
  let notify = () => {};
  const ended = new Promise<UpstreamEnd>((resolve) => (notify = () => resolve(ends[0]!)));
  const sub = subscribeUpstream({ url, webSocketImpl: NodeWebSocket }, { ...TICKS, variables: { symbol }, ...extra }, {
    onConnected: () => connected++,
    next: (r) => results.push(r),
    end: (e) => {
      ends.push(e);
      notify();
    },
  });
  return { sub, results, ends, ended, connected: () => connected };
}

describe('subscribeUpstream', () => {
  it('reports a refused connection as transient, with the runtime error text for logs', async () => {
    const port = await freePort();
    const { ended, ends } = run(`ws://127.0.0.1:${port}/graphql`, 'X');
    expect(await ended).toEqual({ kind: 'transient', message: `Upstream connection failed: connect ECONNREFUSED 127.0.0.1:${port}`, closeCode: 1006 });
    expect(ends).toHaveLength(1);
  });

  it('keeps connectionParams out of the operation and sends them in connection_init; nothing is reported after dispose', async () => {
    const upstream = await startUpstream();
    const results: unknown[] = [];
    const ends: UpstreamEnd[] = [];
    let connected = 0;
    const sub = subscribeUpstream(
      { url: upstream.url, webSocketImpl: NodeWebSocket },
      { ...TICKS, variables: { symbol: 'CP' }, connectionParams: { headers: { authorization: 'Bearer t' } } },
      { onConnected: () => connected++, next: (r) => results.push(r), end: (e) => ends.push(e) },
    );
    await upstream.until(() => upstream.listeners('CP') === 1);
    expect(upstream.received.slice(0, 2)).toEqual([
      { type: 'connection_init', payload: { headers: { authorization: 'Bearer t' } } },
      { type: 'subscribe', id: expect.any(String), payload: { ...TICKS, variables: { symbol: 'CP' } } },
    ]);
    sub.dispose();
    sub.dispose();
    await upstream.until(() => upstream.sockets === 0);
    expect(connected).toBe(1);
    expect(results).toEqual([]);
    expect(ends).toEqual([]);
    expect(upstream.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe', 'complete']);
  });

  it('ends an operation that cannot be serialised before any socket, as fatal, with no unhandled rejection', async () => {
    const upstream = await startUpstream();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const nest = (depth: number) => {
        let v: unknown = 'A';
        for (let i = 0; i < depth; i++) v = [v];
        return v;
      };
      // 4,400 levels overflowed graphql-ws's serialisation of the subscribe message, in a promise no one awaited.
      const deep = run(upstream.url, nest(4400));
      expect(await deep.ended).toEqual({ kind: 'fatal', message: 'The operation could not be sent upstream: it nests more than 1000 levels deep.' });
      const bigint = run(upstream.url, 'A', { connectionParams: { token: 1n } });
      expect(await bigint.ended).toEqual({ kind: 'fatal', message: 'The operation could not be sent upstream: it cannot be serialised as JSON.' });
      expect(upstream.connections).toBe(0);
      // 1,000 levels are sent, and the upstream answers for itself (a String cannot be a list).
      const sendable = run(upstream.url, nest(999));
      expect(await sendable.ended).toEqual({ kind: 'complete' });
      expect(sendable.results).toEqual([{ errors: [expect.objectContaining({ message: expect.stringMatching(/^Variable "\$symbol" got invalid value/) })] }]);
      expect(upstream.connections).toBe(1);
      await upstream.until(() => upstream.sockets === 0, 'the socket to close');
      // A rejection would surface within a turn or two of the socket closing.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
