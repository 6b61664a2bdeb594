/** `npm run dev:worker` with no UPSTREAM_URL: the Worker on workerd and the embedded example, as a newcomer runs them. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.ts';
import { freePort } from '../fixtures/ports.ts';
import { openSse } from '../fixtures/sse.ts';

describe('npm run dev:worker', () => {
  it('serves the example on workerd, prints a curl line that shows events, and stops on SIGTERM', async () => {
    const port = await freePort();
    // SIGTERM at teardown, not SIGKILL: the CLI passes it on to wrangler, which stops workerd.
    const dev = runCli('src/cli/subway.ts', ['worker', 'dev'], { PORT: String(port), HOST: '127.0.0.1', UPSTREAM_URL: '', WRANGLER_SEND_METRICS: 'false' }, 'SIGTERM');
    const { child, exited } = dev;
    await dev.output(/Ready on http:\/\/127\.0\.0\.1:\d+/);
    const ready = (await dev.output(/curl -N '([^']+)'/))[1]!;
    expect(ready).toBe(`http://127.0.0.1:${port}/graphql?id=Clock`);
    expect(dev.stdout).toContain('subway: bundling 6 persisted operations from persisted-operations');
    const sse = await openSse(ready);
    expect(sse.status).toBe(200);
    await sse.until((raw) => raw.split('event: next').length >= 2, 'a clock event');
    expect(Object.keys(JSON.parse(sse.events[0]!.data).data.clock)).toEqual(['iso', 'epochMs']);
    sse.abort();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
