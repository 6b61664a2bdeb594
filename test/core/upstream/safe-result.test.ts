/** What of an upstream's errors reaches clients: message, locations, path, extensions.code and the allow-list. */
import { describe, expect, it } from 'vitest';
import { errorPolicy, safeErrors, safeResult } from '../../../src/core/upstream/safe-result.ts';

const leaky = {
  message: 'boom',
  locations: [{ line: 1, column: 2 }],
  path: ['a', 0],
  stack: 'at /srv/x.js:1',
  extensions: { code: 'X', classification: 'C', stacktrace: ['at /srv/x.js:1'], exception: { stacktrace: [] } },
};

describe('safeResult', () => {
  it('returns a result without errors as the same object (no copy per event)', () => {
    const result = { data: { a: 1 } };
    expect(safeResult(result)).toBe(result);
  });

  it('keeps message, locations, path and extensions.code by default', () => {
    expect(safeResult({ data: null, errors: [leaky] })).toEqual({
      data: null,
      errors: [{ message: 'boom', locations: [{ line: 1, column: 2 }], path: ['a', 0], extensions: { code: 'X' } }],
    });
  });

  it('keeps the listed keys too, everything with "*"', () => {
    expect(safeErrors([leaky], errorPolicy(['classification']))[0]!.extensions).toEqual({ code: 'X', classification: 'C' });
    const all = { errors: [leaky] };
    expect(safeResult(all, errorPolicy(['*']))).toBe(all);
  });

  it('copes with errors that are not GraphQL-shaped', () => {
    expect(safeErrors([null, 'text', { message: 5, extensions: [1] }, { message: 'm', extensions: { stack: 'x' } }])).toEqual([
      { message: 'The upstream failed the operation' },
      { message: 'The upstream failed the operation' },
      { message: 'The upstream failed the operation' },
      { message: 'm' },
    ]);
    expect(safeResult({ data: 1, errors: 'oops' } as never)).toEqual({ data: 1, errors: [{ message: 'The upstream failed the operation' }] });
  });

  it('ignores inherited keys', () => {
    const extensions = Object.create({ code: 'INHERITED', stack: 'x' }) as Record<string, unknown>;
    expect(safeErrors([{ message: 'm', extensions }])).toEqual([{ message: 'm' }]);
  });
});
