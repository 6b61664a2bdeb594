/**
 * What the memory benches share: one operation registered in a temporary
 * folder against a schema, a graphql-ws upstream in this process that counts
 * its sockets, and the gateway as a child process (bench/gateway-with-gc.ts,
 * so a full GC can run before each reading) whose RSS (from /proc, Linux) and
 * JS heap (from /metrics) the bench reads. Loopback only; bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../src/core/operations/manifest.ts';
import { readSources } from '../src/node/operations/source.ts';
import { compileOperations } from '../src/register/compile.ts';

/** Starts the upstream and the gateway; `operation` is the one `.graphql` file registered (its name and text). */
export async function startGcGateway(schema: GraphQLSchema, operation: { file: string; text: string }, deadlineMs = 300_000) {
  const dir = await mkdtemp(join(tmpdir(), 'subway-bench-'));
  await writeFile(join(dir, operation.file), operation.text);
  const { bundle, problems } = compileOperations(await readSources(dir), schema);
  if (problems.length) throw new Error(problems.join('\n'));
  await writeFile(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
  await writeFile(join(dir, COMPANION_FILE), formatJson(bundle.companion));

  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  let sockets = 0;
  wss.on('connection', (s) => {
    sockets++;
    s.once('close', () => sockets--);
  });
  const server = useServer({ schema }, wss);
  const upstreamUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/graphql`;

  const child = spawn(process.execPath, ['--expose-gc', 'bench/gateway-with-gc.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstreamUrl, PERSISTED_OPERATIONS: dir, HEARTBEAT_MS: '0', LOG_STREAMS: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = setTimeout(() => {
    console.error('bench: deadline reached');
    process.exit(1);
  }, deadlineMs);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const waitFor = async <T>(fn: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (child.exitCode !== null) throw new Error(`gateway exited while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1], 'the gateway to listen');
  const base = `http://127.0.0.1:${port}`;
  const metrics = async () => (await fetch(`${base}/metrics`)).text();

  return {
    base,
    /** Upstream sockets open now. */
    get sockets() {
      return sockets;
    },
    waitFor,
    metrics,
    /** Forces a full GC in the gateway and waits for it. */
    async collect() {
      const seen = stdout.split('gc done').length;
      child.kill('SIGUSR2');
      await waitFor(() => (stdout.split('gc done').length > seen ? true : undefined), 'a GC');
    },
    rss: async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    heapUsed: async () => Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(await metrics())![1]),
    /** Stops the gateway, the upstream and the deadline; removes the folder. */
    async close() {
      clearTimeout(deadline);
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      await server.dispose();
      await new Promise((r) => wss.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
