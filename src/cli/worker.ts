/**
 * `npm run dev:worker`, `npm run deploy`, `npm run build:worker`: wrangler,
 * configured from the same environment variables as `npm start`.
 *
 * - `PERSISTED_OPERATIONS` is chosen at build time: the folder's generated
 *   files are checked (present, fresh) and bundled through wrangler's
 *   `--alias` (see wrangler.toml).
 * - The gateway's settings (`WORKER_SETTINGS`: `UPSTREAM_URL`, the other
 *   `UPSTREAM_*`, `HEARTBEAT_MS`, `RETRY_MS`, `MAX_QUERY_STRING_BYTES`,
 *   `OPERATIONS_LIST`), when set, become Worker vars (`--var`), replacing
 *   wrangler.toml's `[vars]`; they are checked here first, as `npm start` would.
 * - `dev` listens on `PORT`/`HOST`; without `UPSTREAM_URL` it starts the
 *   embedded example upstream, as `npm start` does.
 * - `build` writes the bundle `wrangler deploy` would upload to `dist/worker`
 *   (or the folder given after it) without deploying.
 *
 * Any further arguments go to wrangler as they are.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ConfigError, readConfig, WORKER_SETTINGS } from '../core/config.ts';
import { createExampleSchema } from '../example/schema.ts';
import { startGraphqlWsServer, type UpstreamServer } from '../example/server.ts';
import { loadOperations, OperationsError } from '../node/operations/load.ts';
import { COMPANION_FILE, MANIFEST_FILE } from '../core/operations/manifest.ts';

const COMMANDS = ['dev', 'deploy', 'build'] as const;
type Command = (typeof COMMANDS)[number];

/** The wrangler arguments for a command, from the environment. */
export function wranglerArgs(command: Command, env: Record<string, string | undefined>, extra: readonly string[] = [], upstreamUrl?: string): string[] {
  const config = readConfig(env);
  const dir = resolve(config.persistedOperations);
  const args: string[] = command === 'dev' ? ['dev'] : ['deploy'];
  if (command === 'build') args.push('--dry-run', '--outdir', extra[0] && !extra[0].startsWith('-') ? extra[0] : 'dist/worker');
  args.push('--alias', `subway-manifest:${resolve(dir, MANIFEST_FILE)}`, '--alias', `subway-companion:${resolve(dir, COMPANION_FILE)}`);
  const url = upstreamUrl ?? config.upstreamUrl;
  if (url) args.push('--var', `UPSTREAM_URL:${url}`);
  for (const name of WORKER_SETTINGS) {
    const value = env[name]?.trim();
    if (name !== 'UPSTREAM_URL' && value) args.push('--var', `${name}:${value}`);
  }
  if (command === 'dev') args.push('--port', String(config.port), '--ip', config.host);
  const rest = command === 'build' && extra[0] && !extra[0].startsWith('-') ? extra.slice(1) : extra;
  return [...args, ...rest];
}

function runWrangler(args: string[]): Promise<number> {
  const bin = createRequire(import.meta.url).resolve('wrangler/package.json').replace(/package\.json$/, 'bin/wrangler.js');
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: 'inherit',
    // No usage metrics unless asked for; a local run never fetches Request.cf.
    env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env },
  });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopping = true;
      child.kill(signal);
    });
  }
  return new Promise((resolveExit, reject) => {
    child.once('error', reject);
    // Stopped on request (wrangler exits 128 + the signal's number): a clean stop.
    child.once('exit', (code, signal) => resolveExit(stopping && (signal || code === 130 || code === 143) ? 0 : (code ?? 1)));
  });
}

async function main(): Promise<number> {
  const [name = '', ...extra] = process.argv.slice(2);
  if (!COMMANDS.includes(name as Command)) throw new ConfigError(`usage: node src/cli/worker.ts ${COMMANDS.join('|')} [wrangler arguments]`);
  const command = name as Command;
  const config = readConfig(process.env);
  // The Worker cannot read the folder at run time: refuse to bundle missing or stale files.
  const { manifest } = await loadOperations(config.persistedOperations);
  console.log(`subway: bundling ${manifest.operations.length} persisted operations from ${config.persistedOperations}`);
  let example: UpstreamServer | undefined;
  if (command === 'dev' && !config.upstreamUrl) {
    example = await startGraphqlWsServer(createExampleSchema());
    console.log(`subway: upstream ${example.url} (embedded example)`);
    const vars = encodeURIComponent(JSON.stringify({ intervalMs: 1000 }));
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    console.log(`subway: try  curl -N 'http://${host}:${config.port}/graphql?id=Clock&variables=${vars}'`);
  }
  if (command === 'deploy' && !config.upstreamUrl) {
    // wrangler deploy replaces the Worker's vars with wrangler.toml's: an empty one there would deploy a Worker that answers 500.
    const { unstable_readConfig } = await import('wrangler');
    const fromToml = (unstable_readConfig({ config: 'wrangler.toml' }).vars as Record<string, unknown>).UPSTREAM_URL;
    if (typeof fromToml !== 'string' || fromToml.trim() === '') {
      throw new ConfigError('UPSTREAM_URL is not set: set it under [vars] in wrangler.toml, or run `UPSTREAM_URL=wss://… npm run deploy`.');
    }
    readConfig({ UPSTREAM_URL: fromToml });
  }
  try {
    return await runWrangler(wranglerArgs(command, process.env, extra, example?.url));
  } finally {
    await example?.close();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof ConfigError || err instanceof OperationsError) {
    console.error(`subway: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
