/**
 * The start banner's "Try it" line: a `curl -N` that streams one of the
 * operations actually served, never one that would answer 404 (or 400).
 *
 * It picks, subscriptions first, then queries (mutations are never served
 * over GET), in name order: an operation whose variables are all optional,
 * with no variables at all; else the first whose required variables can be
 * given example values of their declared types (`1`, `"example"`, `true`,
 * an enum's first value, an input object's required fields). A custom scalar
 * has no example value: an operation that needs one is skipped.
 */
import {
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  typeFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { RegisteredOperation, Registry } from '../core/operations/registry.ts';

const SCALAR_EXAMPLES: Record<string, unknown> = { Int: 1, Float: 1.5, String: 'example', ID: '1', Boolean: true };

/** An example value of an input type, or `undefined` when there is none (a custom scalar). */
function example(type: GraphQLInputType, depth = 0): unknown {
  if (depth > 8) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const item = example(nullable.ofType, depth + 1);
    return item === undefined ? undefined : [item];
  }
  if (isEnumType(nullable)) return nullable.getValues()[0]?.name;
  if (isScalarType(nullable)) return SCALAR_EXAMPLES[nullable.name];
  if (isInputObjectType(nullable)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields())) {
      if (!isNonNullType(field.type) || field.defaultValue !== undefined) continue;
      const v = example(field.type, depth + 1);
      if (v === undefined) return undefined;
      value[field.name] = v;
    }
    return value;
  }
  return undefined;
}

/** The variables to send: none when every variable is optional, example values of the required ones, or `undefined` when impossible. */
export function exampleVariables(op: RegisteredOperation, schema: GraphQLSchema): Record<string, unknown> | undefined {
  const variables: Record<string, unknown> = {};
  for (const definition of op.variableDefinitions) {
    if (definition.type.kind !== 'NonNullType' || definition.defaultValue) continue;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    const value = type && example(type);
    if (value === undefined) return undefined;
    variables[definition.variable.name.value] = value;
  }
  return variables;
}

/** The URL of an operation that the gateway at `base` serves as it is, or `undefined` when no operation can be called without inventing a value. */
export function tryItUrl(registry: Registry, base: string): string | undefined {
  const rank = { subscription: 0, query: 1, mutation: 2 } as const;
  const candidates = registry.operations
    .filter((op) => op.type !== 'mutation')
    .sort((a, b) => rank[a.type] - rank[b.type] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const withVariables = candidates.map((op) => ({ op, variables: exampleVariables(op, registry.inputSchema) }));
  const chosen = withVariables.find((c) => c.variables && Object.keys(c.variables).length === 0) ?? withVariables.find((c) => c.variables);
  if (!chosen) return undefined;
  const url = new URL('/graphql', base);
  url.searchParams.set('id', chosen.op.name);
  if (Object.keys(chosen.variables!).length > 0) url.searchParams.set('variables', JSON.stringify(chosen.variables));
  return url.href;
}

/** The banner's lines: a `curl -N` to run, or why there is none. */
export function tryItLines(registry: Registry, base: string, options: { insecure?: boolean } = {}): string[] {
  if (registry.operations.length === 0) return ['No operations are registered yet: add .graphql files to the folder and run `subway register`.'];
  if (registry.operations.every((op) => op.type === 'mutation')) return ['Only mutations are registered: they are served over POST, not to curl -N (see docs/protocol.md).'];
  const url = tryItUrl(registry, base);
  if (!url) return ['Every operation needs a variable of a custom scalar type: try one with `curl -N \'' + new URL('/graphql', base).href + '?id=<name>&variables=<JSON>\'`.'];
  return ['Try it:', `  curl -N${options.insecure ? ' -k' : ''} '${url}'`];
}
