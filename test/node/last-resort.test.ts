/**
 * One request must not crash the gateway. `npm start` in its own process:
 * the POST that overflowed graphql-ws's serialisation (a JSON-scalar variable
 * 4,400 levels deep) is a 400, and an error nothing catches (forced from a
 * preloaded module: a rejected promise no one awaits, an exception thrown
 * from a callback) logs one line each and the process keeps serving.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ECHO_OPERATION, TEST_OPERATIONS } from '../fixtures/gateway.ts';
import { startGatewayProcess } from '../fixtures/gateway-process.ts';
import { connectHttp2, openSseHttp2, query } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const FORCE = fileURLToPath(new URL('../fixtures/force-errors.ts', import.meta.url));

function post(session: ReturnType<typeof connectHttp2>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/graphql', accept: 'text/event-stream', 'content-type': 'application/json' });
    let status = 0;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    stream.end(body);
  });
}

describe('the last resort', () => {
  it('a deep JSON-scalar POST is a 400; forced uncaught errors log one line each and the process keeps serving', async () => {
    const upstream = await startUpstream();
    const gw = await startGatewayProcess(upstream.url, {}, `--import ${FORCE}`, { ...TEST_OPERATIONS, ...ECHO_OPERATION });
    const session = connectHttp2(gw.url);

    const deep = `{"id":"Echo","variables":{"value":${'['.repeat(4400)}1${']'.repeat(4400)}}}`;
    const refused = await post(session, deep);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', limit: 64 });
    // At the limit, the value goes upstream as it came.
    const atLimit = `${'['.repeat(63)}1${']'.repeat(63)}`;
    const ok = await openSseHttp2(session, `/graphql${query({ id: 'Echo', variables: `{"value":${atLimit}}` })}`);
    expect(ok.status).toBe(200);
    await upstream.until(() => upstream.listeners('echo') === 1, 'the echo subscription');
    expect(JSON.stringify((upstream.received.find((m) => m.type === 'subscribe')!.payload as { variables: unknown }).variables)).toBe(`{"value":${atLimit}}`);
    ok.abort();

    const before = gw.cli.stderr.length;
    gw.cli.child.kill('SIGUSR2');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log lines; stderr: ${gw.cli.stderr}`)), 5000);
      const check = () => {
        if (!gw.cli.stderr.includes('forced exception')) return;
        clearTimeout(timer);
        gw.cli.child.stderr!.off('data', check);
        resolve();
      };
      gw.cli.child.stderr!.on('data', check);
      check();
    });
    const lines = gw.cli.stderr.slice(before).trim().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.map((l) => JSON.parse(l)).map(({ level, msg, error }) => ({ level, msg, error }))).toEqual([
      { level: 'error', msg: 'unhandled rejection; still serving', error: 'Error: forced rejection' },
      { level: 'error', msg: 'uncaught exception; still serving', error: 'TypeError: forced exception' },
    ]);
    expect(gw.alive).toBe(true);
    const health = await openSseHttp2(session, '/healthz');
    expect(await health.done()).toBe('{"status":"ok"}');
    const sse = await openSseHttp2(session, `/graphql${query({ id: 'Ticks', variables: { symbol: 'STILL' } })}`);
    await upstream.until(() => upstream.listeners('STILL') === 1, 'a subscription afterwards');
    upstream.publish('STILL', { symbol: 'STILL', price: 1 });
    await sse.until((raw) => raw.includes('"price":1'));
  });
});
