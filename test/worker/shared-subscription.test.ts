/** The HTTP contract on the Worker with UPSTREAM_SHARING=subscription: subscriptions go to the Durable Object of their key. */
import { describe } from 'vitest';
import { conformanceSuite } from '../conformance/suite.ts';

describe('worker (workerd), UPSTREAM_SHARING=subscription', () => {
  conformanceSuite('worker', { UPSTREAM_SHARING: 'subscription', UPSTREAM_IDLE_MS: 50 });
});
