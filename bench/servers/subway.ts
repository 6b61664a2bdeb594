/**
 * subway under test, as users run it: the persisted operation registered into
 * a temporary folder against the benchmark schema, then the configuration
 * read from the environment (`readConfig`) and `startServer`, exactly what
 * `subway start` (`npm start`) does, with its defaults: prom-client metrics,
 * the JSON log lines on stdout (the orchestrator points this process's stdout
 * at a file), the connection defences, the queue budget, and the last-resort
 * handler. Only what `npm start` takes from its environment is set here:
 * where the operations are, the upstream, the address, and the certificate.
 * `UPSTREAM_SHARING` (and any other setting) in the environment applies.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSchema } from 'graphql';
import { BENCH_OPERATION, benchTypeDefs } from '../schema.ts';
import { ready, serverArgs } from './common.ts';

const { upstream, tlsFiles, src } = serverArgs();
// `--src <dir>` runs another checkout's src/ (an A/B comparison in one run: `--base-src`).
const base = src ? pathToFileURL(`${src}/`).href : new URL('../../src/', import.meta.url).href;
const load = <T>(path: string): Promise<T> => import(new URL(path, base).href);
const { readConfig } = await load<typeof import('../../src/core/config.ts')>('core/config.ts');
const { startServer } = await load<typeof import('../../src/node/server.ts')>('node/server.ts');
const { COMPANION_FILE, MANIFEST_FILE, formatJson } = await load<typeof import('../../src/core/operations/manifest.ts')>('core/operations/manifest.ts');
const { compileOperations } = await load<typeof import('../../src/register/compile.ts')>('register/compile.ts');
const { readSources } = await load<typeof import('../../src/node/operations/source.ts')>('node/operations/source.ts');
// The last resort `subway start` installs once serving (absent from checkouts older than issue 10's hardening).
const keepServing = await load<typeof import('../../src/node/last-resort.ts')>('node/last-resort.ts').then(
  (m) => m.keepServing,
  () => undefined,
);

// The folder stays for the process's life: `startServer` watches it, as `npm start` does.
const dir = mkdtempSync(join(tmpdir(), 'subway-bench-ops-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'Bench.graphql'), BENCH_OPERATION);
const { bundle, problems } = compileOperations(await readSources(dir), buildSchema(benchTypeDefs));
if (problems.length) throw new Error(problems.join('\n'));
writeFileSync(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
writeFileSync(join(dir, COMPANION_FILE), formatJson(bundle.companion));

const config = readConfig({
  ...process.env,
  PERSISTED_OPERATIONS: dir,
  UPSTREAM_URL: upstream,
  HOST: '127.0.0.1',
  PORT: '0',
  ...(tlsFiles ? { TLS_CERT: tlsFiles.cert, TLS_KEY: tlsFiles.key } : {}),
});
const server = await startServer(config);
keepServing?.((line) => process.stderr.write(`${line}\n`));
ready(server.node.port);
