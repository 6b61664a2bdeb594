/**
 * Prunes a schema down to the input types that operations' variables reach.
 * The gateway coerces variables against this small schema, so it never needs
 * the upstream's full schema, and a Worker's bundle and cold start stay small.
 */
import {
  GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isScalarType,
  isSpecifiedScalarType,
  printType,
  typeFromAST,
  type DocumentNode,
  type GraphQLNamedType,
  type OperationDefinitionNode,
} from 'graphql';

export function printInputSchema(schema: GraphQLSchema, documents: readonly DocumentNode[]): string {
  const seen = new Map<string, GraphQLNamedType>();
  const visit = (type: GraphQLNamedType): void => {
    if (seen.has(type.name)) return;
    seen.set(type.name, type);
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) visit(getNamedType(field.type));
    }
  };
  for (const doc of documents) {
    for (const def of doc.definitions) {
      if (def.kind !== 'OperationDefinition') continue;
      for (const v of (def as OperationDefinitionNode).variableDefinitions ?? []) {
        const type = typeFromAST(schema, v.type as never);
        if (type) visit(getNamedType(type));
      }
    }
  }
  const printed = [...seen.values()]
    .filter((t) => !(isScalarType(t) && isSpecifiedScalarType(t)))
    .filter((t) => isScalarType(t) || isEnumType(t) || isInputObjectType(t))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => printType(t));
  // A schema needs a query root to be built; this one is never executed.
  return [...printed, 'type Query {\n  _: Boolean\n}'].join('\n\n') + '\n';
}
