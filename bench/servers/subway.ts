/**
 * subway under test: the persisted operation registered into a temporary
 * folder against the benchmark schema, then `createGateway` + `serveNode`,
 * exactly as `npm start` assembles them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSchema } from 'graphql';
import { BENCH_OPERATION, benchTypeDefs } from '../schema.ts';
import { ready, serverArgs } from './common.ts';

const { upstream, tls, src } = serverArgs();
// `--src <dir>` runs another checkout's src/ (an A/B comparison in one run: `--base-src`).
const base = src ? pathToFileURL(`${src}/`).href : new URL('../../src/', import.meta.url).href;
const load = <T>(path: string): Promise<T> => import(new URL(path, base).href);
const { createGateway } = await load<typeof import('../../src/core/gateway.ts')>('core/gateway.ts');
const { loadOperations } = await load<typeof import('../../src/node/operations/load.ts')>('node/operations/load.ts');
const { COMPANION_FILE, MANIFEST_FILE, formatJson } = await load<typeof import('../../src/core/operations/manifest.ts')>('core/operations/manifest.ts');
const { compileOperations } = await load<typeof import('../../src/register/compile.ts')>('register/compile.ts');
const { createRegistry } = await load<typeof import('../../src/core/operations/registry.ts')>('core/operations/registry.ts');
const { readSources } = await load<typeof import('../../src/node/operations/source.ts')>('node/operations/source.ts');
const { NodeWebSocket, serveNode } = await load<typeof import('../../src/node/serve.ts')>('node/serve.ts');

const dir = mkdtempSync(join(tmpdir(), 'subway-bench-ops-'));
try {
  writeFileSync(join(dir, 'Bench.graphql'), BENCH_OPERATION);
  const { bundle, problems } = compileOperations(await readSources(dir), buildSchema(benchTypeDefs));
  if (problems.length) throw new Error(problems.join('\n'));
  writeFileSync(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
  writeFileSync(join(dir, COMPANION_FILE), formatJson(bundle.companion));
  const registry = createRegistry(await loadOperations(dir));
  // UPSTREAM_SHARING in the environment (off, connection, subscription) runs that mode (docs/sharing.md).
  const sharing = process.env.UPSTREAM_SHARING as 'off' | 'connection' | 'subscription' | undefined;
  const gateway = createGateway({ registry, upstream: { url: upstream, webSocketImpl: NodeWebSocket, ...(sharing && { sharing }) } });
  const node = await serveNode(gateway, { port: 0, host: '127.0.0.1', tls });
  ready(node.port);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
