/**
 * `subway register (--upstream <ws url> | --schema <file.graphql>) [options]`
 * (`npm run register -- …` in this repository).
 *
 * Validates every operation in the persisted-operations folder against the
 * upstream's schema and writes the files the gateway loads, the bundle
 * (`subway-bundle.json`) among them. `--import` adds operations from other
 * tools' files, `--check` verifies instead of writing (for CI), `--watch`
 * re-registers on every change, `--sign` signs the bundle, `--publish-kv`
 * writes it to a Workers KV namespace; `--generate-key` makes a signing key.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { planImport, readImportFile } from './import.ts';
import { MAP_FILE, buildOutputs, findStaleOutputs, readAliases, readIfExists, writeAtomically } from './outputs.ts';
import { BUNDLE_FILE } from '../core/operations/bundle.ts';
import type { SigningKey } from '../core/operations/signature.ts';
import { readSigningKey, writeKeyPair } from './keys.ts';
import { parseKvTarget, publishToKv, type KvTarget } from './publish-kv.ts';
import { readSources, type SourceFile } from '../node/operations/source.ts';
import { NodeWebSocket } from '../node/serve.ts';
import { introspectOverWebSocket } from './introspect.ts';
import { firstFolder, parseSourceList } from '../core/operations/source-list.ts';

const USAGE = `usage: subway register (--upstream <ws(s) url> | --schema <file.graphql>) [--dir <folder>]
         [--import <file> ... [--allow-custom-ids]] [--emit-map] [--check | --watch]
         [--sign <private key file>] [--publish-kv <namespace id or binding>[/<key>] [--local [--persist-to <dir>]]]
       subway register --generate-key <private key file>`;

/** \`subway register --help\`: every option of OPTIONS, each on its line (a test checks that none is missing). */
export const REGISTER_HELP = `${USAGE}

Validates every .graphql file of the folder (one named operation per file)
against the upstream's schema and writes, into the folder, what the gateway
loads and what clients are typed by: persisted-query-manifest.json, subway.json,
operations.ts and subway-bundle.json (the bundle a gateway can load from a URL
or Workers KV). Commit them.

  --upstream <url>      introspect the schema over graphql-ws (either protocol), ws:// or wss://
  --schema <file>       read the schema from an SDL file instead
  --dir <folder>        the operations folder (PERSISTED_OPERATIONS; default persisted-operations)
  --import <file>       add the operations of another tool's file (Apollo manifest, {id: text} map,
                        Relay query map); repeatable
  --allow-custom-ids    with --import: keep ids that are not a hash of their text, as aliases
  --emit-map            also write persisted-documents.json ({"<sha256>": "<text>"})
  --check               CI: exit 1 when the files are stale or an operation no longer validates; write nothing
  --watch               register again on every change to a .graphql file
  --sign <file>         sign subway-bundle.json with this Ed25519 private key (PKCS#8 PEM)
  --publish-kv <ns>[/<key>]
                        then write subway-bundle.json to a Workers KV namespace (its id, or a binding
                        of ./wrangler.toml) with wrangler, under <key> (default subway-bundle.json)
  --local               with --publish-kv: wrangler dev's local KV instead of Cloudflare's
  --persist-to <dir>    with --local: where that local KV lives (wrangler's --persist-to)
  --generate-key <file> make an Ed25519 signing key: <file> (private) and <file>.pub; prints the
                        PERSISTED_OPERATIONS_PUBLIC_KEY value for the gateways
  -h, --help            this help

See docs/operations.md and docs/operation-sources.md.`;

export const OPTIONS = {
  upstream: { type: 'string' },
  schema: { type: 'string' },
  dir: { type: 'string' },
  import: { type: 'string', multiple: true },
  'allow-custom-ids': { type: 'boolean' },
  'emit-map': { type: 'boolean' },
  check: { type: 'boolean' },
  watch: { type: 'boolean' },
  sign: { type: 'string' },
  'generate-key': { type: 'string' },
  'publish-kv': { type: 'string' },
  local: { type: 'boolean' },
  'persist-to': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Run {
  dir: string;
  shown: string;
  schema: GraphQLSchema;
  imports: string[];
  allowCustomIds: boolean;
  emitMap: boolean;
  signingKey: SigningKey | undefined;
  publish: { target: KvTarget; local: boolean; persistTo: string | undefined } | undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One registration (or check); returns the exit code. */
async function registerOnce(run: Run, check: boolean): Promise<number> {
  const { dir, shown, schema } = run;
  let sources: SourceFile[];
  let aliases;
  try {
    sources = await readSources(dir);
    aliases = await readAliases(dir);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const added: SourceFile[] = [];
  const report: string[] = [];
  for (const file of run.imports) {
    let parsed;
    try {
      parsed = readImportFile(JSON.parse(await readFile(file, 'utf8')));
    } catch (err) {
      console.error(`${file}: cannot import: ${(err as Error).message}`);
      return 1;
    }
    const plan = planImport(file, parsed.entries, [...sources, ...added], aliases, { allowCustomIds: run.allowCustomIds });
    if (plan.problems.length > 0) {
      for (const p of plan.problems) console.error(p);
      console.error(`${plural(plan.problems.length, 'problem')}; nothing was written.`);
      return 1;
    }
    added.push(...plan.files);
    aliases = plan.aliases;
    report.push(`${file} (${parsed.format}):`, ...plan.report.map((line) => `  ${line}`));
  }
  const all = [...sources, ...added].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const emitMap = run.emitMap || (await readIfExists(join(dir, MAP_FILE))) !== undefined;
  const outputs = await buildOutputs(all, schema, { displayDir: shown, aliases, emitMap, signingKey: run.signingKey });
  if (outputs.problems.length > 0) {
    for (const p of outputs.problems) console.error(p);
    console.error(`${plural(outputs.problems.length, 'problem')}; ${check ? 'an operation no longer validates against the schema.' : 'nothing was written.'}`);
    return 1;
  }
  if (check) {
    const stale = await findStaleOutputs(dir, outputs, shown);
    for (const line of stale) console.error(line);
    if (stale.length > 0) {
      console.error(`The generated files in ${shown} are stale: run \`subway register\` and commit the result.`);
      return 1;
    }
    console.log(`${plural(outputs.manifest.operations.length, 'operation')} in ${shown} validate and the generated files are up to date.`);
    return 0;
  }
  for (const notice of outputs.notices) console.log(`note: ${notice}`);
  // The .graphql files first: the folder stays the source of truth.
  await writeAtomically(dir, added.map((f) => [f.file, f.body]));
  await writeAtomically(dir, outputs.files);
  if (report.length > 0) console.log(report.join('\n'));
  console.log(`Registered ${plural(outputs.manifest.operations.length, 'operation')}: wrote ${[...outputs.files.keys()].map((f) => join(shown, f)).join(', ')}${run.signingKey ? ` (the bundle signed with key ${run.signingKey.keyId})` : ''}.`);
  return run.publish ? publish(run) : 0;
}

/** `--publish-kv`: the bundle just written, to a KV namespace. */
async function publish(run: Run): Promise<number> {
  const { target, local, persistTo } = run.publish!;
  const file = join(run.dir, BUNDLE_FILE);
  const { code, output } = await publishToKv(target, file, { local, persistTo });
  const where = `${local ? 'local' : 'Cloudflare'} KV namespace ${target.namespace}, key ${target.key}`;
  if (code !== 0) {
    console.error(`${output}\nCould not publish ${join(run.shown, BUNDLE_FILE)} to the ${where} (wrangler exited with ${code}).`);
    return 1;
  }
  console.log(`Published ${join(run.shown, BUNDLE_FILE)} to the ${where}.`);
  return 0;
}

/** `--generate-key <file>`: a new signing key pair, and the value to give the gateways. */
async function generateKey(file: string): Promise<number> {
  let pair;
  try {
    pair = await writeKeyPair(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    console.error(code === 'EEXIST' ? `${(err as { path?: string }).path ?? file} exists: a key is never overwritten; choose another name.` : `Cannot write the key: ${(err as Error).message}`);
    return 1;
  }
  console.log(`Wrote a new Ed25519 signing key (key id ${pair.keyId}):
  ${file}      private, PKCS#8 PEM: keep it secret (a CI secret); sign with \`subway register --sign ${file}\`
  ${file}.pub  public, SPKI PEM
Set on every gateway that reads the bundles this key signs:
  PERSISTED_OPERATIONS_PUBLIC_KEY=${pair.publicBase64}`);
  return 0;
}

/** Re-registers whenever a `.graphql` file of the folder changes, until `signal` aborts. */
async function watchFolder(run: Run, signal: AbortSignal): Promise<number> {
  let running = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rerun = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      await registerOnce({ ...run, imports: [] }, false);
    } while (again);
    running = false;
  };
  const watcher = watch(run.dir, { signal });
  watcher.on('change', (_, name) => {
    if (name !== null && !String(name).endsWith('.graphql')) return;
    // Editors write a file in several steps; wait until they are done.
    clearTimeout(timer);
    timer = setTimeout(() => void rerun(), 100);
  });
  console.log(`Watching ${run.shown} for changes (Ctrl-C to stop).`);
  await new Promise<void>((resolve) => {
    watcher.once('close', resolve);
    watcher.once('error', (err) => {
      console.error(`Watching ${run.shown} failed: ${err.message}`);
      resolve();
    });
  });
  clearTimeout(timer);
  return 0;
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** What is wrong with a combination of flags, if anything. */
function usageProblem(values: Values): string | undefined {
  if (!values.upstream === !values.schema) return 'Give exactly one of --upstream and --schema.';
  if (values.check && (values.watch || values.import)) return '--check verifies the folder as it is: it goes with neither --watch nor --import.';
  if (values.check && (values.sign || values['publish-kv'])) return '--check writes nothing: it goes with neither --sign nor --publish-kv.';
  if ((values.local || values['persist-to']) && !values['publish-kv']) return '--local and --persist-to say where --publish-kv writes.';
  return undefined;
}

export async function runRegister(argv: string[], env: Record<string, string | undefined>, signal?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(REGISTER_HELP);
    return 0;
  }
  if (values['generate-key'] !== undefined) {
    if (Object.keys(values).length > 1) {
      console.error(`--generate-key makes a key and nothing else.\n${USAGE}`);
      return 2;
    }
    return generateKey(values['generate-key']);
  }
  const misuse = usageProblem(values);
  if (misuse) {
    console.error(`${misuse}\n${USAGE}`);
    return 2;
  }
  const target = values['publish-kv'] === undefined ? undefined : parseKvTarget(values['publish-kv']);
  if (typeof target === 'string') {
    console.error(`${target}\n${USAGE}`);
    return 2;
  }
  let signingKey: SigningKey | undefined;
  if (values.sign) {
    try {
      signingKey = await readSigningKey(values.sign);
    } catch (err) {
      console.error(`Cannot sign with the key: ${(err as Error).message}`);
      return 1;
    }
  }
  // PERSISTED_OPERATIONS may list URLs and KV keys too: `register` works on its first folder.
  const specs = parseSourceList(env.PERSISTED_OPERATIONS);
  if (values.dir === undefined && typeof specs === 'string') {
    console.error(`PERSISTED_OPERATIONS: ${specs}.`);
    return 2;
  }
  const dir = values.dir ?? firstFolder(specs as Exclude<typeof specs, string>);
  let schema: GraphQLSchema;
  try {
    schema = values.schema
      ? buildSchema(await readFile(values.schema, 'utf8'))
      : await introspectOverWebSocket(values.upstream!, NodeWebSocket);
  } catch (err) {
    console.error(`Cannot load the schema: ${(err as Error).message}`);
    return 1;
  }
  const run: Run = {
    dir,
    shown: relative(process.cwd(), dir) || '.',
    schema,
    imports: values.import ?? [],
    allowCustomIds: values['allow-custom-ids'] ?? false,
    emitMap: values['emit-map'] ?? false,
    signingKey,
    publish: target && { target, local: values.local ?? false, persistTo: values['persist-to'] },
  };
  const code = await registerOnce(run, values.check ?? false);
  if (!values.watch) return code;
  return watchFolder(run, signal ?? new AbortController().signal);
}


if (import.meta.main) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  process.exitCode = await runRegister(process.argv.slice(2), process.env, controller.signal);
}
