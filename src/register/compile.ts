/**
 * Compiles the operations folder against a schema into the files the gateway
 * loads. Every problem is reported as `file:line:column: message`.
 */
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Aliases } from '../core/operations/aliases.ts';
import { printInputSchema } from './input-schema.ts';
import type { Companion, ManifestOperation, OperationBundle, PersistedQueryManifest } from '../core/operations/manifest.ts';
import type { SourceFile } from '../node/operations/source.ts';

export interface CompileResult {
  bundle: OperationBundle;
  /** Problems as `file:line:column: message`; the bundle must not be written when there are any. */
  problems: string[];
  /** Things worth saying that are no problem (an alias dropped because its operation changed). */
  notices: string[];
}

function where(file: string, err: GraphQLError): string {
  const loc = err.locations?.[0];
  return loc ? `${file}:${loc.line}:${loc.column}: ${err.message}` : `${file}:1:1: ${err.message}`;
}

/**
 * `aliases` (from `subway.json` or an import) are kept while the operation
 * they point at keeps its exact bytes; an alias of a changed or removed
 * operation is dropped with a notice, since its old id named other text.
 */
export function compileOperations(sources: readonly SourceFile[], schema: GraphQLSchema, displayDir = '', aliases: Aliases = {}): CompileResult {
  const problems: string[] = [];
  const notices: string[] = [];
  const operations: ManifestOperation[] = [];
  const documents: DocumentNode[] = [];
  const files: Record<string, string> = {};
  const byName = new Map<string, string>();
  const byId = new Map<string, string>();
  for (const source of sources) {
    const file = displayDir ? `${displayDir}/${source.file}` : source.file;
    let document: DocumentNode;
    try {
      document = parse(source.body);
    } catch (err) {
      problems.push(err instanceof GraphQLError ? where(file, err) : `${file}:1:1: ${(err as Error).message}`);
      continue;
    }
    const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    const [op] = ops;
    if (ops.length !== 1 || !op) {
      const at = ops[1]?.loc?.startToken ?? document.loc?.startToken;
      problems.push(`${file}:${at?.line ?? 1}:${at?.column ?? 1}: a persisted-operation file holds exactly one operation (found ${ops.length})`);
      continue;
    }
    const name = op.name?.value;
    if (!name) {
      problems.push(`${file}:${op.loc?.startToken.line ?? 1}:${op.loc?.startToken.column ?? 1}: the operation must be named`);
      continue;
    }
    const expected = source.file.replace(/\.graphql$/, '');
    if (name !== expected) {
      const at = op.name!.loc?.startToken;
      problems.push(`${file}:${at?.line ?? 1}:${at?.column ?? 1}: operation "${name}" must live in ${name}.graphql (file names match operation names)`);
      continue;
    }
    const errors = validate(schema, document);
    if (errors.length > 0) {
      for (const err of errors) problems.push(where(file, err));
      continue;
    }
    const sameId = byId.get(source.id);
    if (sameId) {
      problems.push(`${file}:1:1: has the same bytes, so the same id, as ${sameId}`);
      continue;
    }
    const sameName = byName.get(name);
    if (sameName) {
      problems.push(`${file}:1:1: operation name "${name}" is already used by ${sameName}`);
      continue;
    }
    byId.set(source.id, file);
    byName.set(name, file);
    files[source.file] = source.id;
    documents.push(document);
    operations.push({ id: source.id, name, type: op.operation, body: source.body });
  }
  operations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kept: Aliases = {};
  const ids = new Set(operations.map((o) => o.id));
  for (const key of Object.keys(aliases).sort()) {
    const alias = aliases[key]!;
    if (!ids.has(alias.id) && sources.some((s) => s.id === alias.id)) continue; // its file has a problem, reported above
    if (!ids.has(alias.id)) {
      notices.push(`alias ${key} dropped: no operation has the id ${alias.id} any more (its file changed or was removed)`);
      continue;
    }
    const named = byName.get(key);
    if (named && files[`${key}.graphql`] !== alias.id) {
      problems.push(`${named}:1:1: operation name "${key}" is also an alias of another operation (${alias.id})`);
      continue;
    }
    if (named) continue; // an alias equal to its own operation's name adds nothing
    kept[key] = alias;
  }
  const manifest: PersistedQueryManifest = { format: 'apollo-persisted-query-manifest', version: 1, operations };
  const companion: Companion = { format: 'subway-operations', version: 1, inputSchema: printInputSchema(schema, documents), files };
  if (Object.keys(kept).length > 0) companion.aliases = kept;
  return { bundle: { manifest, companion }, problems, notices };
}
