/**
 * Types `useSubscription` (and `@subway-sse/client`) by the operations `npm run
 * register` generated from persisted-operations/*.graphql: names, ids and
 * their variables and results. Types only; nothing here runs.
 */
import type { OperationIds, Operations } from '../../persisted-operations/operations.ts';

declare module '@subway-sse/client' {
  interface Register { operations: Operations; operationIds: OperationIds }
}
