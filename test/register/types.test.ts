/**
 * The generated `operations.ts` of a folder with imported operations: compiled
 * with the TypeScript compiler API, aliases are typed like names, and a wrong
 * variable is exactly one compile error. (The committed example's types are
 * checked by `tsc --noEmit` over test/types/operations.typecheck.ts.)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { register, tempFolder, testSchemaFile } from '../fixtures/register.ts';

const CLIENT = `import type { OperationKey, OperationOf } from './operations.ts';
declare function subscribe<K extends OperationKey>(operation: K, variables: OperationOf<K>['variables']): OperationOf<K>['result'];
const byAlias: { ticks: { symbol: string; price: number } } = subscribe('56acae5bfefad00898456d597d014fc0', { symbol: 'A' });
const byName = subscribe('RelayTicksSubscription', { symbol: 'B' });
subscribe('56acae5bfefad00898456d597d014fc0', { symbol: 1 });
export { byAlias, byName };
`;

describe('typed operations', () => {
  it('types imported operations by name and by alias, and refuses a wrong variable at compile time', async () => {
    const dir = await tempFolder();
    const result = await register(['--import', 'test/fixtures/imports/relay-persisted-queries.json', '--schema', await testSchemaFile(), '--dir', dir]);
    expect(result.code).toBe(0);
    const types = await readFile(join(dir, 'operations.ts'), 'utf8');
    expect(types).toContain("  '56acae5bfefad00898456d597d014fc0': 'RelayTicksSubscription';\n");
    expect(types).toContain('export type RelayTicksSubscriptionSubscriptionVariables = Exact<{\n  symbol: string;\n}>;');
    await writeFile(join(dir, 'client.ts'), CLIENT);
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      erasableSyntaxOnly: true,
      skipLibCheck: true,
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start!);
      return `${d.file!.fileName.endsWith('client.ts') ? 'client.ts' : d.file!.fileName}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    expect(diagnostics).toEqual(["client.ts:5: Type 'number' is not assignable to type 'string'."]);
  });
});
