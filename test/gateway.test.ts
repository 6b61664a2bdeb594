/**
 * The HTTP contract on the Node server (HTTP/1.1 here; HTTP/2 in
 * runtime/node.test.ts). The same suite runs on the Worker in
 * runtime/worker.test.ts.
 */
import { conformanceSuite } from './conformance/suite.ts';

conformanceSuite('node');
