/**
 * `GET /operations`: the registered operations, for tooling and the demo
 * page. Read-only, and it shows no more than the allow-list already implies:
 * names, ids, kinds and variable types (no document text).
 */
import { print } from 'graphql';
import type { Registry } from '../operations/registry.ts';

export interface OperationDescription {
  name: string;
  /** The canonical id: SHA-256 hex of the document. */
  id: string;
  /** Other ids the operation answers to (`register --import`). */
  aliases: string[];
  type: 'query' | 'mutation' | 'subscription';
  /** Each declared variable with its GraphQL type (e.g. `String!`) and default, when it has one. */
  variables: { name: string; type: string; defaultValue?: string }[];
}

export function describeOperations(registry: Registry): { operations: OperationDescription[] } {
  const operations = registry.operations
    .map((op): OperationDescription => ({
      name: op.name,
      id: op.id,
      aliases: [...op.aliases],
      type: op.type,
      variables: op.variableDefinitions.map((v) => ({
        name: v.variable.name.value,
        type: print(v.type),
        ...(v.defaultValue ? { defaultValue: print(v.defaultValue) } : {}),
      })),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { operations };
}
