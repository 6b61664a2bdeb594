/**
 * `subway worker dev|build|deploy` (`npm run dev:worker`, `npm run
 * build:worker`, `npm run deploy`): wrangler, configured from the same
 * environment variables as `subway start`.
 *
 * - The operations folder (`--dir`, or PERSISTED_OPERATIONS) is chosen at
 *   build time: its generated files are checked (present, fresh), and an
 *   entry module that imports exactly them is wrangler's script
 *   (src/cli/worker-entry.ts), for dev, build and deploy alike.
 * - The gateway's settings (`WORKER_SETTINGS`), when set, become Worker vars
 *   (`--var`), replacing wrangler.toml's `[vars]`; they are checked here
 *   first, as `subway start` would.
 * - `dev` listens on `PORT`/`HOST`; without `UPSTREAM_URL` it starts the
 *   embedded example upstream, as `subway start` does.
 * - `build` writes the bundle `wrangler deploy` would upload to `dist/worker`
 *   (or the folder given after it) without deploying.
 * - wrangler.toml (or .json/.jsonc) of the working directory is used when
 *   there is one; without, the Worker is named `subway`.
 *
 * Any further arguments go to wrangler as they are.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, readConfig, WORKER_SETTINGS } from '../core/config.ts';
import { createRegistry } from '../core/operations/registry.ts';
import { createExampleSchema } from '../example/schema.ts';
import { startGraphqlWsServer, type UpstreamServer } from '../example/server.ts';
import { loadOperations, OperationsError } from '../node/operations/load.ts';
import { DEMO_DIR } from '../node/server.ts';
import { HUB_BINDING, HUB_BINDING_TOML, HUB_CLASS } from '../worker/binding.ts';
import { tryItUrl } from './try-it.ts';
import { freeLoopbackPort, startDemoFront, type DemoFront } from './worker-demo.ts';
import { writeWorkerEntry } from './worker-entry.ts';

const COMMANDS = ['dev', 'deploy', 'build'] as const;
type Command = (typeof COMMANDS)[number];

/** The compatibility date of a Worker deployed without a wrangler config of its own (the same as this repository's wrangler.toml). */
export const COMPATIBILITY_DATE = '2026-11-17';
const CONFIG_FILES = ['wrangler.json', 'wrangler.jsonc', 'wrangler.toml'];

export const WORKER_HELP = `usage: subway worker dev|build|deploy [--dir <folder>] [wrangler arguments]
       subway worker build [<outdir>] [--dir <folder>]

Runs the gateway as a Cloudflare Worker with wrangler (install it in your app:
npm install --save-dev wrangler), with the operations of one folder bundled in.

  dev              on workerd, locally (wrangler dev), on PORT/HOST; without
                   UPSTREAM_URL it starts the embedded example upstream too
  build [outdir]   the bundle \`wrangler deploy\` would upload, into outdir
                   (default dist/worker), without deploying
  deploy           wrangler deploy; needs UPSTREAM_URL (here or in wrangler.toml [vars]),
                   and with UPSTREAM_SHARING or RESUME_WINDOW_MS on, the Durable
                   Object binding SUBWAY_HUB and its migration in wrangler.toml

  --dir <folder>   the registered operations (PERSISTED_OPERATIONS; default persisted-operations)
  -h, --help       this help

The gateway's settings set in the environment (UPSTREAM_URL, HEARTBEAT_MS,
CORS_ORIGINS, ...) become Worker vars. wrangler.toml of the working directory
is used when there is one; without, the Worker is named subway (pass --name).
Other arguments go to wrangler as they are, e.g. \`subway worker deploy --dry-run\`.`;

interface Parsed {
  command: Command;
  dir: string | undefined;
  /** What goes to wrangler, `build`'s outdir first when given. */
  extra: string[];
}

function parse(argv: readonly string[]): Parsed | 'help' {
  const [name = '', ...rest] = argv;
  if (name === '--help' || name === '-h' || rest.includes('--help') || rest.includes('-h')) return 'help';
  if (!COMMANDS.includes(name as Command)) throw new ConfigError(`subway worker: expected dev, build or deploy, got ${name ? `"${name}"` : 'nothing'}.\n\n${WORKER_HELP}`);
  let dir: string | undefined;
  const extra: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--dir') {
      dir = rest[++i];
      if (dir === undefined) throw new ConfigError('subway worker: --dir needs a folder.');
    } else if (arg.startsWith('--dir=')) dir = arg.slice('--dir='.length);
    else extra.push(arg);
  }
  return { command: name as Command, dir, extra };
}

const hasFlag = (args: readonly string[], ...names: string[]) => args.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));

/** The wrangler config this run uses: `--config`/`-c` when given, else one in the working directory. */
function configFile(extra: readonly string[]): string | undefined {
  const i = extra.findIndex((a) => a === '--config' || a === '-c');
  if (i >= 0) return extra[i + 1];
  const inline = extra.find((a) => a.startsWith('--config='));
  if (inline) return inline.slice('--config='.length);
  return CONFIG_FILES.find((f) => existsSync(f));
}

/** The wrangler arguments for a command, from the environment: `script` is the entry module. */
export function wranglerArgs(
  command: Command,
  env: Record<string, string | undefined>,
  script: string,
  extra: readonly string[] = [],
  upstreamUrl?: string,
  assets?: string,
): string[] {
  const config = readConfig(env);
  const args: string[] = command === 'dev' ? ['dev', script] : ['deploy', script];
  const outdir = command === 'build' && extra[0] && !extra[0].startsWith('-') ? extra[0] : undefined;
  const rest = outdir ? extra.slice(1) : [...extra];
  if (command === 'build') args.push('--dry-run', '--outdir', outdir ?? 'dist/worker');
  const file = configFile(rest);
  // wrangler looks for its config next to the script it is given, not in the working directory: name it.
  if (file && !hasFlag(rest, '--config', '-c')) args.push('--config', file);
  if (!file) {
    if (!hasFlag(rest, '--name')) args.push('--name', 'subway');
    if (!hasFlag(rest, '--compatibility-date')) args.push('--compatibility-date', COMPATIBILITY_DATE);
  }
  const url = upstreamUrl ?? config.upstreamUrl;
  if (url) args.push('--var', `UPSTREAM_URL:${url}`);
  for (const name of WORKER_SETTINGS) {
    const value = env[name]?.trim();
    if (name !== 'UPSTREAM_URL' && value) args.push('--var', `${name}:${value}`);
  }
  if (command === 'dev') args.push('--port', String(config.port), '--ip', config.host);
  // The demo page, served by workerd's static assets in front of the Worker (`/graphql`, `/metrics` reach the Worker).
  if (assets) args.push('--assets', assets);
  return [...args, ...rest];
}

/** wrangler's CLI, as installed next to the app (an optional peer dependency of the package). */
function wranglerBin(): string {
  try {
    return createRequire(import.meta.url).resolve('wrangler/package.json').replace(/package\.json$/, 'bin/wrangler.js');
  } catch {
    throw new ConfigError('subway worker needs wrangler: npm install --save-dev wrangler');
  }
}

function runWrangler(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const child = spawn(process.execPath, [wranglerBin(), ...args], {
    stdio: 'inherit',
    // No usage metrics unless asked for; a local run never fetches Request.cf.
    env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...env },
  });
  let stopping = false;
  const forward = (signal: NodeJS.Signals) => {
    stopping = true;
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolveExit, reject) => {
    child.once('error', reject);
    // Stopped on request (wrangler exits 128 + the signal's number): a clean stop.
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolveExit(stopping && (signal || code === 130 || code === 143) ? 0 : (code ?? 1));
    });
  });
}

/** `deploy` without UPSTREAM_URL: wrangler would replace the Worker's vars with the config's, so the config must name one. */
async function checkDeployUpstream(extra: readonly string[]): Promise<void> {
  const file = configFile(extra);
  let fromConfig: unknown;
  if (file) {
    const { unstable_readConfig } = await import('wrangler');
    fromConfig = (unstable_readConfig({ config: file }).vars as Record<string, unknown>)['UPSTREAM_URL'];
  }
  if (typeof fromConfig !== 'string' || fromConfig.trim() === '') {
    throw new ConfigError('UPSTREAM_URL is not set: set it under [vars] in wrangler.toml, or in the environment (`UPSTREAM_URL=wss://… subway worker deploy`).');
  }
  readConfig({ UPSTREAM_URL: fromConfig });
}

/** What a wrangler config says about the Durable Object of the shared modes (as `unstable_readConfig` reads it). */
interface HubConfig {
  vars?: Record<string, unknown>;
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { new_classes?: string[]; new_sqlite_classes?: string[]; renamed_classes?: { from: string; to: string }[]; deleted_classes?: string[] }[];
}

/**
 * Why the Worker needs its Durable Object (`UPSTREAM_SHARING` other than
 * `off`, or `RESUME_WINDOW_MS` above 0, from the environment or the config's
 * `[vars]`), or `undefined` when it does not.
 */
export function hubNeed(env: Record<string, string | undefined>, vars: Record<string, unknown> = {}): string | undefined {
  const read = (name: string) => (env[name]?.trim() || (vars[name] === undefined ? '' : String(vars[name]).trim())) || undefined;
  const sharing = read('UPSTREAM_SHARING');
  const resume = read('RESUME_WINDOW_MS');
  const needs = [sharing !== undefined && sharing !== 'off' ? `UPSTREAM_SHARING=${sharing}` : undefined, resume !== undefined && Number(resume) > 0 ? `RESUME_WINDOW_MS=${resume}` : undefined];
  const why = needs.filter(Boolean).join(' and ');
  return why || undefined;
}

/**
 * The Durable Object binding and migration a Worker that shares or resumes
 * needs (docs/workers.md, "Sharing and resuming"), checked in the config
 * before wrangler bundles or deploys: a clear message instead of a Worker
 * that answers 500. `undefined` when all is there; else what to fix.
 */
export function hubProblem(why: string, file: string | undefined, config: HubConfig | undefined): string | undefined {
  const add = `add to ${file ?? 'a wrangler.toml'}:\n\n${HUB_BINDING_TOML}\n\n(docs/workers.md, "Sharing and resuming")`;
  if (!file || !config) return `${why} needs the Durable Object binding ${HUB_BINDING} (class ${HUB_CLASS}) and its migration, which need a wrangler config; ${add}`;
  const binding = config.durable_objects?.bindings?.find((b) => b.name === HUB_BINDING);
  if (!binding) return `${why} needs the Durable Object binding ${HUB_BINDING} (class ${HUB_CLASS}), and ${file} has none; ${add}`;
  if (binding.class_name !== HUB_CLASS || binding.script_name) {
    return `${file} binds ${HUB_BINDING} to ${binding.script_name ? `${binding.script_name}'s ` : ''}class ${binding.class_name}; ${why} needs this Worker's own class ${HUB_CLASS}; ${add}`;
  }
  let created = false;
  for (const m of config.migrations ?? []) {
    if (m.new_sqlite_classes?.includes(HUB_CLASS) || m.new_classes?.includes(HUB_CLASS) || m.renamed_classes?.some((r) => r.to === HUB_CLASS)) created = true;
    if (m.deleted_classes?.includes(HUB_CLASS)) created = false;
  }
  if (!created) return `${file} binds ${HUB_BINDING} but no [[migrations]] entry creates the class ${HUB_CLASS}; ${add}`;
  return undefined;
}

/** `deploy`/`build` of a Worker that needs its Durable Object: the binding and migration must be in the config. */
async function checkHubBinding(settings: Record<string, string | undefined>, extra: readonly string[]): Promise<void> {
  const file = configFile(extra);
  let config: HubConfig | undefined;
  if (file) {
    const { unstable_readConfig } = await import('wrangler');
    config = unstable_readConfig({ config: file }) as HubConfig;
  }
  const why = hubNeed(settings, config?.vars);
  if (!why) return;
  const problem = hubProblem(why, file, config);
  if (problem) throw new ConfigError(problem);
  console.log(`subway: ${why}: Durable Object ${HUB_BINDING} (class ${HUB_CLASS}) bound in ${file}, with its migration`);
}

async function run(parsed: Parsed, env: Record<string, string | undefined>): Promise<number> {
  const { command, extra } = parsed;
  const settings = parsed.dir === undefined ? env : { ...env, PERSISTED_OPERATIONS: parsed.dir };
  const config = readConfig(settings);
  // The Worker cannot read the folder at run time: refuse to bundle missing or stale files.
  const bundle = await loadOperations(config.persistedOperations);
  console.log(`subway: bundling ${bundle.manifest.operations.length} persisted operations from ${config.persistedOperations}`);
  if (command === 'deploy' && !config.upstreamUrl) await checkDeployUpstream(extra);
  if (command !== 'dev') await checkHubBinding(settings, extra);
  wranglerBin();
  let example: UpstreamServer | undefined;
  let demo: string | undefined;
  if (command === 'dev' && !config.upstreamUrl) {
    example = await startGraphqlWsServer(createExampleSchema());
    console.log(`subway: upstream ${example.url} (embedded example)`);
    // As `subway start` does: this repository's demo page with the embedded example, once built (`npm run build:demo`).
    if (import.meta.url.endsWith('.ts') && existsSync(`${DEMO_DIR}/index.html`)) demo = DEMO_DIR;
  }
  if (command === 'dev') {
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = tryItUrl(createRegistry(bundle), `http://${host}:${config.port}`);
    if (url) console.log(`subway: try  curl -N '${url}'`);
    if (demo) console.log(`subway: demo page http://${host}:${config.port}/ ("Cut network" resets the page's connections; wrangler listens behind it)`);
  }
  const entry = await writeWorkerEntry(config.persistedOperations);
  // With the demo page, wrangler listens behind a front of ours on PORT that adds the demo's "Cut network" route.
  let front: DemoFront | undefined;
  let wranglerSettings = settings;
  if (demo) {
    const inner = await freeLoopbackPort();
    front = await startDemoFront(config.host, config.port, inner);
    wranglerSettings = { ...settings, PORT: String(inner), HOST: '127.0.0.1' };
  }
  try {
    return await runWrangler(wranglerArgs(command, wranglerSettings, entry.path, extra, example?.url, demo), env);
  } finally {
    await front?.close();
    await entry.dispose();
    await example?.close();
  }
}

/** Runs one `subway worker` command; resolves with the exit code. */
export async function runWorker(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      console.log(WORKER_HELP);
      return 0;
    }
    return await run(parsed, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof OperationsError) {
      console.error(`subway: ${err.message}`);
      return err.message.includes(WORKER_HELP) ? 2 : 1;
    }
    throw err;
  }
}
