/**
 * Fetches an upstream's schema by introspection over WebSocket (many
 * subscription servers speak only WebSocket), through the same upstream
 * connection the gateway uses, so it works with both upstream protocols.
 * Used by `npm run register`, never at request time.
 */
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { subscribeUpstream, type UpstreamProtocol } from '../core/upstream/subscribe.ts';

export async function introspectOverWebSocket(
  url: string,
  webSocketImpl: unknown,
  timeoutMs = 10_000,
  protocol: UpstreamProtocol = 'auto',
): Promise<GraphQLSchema> {
  const query = getIntrospectionQuery({ specifiedByUrl: true, inputValueDeprecation: true });
  const result = await new Promise<IntrospectionQuery>((resolve, reject) => {
    let data: unknown;
    const fail = (err: Error) => {
      clearTimeout(timer);
      sub.dispose();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`No introspection result from ${url} within ${timeoutMs} ms`)), timeoutMs);
    const sub = subscribeUpstream(
      { url, webSocketImpl, protocol, connectTimeoutMs: timeoutMs, connectionAckWaitTimeoutMs: timeoutMs, keepAliveMs: 0 },
      { query, variables: {}, operationName: 'IntrospectionQuery' },
      {
        next: (r) => {
          if (r.errors?.length) fail(new Error(`Introspection failed: ${r.errors.map((e) => e.message).join('; ')}`));
          else data = r.data;
        },
        end: (end) => {
          clearTimeout(timer);
          if (end.kind === 'complete') {
            if (data) resolve(data as IntrospectionQuery);
            else reject(new Error('Introspection returned no data'));
          } else if (end.kind === 'errors') {
            reject(new Error(`Introspection failed: ${end.errors.map((e) => e.message).join('; ')}`));
          } else {
            reject(new Error(`Cannot introspect ${url}: ${end.message}`));
          }
        },
      },
    );
  });
  return buildClientSchema(result);
}
