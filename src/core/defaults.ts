/**
 * Every default of subway, stated once. The options' code (`?? DEFAULTS.x`),
 * the settings parser and the generated configuration docs (src/core/config.ts)
 * read them from here; each option's TSDoc `@default` repeats the value for
 * readers, and test/core/defaults.test.ts checks that it says the same.
 *
 * Units are in the names: `…Ms` milliseconds, `…S` seconds, `…Bytes` bytes.
 */
export const DEFAULTS = {
  // The upstream connection.
  upstreamProtocol: 'auto',
  upstreamConnectTimeoutMs: 10_000,
  upstreamAckTimeoutMs: 10_000,
  upstreamKeepAliveMs: 12_000,
  upstreamPongTimeoutMs: 5000,
  upstreamMaxMessageBytes: 16 * 1024 * 1024,
  // Sharing the upstream side (docs/sharing.md).
  upstreamSharing: 'off',
  upstreamMaxSubscriptionsPerSocket: 100,
  upstreamIdleMs: 1000,
  /** No limit. */
  upstreamMaxSockets: 0,
  // Reconnection hints after an upstream failure.
  retryMs: 2000,
  maxRetryMs: 30_000,
  /**
   * The longest `retry:` told to a client the gateway wants straight back
   * (its credential expired; the gateway stops while resume is on): each
   * draws a delay below it, so they come back spread rather than at once.
   */
  soonRetryMs: 1000,
  // Resuming dropped streams (docs/resume.md).
  /** Off. */
  resumeWindowMs: 0,
  resumeMaxEvents: 1000,
  resumeMaxBytes: 1_048_576,
  // Requests.
  path: '/graphql',
  maxBodyBytes: 102_400,
  maxQueryStringBytes: 8192,
  maxVariablesBytes: 65_536,
  maxVariablesDepth: 64,
  listOperations: true,
  corsMaxAgeS: 600,
  // Streams.
  heartbeatMs: 15_000,
  /** No bound: a stream carries events until it ends (Node; a Durable Object's streams). */
  maxStreamEvents: 0,
  /**
   * The bound where a Worker writes a stream itself (no Durable Object): the
   * Free plan's 10 ms of CPU per request, at the ≈37 µs per event measured on
   * workerd (`npm run bench:edge`, docs/workers.md), admission included, with room.
   */
  workerMaxStreamEvents: 200,
  /** The longest `retry:` after a stream reached `maxStreamEvents`: each draws a delay below it, so they come back spread. */
  streamBudgetRetryMs: 1000,
  isolateRequests: false,
  maxQueuedEvents: 4096,
  maxQueuedBytes: 65_536,
  /** The share of the JS heap the queue budget takes when `maxQueuedBytesTotal` is not set. */
  queueBudgetHeapShare: 0.25,
  /** The heap assumed where the runtime adapter passes none: a Cloudflare Worker isolate's 128 MiB. */
  heapLimitBytes: 134_217_728,
  /** Extensions of upstream errors passed to clients besides `code`. */
  upstreamErrorExtensions: [] as readonly string[],
  // Limits.
  maxSubscriptions: 10_000,
  maxSubscriptionsPerClient: 0,
  clientIpv6Prefix: 64,
  limitRetryAfterS: 5,
  // The Node server.
  port: 4000,
  host: '0.0.0.0',
  persistedOperations: 'persisted-operations',
  shutdownGraceMs: 1000,
  idleTimeoutMs: 60_000,
  requestBodyTimeoutMs: 10_000,
  http2MaxConcurrentStreams: 128,
  logStreams: true,
  logVariables: false,
  devCertDir: '.dev-certs',
  /** Quiet time after a change to the operations folder before it is reloaded. */
  reloadSettleMs: 100,
  // The registry.
  assumeValidInputSchema: false,
  // Operation sources (PERSISTED_OPERATIONS: folders, bundle URLs, KV).
  operationsPollMs: 10_000,
  operationsTimeoutMs: 3000,
  /** Largest operations bundle read from a URL. */
  maxBundleBytes: 16 * 1024 * 1024,
} as const;

export type Defaults = typeof DEFAULTS;
