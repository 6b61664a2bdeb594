/** `npm run dev:worker` with no UPSTREAM_URL: the Worker on workerd and the embedded example, as a newcomer runs them. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { onTeardown } from '../fixtures/leftovers.ts';
import { freePort } from '../fixtures/ports.ts';
import { openSse } from '../fixtures/sse.ts';

describe('npm run dev:worker', () => {
  it('serves the example on workerd, prints a curl line that shows events, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['src/cli/worker.ts', 'dev'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', UPSTREAM_URL: '', WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // SIGTERM, not SIGKILL: the CLI passes it on to wrangler, which stops workerd.
    onTeardown(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    const ready = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /curl -N '([^']+)'/.exec(stdout);
        if (m && /Ready on http:\/\/127\.0\.0\.1:\d+/.test(stdout)) resolve(m[1]!);
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`exited before ready: ${stdout}${stderr}`)));
    });
    expect(ready).toBe(`http://127.0.0.1:${port}/graphql?id=Clock&variables=%7B%22intervalMs%22%3A1000%7D`);
    expect(stdout).toContain('subway: bundling 6 persisted operations from persisted-operations');
    const sse = await openSse(ready);
    expect(sse.status).toBe(200);
    await sse.until((raw) => raw.split('event: next').length >= 2, 'a clock event');
    expect(Object.keys(JSON.parse(sse.events[0]!.data).data.clock)).toEqual(['iso', 'epochMs']);
    sse.abort();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
