import { describe, expect, it } from 'vitest';
import { loadOperations } from '../../../src/node/operations/load.ts';
import { createRegistry } from '../../../src/core/operations/registry.ts';
import { coerceVariables } from '../../../src/core/operations/variables.ts';
import { registeredFolder } from '../../fixtures/gateway.ts';

describe('the input schema', () => {
  it('knows every built-in scalar, even one no input type of the operations uses', async () => {
    // No input object reaches Int here, so the pruned input schema does not name it.
    const dir = await registeredFolder({ OnlyScalars: 'subscription OnlyScalars($count: Int!) {\n  greetings(count: $count)\n}\n' });
    const registry = createRegistry(await loadOperations(dir));
    const op = registry.resolve('OnlyScalars')!;
    expect(coerceVariables(op, { count: 3 }).variables).toEqual({ count: 3 });
    expect(() => coerceVariables(op, { count: 'x' })).toThrow('Variable "$count" got invalid value "x"; Int cannot represent non-integer value: "x"');
  });
});
