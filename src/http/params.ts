/**
 * Reads the operation request from a GET query string: `id` (or `documentId`,
 * or `extensions.persistedQuery.sha256Hash`) and `variables`, all checked
 * before any upstream work.
 */
import { SubwayError, badInput } from '../errors.ts';

export interface OperationRequest {
  id: string;
  variables: Record<string, unknown>;
}

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

export function readOperationRequest(params: URLSearchParams): OperationRequest {
  const id = single(params, 'id');
  const documentId = single(params, 'documentId');
  const rawExtensions = single(params, 'extensions');
  const rawVariables = single(params, 'variables');

  let hash: string | undefined;
  if (rawExtensions !== undefined && rawExtensions !== '') {
    const extensions = parseJsonParam('extensions', rawExtensions);
    if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
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
  if (given.length === 0) {
    throw new SubwayError('PERSISTED_QUERY_ID_REQUIRED', 400, 'An operation id is required: pass "id", "documentId" or "extensions.persistedQuery.sha256Hash".');
  }
  const normalise = (v: string) => v.replace(/^sha256:/i, '').toLowerCase();
  if (given.length > 1 && new Set(given.map(normalise)).size > 1) {
    throw badInput('The request names more than one operation id, and they differ.', { parameter: 'id' });
  }

  let variables: Record<string, unknown> = {};
  if (rawVariables !== undefined && rawVariables !== '') {
    const parsed = parseJsonParam('variables', rawVariables);
    if (parsed !== null) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw badInput('The "variables" parameter must be a JSON object.', { parameter: 'variables' });
      }
      variables = parsed as Record<string, unknown>;
    }
  }
  return { id: given[0]!, variables };
}
