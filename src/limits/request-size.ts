/**
 * Size limits on what a request carries, checked before anything is parsed.
 * (Issue 4 adds a query-string limit of its own for POST and /operations;
 * this module serves the GET route.)
 */
import { SubwayError } from '../errors.ts';

export interface RequestSizeLimits {
  /**
   * Longest query string accepted, in bytes (as sent, percent-encoded); longer is a 414.
   * @default 8192
   */
  maxQueryStringBytes?: number;
  /**
   * Largest `variables` value accepted, in bytes of UTF-8 JSON; larger is a 413.
   * @default 4096
   */
  maxVariablesBytes?: number;
}

const encoder = new TextEncoder();

/** Throws `QUERY_STRING_TOO_LONG` (414) when the URL's query string is over the limit. */
export function checkQueryString(url: string, limits: RequestSizeLimits): void {
  const max = limits.maxQueryStringBytes ?? 8192;
  const q = url.indexOf('?');
  const length = q < 0 ? 0 : url.length - q - 1;
  if (length > max) {
    throw new SubwayError('QUERY_STRING_TOO_LONG', 414, `The query string is ${length} bytes; the limit is ${max}.`, { extensions: { limit: max } });
  }
}

/** Throws `VARIABLES_TOO_LARGE` (413) when the raw variables JSON is over the limit. */
export function checkVariablesSize(raw: string | null | undefined, limits: RequestSizeLimits): void {
  if (!raw) return;
  const max = limits.maxVariablesBytes ?? 4096;
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (raw.length * 3 <= max) return;
  const bytes = encoder.encode(raw).byteLength;
  if (bytes > max) {
    throw new SubwayError('VARIABLES_TOO_LARGE', 413, `The variables are ${bytes} bytes; the limit is ${max}.`, { extensions: { limit: max } });
  }
}
