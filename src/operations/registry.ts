/**
 * The registry: the allow-list of operations, loaded once at start and
 * looked up on every request. Runtime-agnostic (no filesystem): a Node server
 * reads the bundle from disk, a Worker imports it at build time.
 */
import { GraphQLSchema, buildSchema, parse, specifiedScalarTypes, type DocumentNode, type OperationDefinitionNode, type VariableDefinitionNode } from 'graphql';
import { SubwayError } from '../errors.ts';
import type { OperationBundle, OperationType } from './manifest.ts';

export interface RegisteredOperation {
  /** SHA-256 hex of the exact document bytes. */
  readonly id: string;
  readonly name: string;
  readonly type: OperationType;
  /** The document text, sent upstream verbatim. */
  readonly body: string;
  readonly variableDefinitions: readonly VariableDefinitionNode[];
  /** Names of the declared variables, for the undeclared-variable check. */
  readonly declared: ReadonlySet<string>;
}

export interface Registry {
  /** Resolves `sha256:<hex>`, a bare `<hex>`, or an operation name. */
  resolve(id: string): RegisteredOperation | undefined;
  readonly operations: readonly RegisteredOperation[];
  /** The pruned schema of input types the variables are coerced against. */
  readonly inputSchema: GraphQLSchema;
}

const HEX64 = /^[0-9a-f]{64}$/i;
const SHA256_PREFIX = 'sha256:';

function startupError(message: string): never {
  throw new SubwayError('INTERNAL_SERVER_ERROR', 500, message);
}

export function createRegistry(bundle: OperationBundle): Registry {
  const byId = new Map<string, RegisteredOperation>();
  const byName = new Map<string, RegisteredOperation>();
  for (const entry of bundle.manifest.operations) {
    let document: DocumentNode;
    try {
      document = parse(entry.body, { noLocation: true });
    } catch (err) {
      startupError(`Operation ${entry.name} (${entry.id}) does not parse: ${(err as Error).message}`);
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    const [definition] = operations;
    if (operations.length !== 1 || !definition) startupError(`Operation ${entry.name} (${entry.id}) must hold exactly one operation`);
    if (definition.name?.value !== entry.name) startupError(`Operation ${entry.id} is named ${definition.name?.value ?? '(anonymous)'} in its body but ${entry.name} in the manifest`);
    if (HEX64.test(entry.name)) startupError(`Operation name ${entry.name} looks like an id; rename it`);
    const op: RegisteredOperation = {
      id: entry.id,
      name: entry.name,
      type: definition.operation,
      body: entry.body,
      variableDefinitions: definition.variableDefinitions ?? [],
      declared: new Set((definition.variableDefinitions ?? []).map((v) => v.variable.name.value)),
    };
    const sameId = byId.get(op.id);
    if (sameId) startupError(`Two operations have the id ${op.id}: ${sameId.name} and ${op.name}`);
    const sameName = byName.get(op.name);
    if (sameName) startupError(`Two operations are named ${op.name}: ${sameName.id} and ${op.id}`);
    byId.set(op.id, op);
    byName.set(op.name, op);
  }
  let inputSchema: GraphQLSchema;
  try {
    const built = buildSchema(bundle.companion.inputSchema).toConfig();
    // graphql-js keeps only the types a schema reaches: with no input type
    // using Int (say), `$count: Int!` would not resolve. Keep every built-in scalar.
    inputSchema = new GraphQLSchema({ ...built, types: [...built.types, ...specifiedScalarTypes] });
  } catch (err) {
    startupError(`The input schema in subway.json does not build: ${(err as Error).message}`);
  }
  return {
    operations: [...byId.values()],
    inputSchema,
    resolve(id) {
      if (id.startsWith(SHA256_PREFIX)) {
        const hex = id.slice(SHA256_PREFIX.length);
        return HEX64.test(hex) ? byId.get(hex.toLowerCase()) : undefined;
      }
      if (HEX64.test(id)) return byId.get(id.toLowerCase());
      return byName.get(id);
    },
  };
}
