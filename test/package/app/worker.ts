// A team's own Worker (docs/workers.md, "Your own wrangler project"): the
// gateway from the package, with this app's registered operations bundled in.
import { createWorkerHandler } from '@subway-sse/gateway/worker';
import manifest from './graphql/persisted-query-manifest.json';
import companion from './graphql/subway.json';

export default createWorkerHandler({ manifest, companion });
