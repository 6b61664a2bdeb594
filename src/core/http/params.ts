/**
 * Reads the operation request from a GET query string or a POST body: `id`
 * (or `documentId`, or `extensions.persistedQuery.sha256Hash`), the full
 * `query` text (served only when safelisted), `operationName` and
 * `variables`, all checked before any upstream work.
 */
import { SubwayError, badInput } from '../errors.ts';

export interface OperationRequest {
  /** The operation id as the client named it, when it named one. */
  id?: string;
  /** The full document text, when the client sent it (safelisted text). */
  query?: string;
  /** The operation name the client expects, when it sent one. */
  operationName?: string;
  variables: Record<string, unknown>;
}

/** The request's fields before checking: strings from a query string, or any JSON from a body. */
export interface RequestFields {
  id?: unknown;
  documentId?: unknown;
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/** The query string is longer than the configured limit (414). */
function parseJsonParam(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw badInput(`The "${name}" parameter is not valid JSON.`, { parameter: name });
  }
}

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw badInput(`The "${name}" parameter is given ${all.length} times.`, { parameter: name });
  return all[0];
}

function optionalString(fields: RequestFields, name: keyof RequestFields): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badInput(`The "${name}" parameter must be a string.`, { parameter: name });
  return value;
}

/** Reads a GET query string: JSON parameters are parsed, then checked like a POST body. */
export function readOperationRequest(params: URLSearchParams): OperationRequest {
  const rawExtensions = single(params, 'extensions');
  const rawVariables = single(params, 'variables');
  return readOperationFields({
    id: single(params, 'id'),
    documentId: single(params, 'documentId'),
    query: single(params, 'query'),
    operationName: single(params, 'operationName'),
    extensions: rawExtensions === undefined || rawExtensions === '' ? undefined : parseJsonParam('extensions', rawExtensions),
    variables: rawVariables === undefined || rawVariables === '' ? undefined : parseJsonParam('variables', rawVariables),
  });
}

/** Checks the fields of a request, from a query string or a JSON body. */
export function readOperationFields(fields: RequestFields): OperationRequest {
  const id = optionalString(fields, 'id');
  const documentId = optionalString(fields, 'documentId');
  const query = optionalString(fields, 'query');
  const operationName = optionalString(fields, 'operationName');

  let hash: string | undefined;
  if (fields.extensions !== undefined && fields.extensions !== null) {
    const extensions = fields.extensions;
    if (typeof extensions !== 'object' || Array.isArray(extensions)) {
      throw badInput('The "extensions" parameter must be a JSON object.', { parameter: 'extensions' });
    }
    const pq = (extensions as Record<string, unknown>).persistedQuery;
    if (pq !== undefined) {
      const { version, sha256Hash } = (pq ?? {}) as Record<string, unknown>;
      if (version !== 1 || typeof sha256Hash !== 'string') {
        throw badInput('"extensions.persistedQuery" must be {"version":1,"sha256Hash":"<hex>"}.', { parameter: 'extensions' });
      }
      hash = sha256Hash;
    }
  }

  const given = [id, documentId, hash].filter((v): v is string => v !== undefined && v !== '');
  if (given.length === 0 && query === undefined) {
    throw new SubwayError('PERSISTED_QUERY_ID_REQUIRED', 400, 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".');
  }
  const normalise = (v: string) => v.replace(/^sha256:/i, '').toLowerCase();
  if (given.length > 1 && new Set(given.map(normalise)).size > 1) {
    throw badInput('The request names more than one operation id, and they differ.', { parameter: 'id' });
  }

  let variables: Record<string, unknown> = {};
  if (fields.variables !== undefined && fields.variables !== null) {
    if (typeof fields.variables !== 'object' || Array.isArray(fields.variables)) {
      throw badInput('The "variables" parameter must be a JSON object.', { parameter: 'variables' });
    }
    variables = fields.variables as Record<string, unknown>;
  }
  const request: OperationRequest = { variables };
  if (given[0] !== undefined) request.id = given[0];
  if (query !== undefined) request.query = query;
  if (operationName !== undefined) request.operationName = operationName;
  return request;
}
