/**
 * `@subway-sse/gateway/node`: the gateway on Node. Serve it (`serveNode`:
 * HTTP/1.1, or HTTP/2 over TLS), or hand its request listener to an `http`
 * or `http2` server of your own (`createNodeListener`); load and watch a
 * folder of registered operations, or every source of `PERSISTED_OPERATIONS`
 * (`startOperationSources`); or assemble everything `subway start`
 * runs (`startServer`).
 */
export { createNodeListener, createNodeWebSocket, NodeWebSocket, nodeWebSocketWithHeaders, serveNode } from './serve.ts';
export type { NodeListener, NodeListenerOptions, NodeServer, NodeServerOptions } from './serve.ts';
export { loadOperations, OperationsError } from './operations/load.ts';
export { watchOperations } from './operations/reload.ts';
export { createFolderSource, startOperationSources } from './operations/sources.ts';
export type { NodeSources, NodeSourcesOptions, SourceSettings } from './operations/sources.ts';
export type { OperationsWatcher, ReloadOptions } from './operations/reload.ts';
export { startServer } from './server.ts';
export type { RunningServer, StartOptions } from './server.ts';
export { createPrometheusMetrics } from './prometheus.ts';
export type { PrometheusMetrics } from './prometheus.ts';
