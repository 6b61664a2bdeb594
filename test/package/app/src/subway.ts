// Types every call by the operations `npx subway register` generated (docs/client.md).
import type { OperationIds, Operations } from '../graphql/operations.ts';
declare module '@subway-sse/client' { interface Register { operations: Operations; operationIds: OperationIds } }
