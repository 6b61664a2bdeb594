/**
 * `@subway-sse/gateway/worker`: the gateway as a Cloudflare Worker, with the
 * operations bundled in at build time.
 *
 * ```ts
 * import { createWorkerHandler } from '@subway-sse/gateway/worker';
 * import manifest from '../graphql/persisted-query-manifest.json';
 * import companion from '../graphql/subway.json';
 *
 * export default createWorkerHandler({ manifest, companion });
 * ```
 */
export { createWorkerHandler, workerSettings } from './app.ts';
export { SubwayHub } from './hub-object.ts';
export { HUB_BINDING, HUB_CLASS } from './binding.ts';
export type { BundledOperations, WorkerContext, WorkerEnv, WorkerHandler, WorkerHandlerOptions, WorkerVar } from './app.ts';
