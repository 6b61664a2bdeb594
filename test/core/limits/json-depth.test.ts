/** Nesting depth, read from JSON text before anything parses it. */
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../../src/core/limits/json-depth.ts';

/** The depth JSON.parse would build, measured on the parsed value. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('nestsDeeperThan', () => {
  it.each([
    ['{}', 1],
    ['[]', 1],
    ['1', 0],
    ['"[[[["', 0],
    ['{"a":[1,{"b":[]}]}', 4],
    ['{"a":"\\\\"}', 1],
    ['{"a":"\\"[[[","b":[[1]]}', 3],
    ['[[],[[]],[]]', 3],
    ['{"a\\\\":[["]]]"]]}', 3],
  ])('%s nests %i levels', (text, depth) => {
    expect(depthOf(JSON.parse(text))).toBe(depth);
    expect(nestsDeeperThan(text, depth)).toBe(false);
    if (depth > 0) expect(nestsDeeperThan(text, depth - 1)).toBe(true);
  });

  it('stops at the first bracket past the limit, whatever follows (even 10^6 levels)', () => {
    const text = `${'['.repeat(1_000_000)}`;
    expect(nestsDeeperThan(text, 64)).toBe(true);
  });
});
