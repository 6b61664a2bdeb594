/** The schema and the one operation every server in the benchmark serves. */
export const benchTypeDefs = /* GraphQL */ `
  input BenchFilter {
    "Which group of the load the subscription receives (-1: every event)."
    group: Int!
    "With first, an event with seq -1 is sent at once (the churn scenario waits for it)."
    first: Boolean = false
  }
  type Event { seq: Int!, sentAt: Float!, payload: String! }
  type Query { ok: Boolean }
  type Subscription { bench(filter: BenchFilter!): Event! }
`;

/**
 * The variables are an input object rather than `$group: Int!` because
 * subway's pruned input schema (src/register/input-schema.ts) drops a
 * built-in scalar that no input type reaches, and then refuses it.
 */
export const BENCH_OPERATION = 'subscription Bench($filter: BenchFilter!) {\n  bench(filter: $filter) { seq sentAt payload }\n}\n';

export const benchVariables = (group: number, first: boolean) => ({ filter: { group, first } });
