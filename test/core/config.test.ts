import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readConfig, readGatewayConfig, settingsTable, WORKER_SETTINGS } from '../../src/core/config.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    expect(readConfig({})).toEqual({
      upstreamUrl: undefined,
      upstreamProtocol: 'auto',
      upstreamConnectTimeoutMs: 10000,
      upstreamAckTimeoutMs: 10000,
      upstreamKeepAliveMs: 12000,
      upstreamPongTimeoutMs: 5000,
      upstreamMaxMessageBytes: 16777216,
      upstreamSharing: 'off',
      upstreamMaxSubscriptionsPerSocket: 100,
      upstreamIdleMs: 1000,
      upstreamMaxSockets: 0,
      resumeWindowMs: 0,
      resumeMaxEvents: 1000,
      resumeMaxBytes: 1_048_576,
      port: 4000,
      host: '0.0.0.0',
      persistedOperations: 'persisted-operations',
      heartbeatMs: 15000,
      retryMs: 2000,
      tlsCert: undefined,
      tlsKey: undefined,
      tls: undefined,
      maxQueryStringBytes: 8192,
      listOperations: true,
      forwardHeaders: [],
      corsOrigins: [],
      maxSubscriptions: 10000,
      maxSubscriptionsPerClient: 0,
      trustProxyHeader: undefined,
      maxVariablesBytes: 65536,
      maxQueuedEvents: 4096,
      maxQueuedBytes: 65536,
      maxQueuedBytesTotal: undefined,
      maxVariablesDepth: 64,
      clientIpv6Prefix: 64,
      upstreamErrorExtensions: [],
      idleTimeoutMs: 60000,
      requestBodyTimeoutMs: 10000,
      http2MaxConcurrentStreams: 128,
      operationSources: [{ kind: 'folder', path: 'persisted-operations' }],
      operationsPollMs: 10000,
      operationsTimeoutMs: 3000,
      operationsPublicKeys: [],
      shutdownGraceMs: 1000,
      logStreams: true,
      logVariables: false,
    });
  });

  it('reads the hardening settings', () => {
    const config = readConfig({
      FORWARD_HEADERS: 'Authorization, cookie,authorization',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      MAX_SUBSCRIPTIONS_PER_CLIENT: '50',
      TRUST_PROXY_HEADER: 'X-Forwarded-For',
      LOG_STREAMS: 'false',
    });
    expect(config.forwardHeaders).toEqual(['authorization', 'cookie']);
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.maxSubscriptionsPerClient).toBe(50);
    expect(config.trustProxyHeader).toBe('x-forwarded-for');
    expect(config.logStreams).toBe(false);
  });

  it('reads the hostile-client defences', () => {
    const config = readConfig({
      MAX_VARIABLES_DEPTH: '10',
      CLIENT_IPV6_PREFIX: '56',
      UPSTREAM_ERROR_EXTENSIONS: 'classification, serviceName',
      MAX_QUEUED_BYTES_TOTAL: '67108864',
      IDLE_TIMEOUT_MS: '30000',
      REQUEST_BODY_TIMEOUT_MS: '5000',
      HTTP2_MAX_CONCURRENT_STREAMS: '100',
    });
    expect(config).toMatchObject({
      maxVariablesDepth: 10,
      clientIpv6Prefix: 56,
      upstreamErrorExtensions: ['classification', 'serviceName'],
      maxQueuedBytesTotal: 67108864,
      idleTimeoutMs: 30000,
      requestBodyTimeoutMs: 5000,
      http2MaxConcurrentStreams: 100,
    });
    expect(readConfig({ UPSTREAM_ERROR_EXTENSIONS: '*' }).upstreamErrorExtensions).toEqual(['*']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number, got "eighty".'],
    [{ PORT: '70000' }, 'PORT must be between 0 and 65535, got 70000.'],
    [{ HEARTBEAT_MS: '-1' }, 'HEARTBEAT_MS must be a whole number, got "-1".'],
    [{ UPSTREAM_URL: 'http://example.com/graphql' }, 'UPSTREAM_URL must start with ws:// or wss:// (graphql-ws), got "http://example.com/graphql".'],
    [{ UPSTREAM_URL: 'not a url' }, 'UPSTREAM_URL is not a URL: "not a url".'],
    [{ UPSTREAM_PROTOCOL: 'graphql-ws' }, 'UPSTREAM_PROTOCOL must be one of auto, graphql-transport-ws, subscriptions-transport-ws, got "graphql-ws". ("graphql-ws" names both'],
    [{ UPSTREAM_PROTOCOL: 'legacy' }, 'UPSTREAM_PROTOCOL must be one of auto, graphql-transport-ws, subscriptions-transport-ws, got "legacy".'],
    [{ UPSTREAM_MAX_MESSAGE_BYTES: '10' }, 'UPSTREAM_MAX_MESSAGE_BYTES must be between 1024 and 1073741824, got 10.'],
    [{ TLS_CERT: 'cert.pem' }, 'TLS_KEY must be set too: TLS_CERT and TLS_KEY go together.'],
    [{ TLS: 'yes' }, 'TLS must be one of self-signed, off, got "yes".'],
    [{ TLS: 'self-signed', TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' }, 'TLS=self-signed conflicts with TLS_CERT: set one or the other.'],
    [{ MAX_QUERY_STRING_BYTES: '100' }, 'MAX_QUERY_STRING_BYTES must be between 256 and 65536, got 100.'],
    [{ OPERATIONS_LIST: 'maybe' }, 'OPERATIONS_LIST must be on or off, got "maybe".'],
    [{ CORS_ORIGINS: '*,https://a.example' }, 'CORS_ORIGINS: "*" cannot be combined with listed origins.'],
    [{ CORS_ORIGINS: 'https://a.example/app' }, 'CORS_ORIGINS: "https://a.example/app" is not an origin like https://app.example.com (scheme, host, optional port, no path).'],
    [{ FORWARD_HEADERS: 'authorization,bad header' }, 'FORWARD_HEADERS: "bad header" is not a header name.'],
    [{ MAX_SUBSCRIPTIONS: '0' }, 'MAX_SUBSCRIPTIONS must be between 1 and 10000000, got 0.'],
    [{ LOG_STREAMS: 'yes' }, 'LOG_STREAMS must be true or false, got "yes".'],
    [{ UPSTREAM_SHARING: 'on' }, 'UPSTREAM_SHARING must be one of off, connection, subscription, got "on".'],
    [{ UPSTREAM_MAX_SUBSCRIPTIONS_PER_SOCKET: '0' }, 'UPSTREAM_MAX_SUBSCRIPTIONS_PER_SOCKET must be between 1 and 100000, got 0.'],
    [{ MAX_VARIABLES_DEPTH: '0' }, 'MAX_VARIABLES_DEPTH must be between 1 and 512, got 0.'],
    [{ CLIENT_IPV6_PREFIX: '129' }, 'CLIENT_IPV6_PREFIX must be between 1 and 128, got 129.'],
    [{ UPSTREAM_ERROR_EXTENSIONS: '*,code' }, 'UPSTREAM_ERROR_EXTENSIONS: "*" (every extension) cannot be combined with listed keys.'],
    [{ UPSTREAM_ERROR_EXTENSIONS: 'a b' }, 'UPSTREAM_ERROR_EXTENSIONS: "a b" is not an extension key.'],
    [{ IDLE_TIMEOUT_MS: '10' }, 'IDLE_TIMEOUT_MS must be between 1000 and 3600000, got 10.'],
  ])('fails at start on %o, naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(message);
  });

  it('reads PERSISTED_OPERATIONS as a list of folders, URLs and KV keys, and refuses a bad URL, binding or key', () => {
    expect(() => readConfig({ PERSISTED_OPERATIONS: 'ftp://cdn.test/b.json' })).toThrow('PERSISTED_OPERATIONS: "ftp://cdn.test/b.json": a URL source must be https:// (or http:// for development).');
    expect(() => readConfig({ PERSISTED_OPERATIONS: 'kv:my-ops' })).toThrow('PERSISTED_OPERATIONS: "kv:my-ops": a KV source is kv:<BINDING> or kv:<BINDING>/<key>');
    expect(() => readConfig({ PERSISTED_OPERATIONS_PUBLIC_KEY: 'not a key' })).toThrow('PERSISTED_OPERATIONS_PUBLIC_KEY: not base64 or PEM.');
    expect(readConfig({ PERSISTED_OPERATIONS: 'kv:OPS/web, https://cdn.test/b.json,ops' }).operationSources).toEqual([
      { kind: 'kv', binding: 'OPS', key: 'web' },
      { kind: 'url', url: 'https://cdn.test/b.json' },
      { kind: 'folder', path: 'ops' },
    ]);
    expect(readConfig({ PERSISTED_OPERATIONS: 'https://cdn.test/b.json,ops' }).persistedOperations).toBe('ops');
  });

  it('reads the same gateway settings for a Worker as for Node, and documents them in docs/workers.md', async () => {
    const env = { UPSTREAM_URL: 'wss://a.example/graphql', UPSTREAM_PROTOCOL: 'subscriptions-transport-ws', UPSTREAM_MAX_MESSAGE_BYTES: '2048', MAX_QUERY_STRING_BYTES: '300', OPERATIONS_LIST: 'off', PORT: '1' };
    const { port, host, persistedOperations, tlsCert, tlsKey, tls, shutdownGraceMs, logStreams, logVariables, idleTimeoutMs, requestBodyTimeoutMs, http2MaxConcurrentStreams, ...gateway } =
      readConfig(env);
    expect(readGatewayConfig(env)).toEqual(gateway);
    expect(Object.keys(gateway)).toHaveLength(WORKER_SETTINGS.length);
    const doc = await readFile('docs/workers.md', 'utf8');
    const workers = doc.slice(0, doc.indexOf('## Deploying, step by step'));
    for (const name of WORKER_SETTINGS) expect(workers).toContain(`\`${name}\``);
  });

  it('is documented in docs/configuration.md by the generated table', async () => {
    const doc = await readFile('docs/configuration.md', 'utf8');
    expect(doc).toContain(settingsTable());
  });
});
