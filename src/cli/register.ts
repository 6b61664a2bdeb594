/**
 * `npm run register -- --upstream <ws url> | --schema <file.graphql>`
 *
 * Validates every operation in the persisted-operations folder against the
 * upstream's schema and writes the files the gateway loads.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../operations/manifest.ts';
import { compileOperations } from '../operations/register.ts';
import { readSources } from '../operations/source.ts';
import { NodeWebSocket } from '../runtime/node.ts';
import { introspectOverWebSocket } from '../upstream/introspect.ts';

const USAGE = 'usage: npm run register -- (--upstream <ws(s) url> | --schema <file.graphql>) [--dir <folder>]';

export async function runRegister(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { upstream: { type: 'string' }, schema: { type: 'string' }, dir: { type: 'string' } } }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.upstream === !values.schema) {
    console.error(`Give exactly one of --upstream and --schema.\n${USAGE}`);
    return 2;
  }
  const dir = values.dir ?? env.PERSISTED_OPERATIONS ?? 'persisted-operations';
  let schema: GraphQLSchema;
  try {
    schema = values.schema
      ? buildSchema(await readFile(values.schema, 'utf8'))
      : await introspectOverWebSocket(values.upstream!, NodeWebSocket);
  } catch (err) {
    console.error(`Cannot load the schema: ${(err as Error).message}`);
    return 1;
  }
  let sources;
  try {
    sources = await readSources(dir);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const shown = relative(process.cwd(), dir) || '.';
  const { bundle, problems } = compileOperations(sources, schema, shown);
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    console.error(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written.`);
    return 1;
  }
  await writeFile(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
  await writeFile(join(dir, COMPANION_FILE), formatJson(bundle.companion));
  console.log(`Registered ${bundle.manifest.operations.length} operations: wrote ${join(shown, MANIFEST_FILE)} and ${join(shown, COMPANION_FILE)}.`);
  return 0;
}

if (import.meta.main) process.exitCode = await runRegister(process.argv.slice(2), process.env);
