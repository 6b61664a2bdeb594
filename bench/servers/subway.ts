/**
 * subway under test: the persisted operation registered into a temporary
 * folder against the benchmark schema, then `createGateway` + `serveNode`,
 * exactly as `npm start` assembles them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema } from 'graphql';
import { createGateway } from '../../src/gateway.ts';
import { loadOperations } from '../../src/operations/load.ts';
import { COMPANION_FILE, MANIFEST_FILE, formatJson } from '../../src/operations/manifest.ts';
import { compileOperations } from '../../src/operations/register.ts';
import { createRegistry } from '../../src/operations/registry.ts';
import { readSources } from '../../src/operations/source.ts';
import { NodeWebSocket, serveNode } from '../../src/runtime/node.ts';
import { BENCH_OPERATION, benchTypeDefs } from '../schema.ts';
import { ready, serverArgs } from './common.ts';

const { upstream, tls } = serverArgs();
const dir = mkdtempSync(join(tmpdir(), 'subway-bench-ops-'));
try {
  writeFileSync(join(dir, 'Bench.graphql'), BENCH_OPERATION);
  const { bundle, problems } = compileOperations(await readSources(dir), buildSchema(benchTypeDefs));
  if (problems.length) throw new Error(problems.join('\n'));
  writeFileSync(join(dir, MANIFEST_FILE), formatJson(bundle.manifest));
  writeFileSync(join(dir, COMPANION_FILE), formatJson(bundle.companion));
  const registry = createRegistry(await loadOperations(dir));
  const gateway = createGateway({ registry, upstream: { url: upstream, webSocketImpl: NodeWebSocket } });
  const node = await serveNode(gateway, { port: 0, host: '127.0.0.1', tls });
  ready(node.port);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
