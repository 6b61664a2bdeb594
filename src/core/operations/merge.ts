/**
 * Merges the lists of several sources (one per app) into the one allow-list
 * the gateway serves. The same operation in two sources (same id, so the
 * same bytes) is one operation; a name, id or alias that means two different
 * documents is refused, naming both sources.
 */
import { GraphQLSchema, specifiedScalarTypes } from 'graphql';
import type { RegisteredOperation, Registry } from './registry.ts';
import { sourceFailure } from './source.ts';

export interface RegistryPart {
  /** The source's name, as messages show it. */
  readonly source: string;
  readonly registry: Registry;
}

/** Every key a client may name the operation by. */
const keysOf = (op: RegisteredOperation) => [op.name, op.id, ...op.aliases];

const shown = (op: RegisteredOperation) => `${op.name}, ${op.id.slice(0, 12)}…`;

/** Throws when a key of `a`'s operations means another document in `b`. */
function checkPair(a: RegistryPart, b: RegistryPart): void {
  for (const op of a.registry.operations) {
    for (const key of keysOf(op)) {
      const other = b.registry.resolve(key);
      if (other && other.id !== op.id) {
        throw sourceFailure('conflict', `"${key}" means different operations in ${a.source} (${shown(op)}) and ${b.source} (${shown(other)})`);
      }
    }
  }
}

/** A registry of no operations. */
export function emptyRegistry(): Registry {
  return { operations: [], inputSchema: new GraphQLSchema({ types: specifiedScalarTypes }), resolve: () => undefined };
}

/**
 * One registry over `parts`, in order. Throws a `conflict` failure naming
 * both sources when they disagree. A single part is returned as it is.
 */
export function mergeRegistries(parts: readonly RegistryPart[]): Registry {
  if (parts.length === 0) return emptyRegistry();
  if (parts.length === 1) return parts[0]!.registry;
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      checkPair(parts[i]!, parts[j]!);
      checkPair(parts[j]!, parts[i]!);
    }
  }
  const byId = new Map<string, RegisteredOperation>();
  for (const { registry } of parts) for (const op of registry.operations) if (!byId.has(op.id)) byId.set(op.id, op);
  const registries = parts.map((p) => p.registry);
  return {
    operations: [...byId.values()],
    inputSchema: registries[0]!.inputSchema,
    // No key means two operations (checked above): the first that knows it answers.
    resolve(id) {
      for (const registry of registries) {
        const op = registry.resolve(id);
        if (op) return op;
      }
      return undefined;
    },
  };
}
