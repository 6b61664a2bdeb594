/**
 * Size limits on what a request carries, checked before anything is parsed:
 * the GET query string (414), the variables (413) and how deeply they nest
 * (400), on GET and POST alike.
 */
import { SubwayError, badInput } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';
import { nestsDeeperThan } from './json-depth.ts';

export interface RequestSizeLimits {
  /**
   * Longest query string accepted, in bytes (as sent, percent-encoded); longer is a 414.
   * @default 8192
   */
  maxQueryStringBytes?: number;
  /**
   * Largest `variables` value accepted, in bytes of UTF-8 JSON; larger is a 413.
   * @default 65536
   */
  maxVariablesBytes?: number;
  /**
   * Deepest nesting of objects and lists accepted in the variables (the
   * variables object itself is level 1), checked on the JSON text before it
   * is parsed; deeper is a 400 `BAD_USER_INPUT`. The same bound applies to
   * `extensions`.
   * @default 64
   */
  maxVariablesDepth?: number;
}

const encoder = new TextEncoder();

/** Throws `URI_TOO_LONG` (414) when the URL's query string is over the limit. */
export function checkQueryString(url: string, limits: RequestSizeLimits): void {
  const max = limits.maxQueryStringBytes ?? DEFAULTS.maxQueryStringBytes;
  const q = url.indexOf('?');
  // A URL's query is percent-encoded ASCII: its length is its size in bytes.
  const length = q < 0 ? 0 : url.length - q - 1;
  if (length > max) {
    throw new SubwayError('URI_TOO_LONG', 414, `The query string is ${length} bytes, over the limit of ${max}: send the request as POST with a JSON body.`, {
      extensions: { limit: max },
    });
  }
}

/** Throws `VARIABLES_TOO_LARGE` (413) when the raw variables JSON is over the limit. */
export function checkVariablesSize(raw: string | null | undefined, limits: RequestSizeLimits): void {
  if (!raw) return;
  const max = limits.maxVariablesBytes ?? DEFAULTS.maxVariablesBytes;
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (raw.length * 3 <= max) return;
  const bytes = encoder.encode(raw).byteLength;
  if (bytes > max) {
    throw new SubwayError('VARIABLES_TOO_LARGE', 413, `The variables are ${bytes} bytes; the limit is ${max}.`, { extensions: { limit: max } });
  }
}

/**
 * Throws `BAD_USER_INPUT` (400) when JSON text nests deeper than the limit,
 * before anything parses it. `subject` names the text in the message (`The
 * "variables" parameter`); `levelsAbove` counts enclosing levels that are not
 * the variables' own (a POST body's top-level object is one).
 */
export function checkJsonDepth(
  raw: string | null | undefined,
  limits: RequestSizeLimits,
  subject: string,
  options: { levelsAbove?: number; extensions?: Record<string, unknown> } = {},
): void {
  if (!raw) return;
  const max = limits.maxVariablesDepth ?? DEFAULTS.maxVariablesDepth;
  const above = options.levelsAbove ?? 0;
  if (nestsDeeperThan(raw, max + above)) {
    const where = above > 0 ? ' (below its top-level object)' : '';
    throw badInput(`${subject} is nested deeper than the limit of ${max} levels${where}.`, { ...options.extensions, limit: max });
  }
}
