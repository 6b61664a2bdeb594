/** Several apps' lists merge into one allow-list; a name, id or alias meaning two documents is refused, naming both sources. */
import { describe, expect, it } from 'vitest';
import { mergeRegistries } from '../../../src/core/operations/merge.ts';
import type { Registry } from '../../../src/core/operations/registry.ts';
import { failureReason } from '../../../src/core/operations/source.ts';
import { createBundleVerifier } from '../../../src/core/operations/signature.ts';
import { registryFromBundleText } from '../../../src/core/operations/validate.ts';
import { formatJson } from '../../../src/core/operations/manifest.ts';
import { bundleOf, bundleText } from '../../fixtures/bundle.ts';
import { TEST_OPERATIONS } from '../../fixtures/gateway.ts';

const registry = async (operations: Record<string, string>, aliases: Record<string, { id: string; hash: 'custom' }> = {}): Promise<Registry> =>
  registryFromBundleText(formatJson({ ...bundleOf(operations), aliases }), 'x', createBundleVerifier([]));

const WEB = 'https://cdn.test/web.json';
const ADMIN = 'https://cdn.test/admin.json';

describe('merging sources', () => {
  it('serves the operations of every source; the same operation in two is one', async () => {
    const web = await registry({ Ticks: TEST_OPERATIONS.Ticks!, Hello: TEST_OPERATIONS.Hello! });
    const admin = await registry({ Hello: TEST_OPERATIONS.Hello!, Bump: TEST_OPERATIONS.Bump! });
    const merged = mergeRegistries([{ source: WEB, registry: web }, { source: ADMIN, registry: admin }]);
    expect(merged.operations.map((o) => o.name).sort()).toEqual(['Bump', 'Hello', 'Ticks']);
    expect(merged.resolve('Bump')).toBe(admin.resolve('Bump'));
    expect(merged.resolve(web.resolve('Ticks')!.id)).toBe(web.resolve('Ticks'));
    expect(merged.resolve('Nope')).toBeUndefined();
    // One source: served as it is.
    expect(mergeRegistries([{ source: WEB, registry: web }])).toBe(web);
  });

  it('refuses a name meaning two documents, naming both sources', async () => {
    const web = await registry({ Ticks: TEST_OPERATIONS.Ticks! });
    const admin = await registry({ Ticks: 'subscription Ticks($symbol: String!) {\n  ticks(symbol: $symbol) { price }\n}\n' });
    let error: unknown;
    try {
      mergeRegistries([{ source: WEB, registry: web }, { source: ADMIN, registry: admin }]);
    } catch (err) {
      error = err;
    }
    expect(failureReason(error)).toBe('conflict');
    const [a, b] = [web.resolve('Ticks')!.id.slice(0, 12), admin.resolve('Ticks')!.id.slice(0, 12)];
    expect((error as Error).message).toBe(`"Ticks" means different operations in ${WEB} (Ticks, ${a}…) and ${ADMIN} (Ticks, ${b}…)`);
  });

  it('refuses an alias of one source that names another operation in another', async () => {
    const hello = await registry({ Hello: TEST_OPERATIONS.Hello! });
    const id = hello.resolve('Hello')!.id;
    const web = await registry({ Hello: TEST_OPERATIONS.Hello! }, { 'ticks-v1': { id, hash: 'custom' } });
    const admin = await registry({ Bump: TEST_OPERATIONS.Bump! }, { 'ticks-v1': { id: (await registry({ Bump: TEST_OPERATIONS.Bump! })).resolve('Bump')!.id, hash: 'custom' } });
    expect(() => mergeRegistries([{ source: WEB, registry: web }, { source: ADMIN, registry: admin }])).toThrow(
      /^"ticks-v1" means different operations in https:\/\/cdn\.test\/web\.json \(Hello, [0-9a-f]{12}…\) and https:\/\/cdn\.test\/admin\.json \(Bump, [0-9a-f]{12}…\)$/,
    );
    const asName = await registry({ Bump: TEST_OPERATIONS.Bump! });
    const aliasNamingBump = await registry({ Hello: TEST_OPERATIONS.Hello! }, { Bump: { id, hash: 'custom' } });
    expect(() => mergeRegistries([{ source: WEB, registry: aliasNamingBump }, { source: ADMIN, registry: asName }])).toThrow('"Bump" means different operations');
  });

  it('merges two sources that serve the same bundle', async () => {
    const text = await bundleText(TEST_OPERATIONS);
    const [a, b] = [await registryFromBundleText(text, WEB, createBundleVerifier([])), await registryFromBundleText(text, ADMIN, createBundleVerifier([]))];
    expect(mergeRegistries([{ source: WEB, registry: a }, { source: ADMIN, registry: b }]).operations).toHaveLength(6);
  });
});
