/**
 * Fetches an upstream's schema by introspection over graphql-ws: many
 * subscription servers speak only WebSocket. Used by `npm run register`,
 * never at request time.
 */
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';

export async function introspectOverWebSocket(url: string, webSocketImpl: unknown, timeoutMs = 10_000): Promise<GraphQLSchema> {
  const client = createClient({ url, webSocketImpl, lazy: true, retryAttempts: 0, connectionAckWaitTimeout: timeoutMs });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      new Promise<IntrospectionQuery>((resolve, reject) => {
        let data: unknown;
        client.subscribe(
          { query: getIntrospectionQuery({ specifiedByUrl: true, inputValueDeprecation: true }) },
          {
            next: (r) => {
              if (r.errors?.length) reject(new Error(`Introspection failed: ${r.errors.map((e) => e.message).join('; ')}`));
              else data = r.data;
            },
            error: (err) => reject(describe(url, err)),
            complete: () => (data ? resolve(data as IntrospectionQuery) : reject(new Error('Introspection returned no data'))),
          },
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`No introspection result from ${url} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return buildClientSchema(result);
  } finally {
    clearTimeout(timer);
    await client.dispose();
  }
}

function describe(url: string, err: unknown): Error {
  if (Array.isArray(err)) return new Error(`Introspection failed: ${err.map((e: { message?: string }) => e.message).join('; ')}`);
  if (err instanceof Error) return new Error(`Cannot introspect ${url}: ${err.message}`);
  const code = (err as { code?: number } | null)?.code;
  return new Error(`Cannot introspect ${url}: the connection closed${code ? ` (${code})` : ''}`);
}
