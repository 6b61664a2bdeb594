/**
 * Checks and coerces a request's variables against the operation's own
 * variable definitions and the input schema, with graphql-js's own coercion
 * (nested input objects, enums, lists, defaults), before any upstream work.
 */
import { getVariableValues } from 'graphql';
import { badInput } from '../errors.ts';
import type { RegisteredOperation } from './registry.ts';

/**
 * Checks the variables against the input schema of the source the operation
 * came from, or throws `BAD_USER_INPUT` naming the first offending variable.
 * Returns both the variables to send upstream (as sent: the upstream applies
 * its own defaults; coercion is the check) and their coerced values (defaults
 * applied, single values as one-item lists, …): what identifies a shared
 * subscription.
 */
export function coerceVariables(
  op: RegisteredOperation,
  variables: Record<string, unknown>,
): { variables: Record<string, unknown>; coerced: Record<string, unknown> } {
  for (const name of Object.keys(variables)) {
    if (!op.declared.has(name)) {
      throw badInput(`Variable "$${name}" is not defined by operation "${op.name}".`, { variable: name });
    }
  }
  if (op.variableDefinitions.length === 0) return { variables, coerced: {} };
  const result = getVariableValues(op.inputSchema, op.variableDefinitions, variables, { maxErrors: 1 });
  if (result.errors) {
    const [error] = result.errors;
    const name = /Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(error?.message ?? '')?.[1];
    throw badInput(error?.message ?? 'Invalid variables.', name ? { variable: name } : undefined);
  }
  return { variables, coerced: result.coerced };
}
