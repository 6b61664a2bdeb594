/**
 * `@subway-sse/gateway`: the runtime-neutral gateway (Web APIs only). Its
 * `fetch` is a plain `(Request) => Response` handler: mount it in Hono, a
 * Worker, Deno, Bun, or Node through `@subway-sse/gateway/node`.
 *
 * ```ts
 * const gateway = createGateway({
 *   registry: createRegistry({ manifest: checkManifest(manifest), companion: checkCompanion(companion) }),
 *   upstream: { url: 'wss://api.example.com/graphql', webSocketImpl: WebSocket },
 * });
 * ```
 */
export { createGateway } from './gateway.ts';
export { DEFAULTS } from './defaults.ts';
export type { Gateway, GatewayOptions, GatewayStats, GatewayUpstreamOptions, RequestContext, SharingStats } from './gateway.ts';
export type { SharingMode } from './upstream/pool.ts';
export type { EventStream, FrameWriter } from './sse/stream.ts';
export { createRegistry } from './operations/registry.ts';
export type { RegisteredOperation, Registry, RegistryOptions } from './operations/registry.ts';
export { checkCompanion, checkManifest, COMPANION_FILE, MANIFEST_FILE } from './operations/manifest.ts';
export type { Companion, ManifestOperation, OperationBundle, OperationType, PersistedQueryManifest } from './operations/manifest.ts';
export { BUNDLE_FILE, checkBundle, toBundle } from './operations/bundle.ts';
export type { BundleSignature, SubwayBundle } from './operations/bundle.ts';
export { createLiveOperations } from './operations/live.ts';
export type { LiveOperations, LiveOperationsOptions, SourceStatus } from './operations/live.ts';
export { createUrlSource } from './operations/url-source.ts';
export { createKvSource } from './operations/kv-source.ts';
export type { OperationSource, SourceFailureReason, SourceVersion } from './operations/source.ts';
export { createBundleVerifier, parsePublicKey } from './operations/signature.ts';
export { registryFromBundleText } from './operations/validate.ts';
export { mergeRegistries } from './operations/merge.ts';
export { SubwayError } from './errors.ts';
export { expiring } from './auth/expiry.ts';
export type { ConnectionParamsResult, Expiry, ExpiringParams } from './auth/expiry.ts';
export type { ErrorBody, ErrorCode } from './errors.ts';
export { ConfigError, gatewayOptions, readConfig, readGatewayConfig, SETTINGS, WORKER_SETTINGS } from './config.ts';
export type { GatewayConfig, ServerConfig, Setting } from './config.ts';
export type { CorsOptions } from './http/cors.ts';
export { combineInstrumentation } from './observability/instrumentation.ts';
export type { Instrumentation, OperationSourceEvent, StreamEndInfo, StreamEndReason, StreamInfo } from './observability/instrumentation.ts';
export { createJsonLog } from './observability/log.ts';
export type { JsonLogOptions } from './observability/log.ts';
export type { UpstreamOptions, UpstreamProtocol } from './upstream/subscribe.ts';
export type { WebSocketConstructor, WebSocketLike } from './upstream/socket.ts';
