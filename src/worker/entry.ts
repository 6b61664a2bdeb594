/**
 * This repository's own Worker, as `wrangler dev` / `wrangler deploy` run by
 * hand see it (`main` in wrangler.toml): the gateway with the operations of
 * persisted-operations/ bundled in. `subway worker dev|build|deploy` (the npm
 * scripts) write an entry of the same three lines for the folder they are
 * given instead (src/cli/worker-entry.ts); a team's own Worker does the same
 * with `@subway-sse/gateway/worker` (docs/workers.md).
 */
import manifest from '../../persisted-operations/persisted-query-manifest.json' with { type: 'json' };
import companion from '../../persisted-operations/subway.json' with { type: 'json' };
import { createWorkerHandler } from './app.ts';

// workerd's own WebSocket (its constructor takes the graphql-transport-ws subprotocol).
export default createWorkerHandler({ manifest, companion }, { webSocketImpl: WebSocket });
// The Durable Object the shared modes hand subscriptions to (bound as SUBWAY_HUB in wrangler.toml).
export { SubwayHub } from './hub-object.ts';
