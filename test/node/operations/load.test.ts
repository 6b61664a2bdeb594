/** The gateway refuses to start on missing, stale or colliding operations. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOperations } from '../../../src/node/operations/load.ts';
import { createRegistry } from '../../../src/core/operations/registry.ts';
import { registeredFolder } from '../../fixtures/gateway.ts';

describe('loading the generated files', () => {
  it('loads a fresh folder and resolves every id form', async () => {
    const dir = await registeredFolder({ Hello: 'query Hello { hello }\n' });
    const registry = createRegistry(await loadOperations(dir));
    const op = registry.resolve('Hello')!;
    expect(op.type).toBe('query');
    expect(registry.resolve(op.id)).toBe(op);
    expect(registry.resolve(`sha256:${op.id}`)).toBe(op);
    expect(registry.resolve(`sha256:${op.id.toUpperCase()}`)).toBe(op);
    expect(registry.resolve(`sha1:${op.id}`)).toBeUndefined();
    expect(registry.resolve('hello')).toBeUndefined();
  });

  it('refuses to start when the generated files are missing', async () => {
    const dir = await registeredFolder({ Hello: 'query Hello { hello }\n' });
    await rm(join(dir, 'persisted-query-manifest.json'));
    await expect(loadOperations(dir)).rejects.toThrow(`${join(dir, 'persisted-query-manifest.json')} is missing: run \`subway register\` to generate it.`);
  });

  it.each([
    ['a changed file', (dir: string) => writeFile(join(dir, 'Hello.graphql'), 'query Hello { hello(name: "x") }\n'), 'Hello.graphql changed since it was registered'],
    ['a new file', (dir: string) => writeFile(join(dir, 'New.graphql'), 'query New { hello }\n'), 'New.graphql is not registered'],
    ['a removed file', (dir: string) => rm(join(dir, 'Hello.graphql')), 'Hello.graphql was registered but no longer exists'],
  ])('refuses to start on %s', async (_, change, problem) => {
    const dir = await registeredFolder({ Hello: 'query Hello { hello }\n' });
    await change(dir);
    await expect(loadOperations(dir)).rejects.toThrow(`The persisted operations in ${dir} are stale: ${problem}. Run \`subway register\`.`);
  });

  it('refuses a manifest whose ids or names collide', async () => {
    const dir = await registeredFolder({ Hello: 'query Hello { hello }\n' });
    const bundle = await loadOperations(dir);
    const [op] = bundle.manifest.operations;
    expect(() => createRegistry({ ...bundle, manifest: { ...bundle.manifest, operations: [op!, { ...op! }] } })).toThrow(
      `Two operations have the id ${op!.id}: Hello and Hello`,
    );
    const other = { ...op!, id: 'f'.repeat(64) };
    expect(() => createRegistry({ ...bundle, manifest: { ...bundle.manifest, operations: [op!, other] } })).toThrow(
      `Two operations are named Hello: ${op!.id} and ${'f'.repeat(64)}`,
    );
  });

  it('refuses a manifest that is not in Apollo format', async () => {
    const dir = await registeredFolder({ Hello: 'query Hello { hello }\n' });
    const path = join(dir, 'persisted-query-manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...manifest, format: 'other' }));
    await expect(loadOperations(dir)).rejects.toThrow(`Invalid ${path}: "format" must be "apollo-persisted-query-manifest"`);
  });
});
