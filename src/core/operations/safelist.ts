/**
 * Finds the registered operation a request names, by id or by its full text.
 * Text is served only when the SHA-256 of those exact bytes is registered
 * (Apollo's safelisting), so an unmodified client that sends `query` works
 * while arbitrary documents never reach the upstream. Web Crypto only: the
 * core stays runtime-agnostic.
 */
import { SubwayError, badInput } from '../errors.ts';
import type { OperationRequest } from '../http/params.ts';
import type { RegisteredOperation, Registry } from './registry.ts';

const encoder = new TextEncoder();

/** SHA-256 hex of the UTF-8 bytes of `text`, with Web Crypto. */
export async function sha256Text(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function resolveOperation(registry: Registry, request: OperationRequest): Promise<RegisteredOperation> {
  let op: RegisteredOperation | undefined;
  if (request.id !== undefined) {
    op = registry.resolve(request.id);
    if (!op) throw new SubwayError('PERSISTED_QUERY_NOT_IN_LIST', 404, `No registered operation has the id "${request.id}".`);
  }
  if (request.query !== undefined) {
    const hash = await sha256Text(request.query);
    const byText = registry.resolve(hash);
    if (!byText) {
      throw new SubwayError('PERSISTED_QUERY_ID_REQUIRED', 400, 'Only registered operations are served, and this query text is not registered: send the id of a registered operation.');
    }
    if (op && op !== byText) throw badInput('The query text and the id name different operations.', { parameter: 'query' });
    op = byText;
  }
  if (!op) throw new SubwayError('PERSISTED_QUERY_ID_REQUIRED', 400, 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".');
  if (request.operationName !== undefined && request.operationName !== op.name) {
    throw badInput(`The operation is named "${op.name}", not "${request.operationName}".`, { parameter: 'operationName' });
  }
  return op;
}
