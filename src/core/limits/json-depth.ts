/**
 * How deeply JSON text nests, read from the text itself before anything
 * parses it: `JSON.parse` copes with any depth, but what later walks the
 * value recursively (coercion, `JSON.stringify`, the upstream client's
 * serialisation) overflows the stack on values a few thousand levels deep.
 *
 * By hand because it must run before a parser: one pass over the text,
 * skipping strings, counting brackets; it stops at the first bracket past
 * the limit. Malformed text is left to the parser to refuse.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` nests objects and arrays more than `limit` levels deep
 * (`{}` and `[]` are one level, `{"a":[1]}` two). Brackets inside strings
 * do not count.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
