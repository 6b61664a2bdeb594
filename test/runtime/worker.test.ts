/**
 * The HTTP contract on the Worker, running in workerd (wrangler's
 * programmatic dev server): the same suite as the Node server's.
 */
import { describe } from 'vitest';
import { conformanceSuite } from '../conformance/suite.ts';

describe('worker (workerd)', () => {
  conformanceSuite('worker');
});
