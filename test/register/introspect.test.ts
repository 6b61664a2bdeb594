import { printSchema, buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { NodeWebSocket } from '../../src/node/serve.ts';
import { introspectOverWebSocket } from '../../src/register/introspect.ts';
import { startLegacyUpstream } from '../fixtures/legacy-upstream.ts';
import { testTypeDefs } from '../fixtures/upstream.ts';

describe('introspection for `npm run register -- --upstream`', () => {
  it('works against a legacy subscriptions-transport-ws server too', async () => {
    const upstream = await startLegacyUpstream();
    const schema = await introspectOverWebSocket(upstream.url, NodeWebSocket);
    expect(printSchema(schema)).toBe(printSchema(buildSchema(testTypeDefs)));
    await upstream.until(() => upstream.sockets === 0);
    expect(upstream.perConnection[1]!.map((m) => m.type)).toEqual(['connection_init', 'start', 'connection_terminate']);
  });
});
