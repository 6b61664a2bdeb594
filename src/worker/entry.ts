/**
 * The Cloudflare Worker entry (`main` in wrangler.toml). The persisted
 * operations are bundled at build time: `subway-manifest` and
 * `subway-companion` are wrangler aliases for the two files `npm run register`
 * wrote in the chosen folder (`persisted-operations/` by default; the
 * `npm run dev:worker` and `npm run deploy` scripts point them at
 * `PERSISTED_OPERATIONS`).
 */
import manifest from 'subway-manifest';
import companion from 'subway-companion';
import { createWorkerHandler } from './app.ts';

// workerd's own WebSocket (its constructor takes the graphql-transport-ws subprotocol).
export default createWorkerHandler({ manifest, companion }, { webSocketImpl: WebSocket });
