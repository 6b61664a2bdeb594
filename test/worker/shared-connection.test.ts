/** The HTTP contract on the Worker with UPSTREAM_SHARING=connection: subscriptions go to the Durable Object of their credentials. */
import { describe } from 'vitest';
import { conformanceSuite } from '../conformance/suite.ts';

describe('worker (workerd), UPSTREAM_SHARING=connection', () => {
  conformanceSuite('worker', { UPSTREAM_SHARING: 'connection', UPSTREAM_IDLE_MS: 50 });
});
