/** The `subway` command itself: its commands, their --help, usage errors, and the flags `start` takes. */
import { describe, expect, it } from 'vitest';
import { OPTIONS, REGISTER_HELP } from '../../src/register/cli.ts';
import { runCli } from '../fixtures/cli.ts';
import { registeredFolder } from '../fixtures/gateway.ts';
import { openSse } from '../fixtures/sse.ts';
import { startUpstream } from '../fixtures/upstream.ts';

const subway = (args: string[], env: Record<string, string> = {}) => runCli('src/cli/subway.ts', args, env);

describe('the subway command', () => {
  it('lists its commands, and each command explains its options with --help', async () => {
    const top = subway(['--help']);
    expect(await top.exited).toBe(0);
    expect(top.stdout).toMatch(/^usage: subway <command> \[options\]\n/);
    for (const command of ['start', 'register', 'worker dev|build|deploy']) expect(top.stdout).toContain(`  ${command} `);
    const cases = [
      [['start', '--help'], 'usage: subway start [--dir <folder>] [--upstream <ws(s) url>] [--port <n>]'],
      [['register', '--help'], 'usage: subway register (--upstream <ws(s) url> | --schema <file.graphql>) [--dir <folder>]'],
      [['worker', '--help'], 'usage: subway worker dev|build|deploy [--dir <folder>] [wrangler arguments]'],
      [['worker', 'deploy', '-h'], 'usage: subway worker dev|build|deploy [--dir <folder>] [wrangler arguments]'],
    ] as const;
    const runs = cases.map(([args]) => subway([...args]));
    for (const [i, [args, first]] of cases.entries()) {
      const run = runs[i]!;
      expect(await run.exited, args.join(' ')).toBe(0);
      expect(run.stdout.split('\n')[0]).toBe(first);
      expect(run.stderr).toBe('');
    }
  });

  it('documents every register option in its --help', () => {
    for (const name of Object.keys(OPTIONS)) expect(REGISTER_HELP).toContain(`--${name}`);
  });

  it('prints its version', async () => {
    const run = subway(['--version']);
    expect(await run.exited).toBe(0);
    expect(run.stdout).toBe('0.1.0\n');
  });

  it('refuses an unknown command or flag with exit code 2 and the usage', async () => {
    const unknown = subway(['serve']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr).toMatch(/^subway: no command "serve"\.\n\nusage: subway <command>/);
    const flag = subway(['start', '--prot', '80']);
    expect(await flag.exited).toBe(2);
    expect(flag.stderr).toMatch(/^subway start: Unknown option '--prot'.*\n\nusage: subway start/);
    const worker = subway(['worker', 'serve']);
    expect(await worker.exited).toBe(2);
    expect(worker.stderr).toMatch(/^subway: subway worker: expected dev, build or deploy, got "serve"\./);
  });

  it('start --dir --upstream --port: serves that folder from that upstream, and its Try it line names an operation of it', async () => {
    const upstream = await startUpstream();
    const dir = await registeredFolder({ Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { symbol price }\n}\n' });
    const server = subway(['start', '--dir', dir, '--upstream', upstream.url, '--port', '0'], { HOST: '127.0.0.1', PERSISTED_OPERATIONS: 'elsewhere', UPSTREAM_URL: '' });
    const [, url] = await server.output(/curl -N '(http:[^']+)'/);
    expect(server.stdout).toContain(`  upstream: ${upstream.url}\n  1 persisted operations from ${dir}: Ticks\n`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql\?id=Ticks&variables=%7B%22symbol%22%3A%22example%22%7D$/);
    const sse = await openSse(url!);
    expect(sse.status).toBe(200);
    await upstream.until(() => upstream.listeners('example') === 1, 'the upstream subscription');
    upstream.publish('example', { symbol: 'example', price: 2 });
    await sse.until((raw) => raw.includes('"price":2'), 'the event');
    sse.abort();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
