/**
 * One operation on an upstream connection (one `subscribe` id), and where its
 * results go. The connection (connection.ts) routes messages by id to it.
 */
import type { Connection } from './connection.ts';
import type { OperationPayload, UpstreamEnd } from './socket.ts';

/** Where an operation's results go: the upstream subscription's owner (a hub). */
export interface OperationSink {
  /** One result: its JSON text (as the upstream wrote it where it could be taken verbatim), without raw line breaks. */
  next(json: string): void;
  /** Called exactly once, unless the operation was disposed first. */
  end(end: UpstreamEnd): void;
}

/** One operation on a connection. */
export class Operation {
  readonly id: string;
  readonly payload: OperationPayload;
  readonly sink: OperationSink;
  /** The connection it runs on; none for one refused before any socket (`refused`). */
  readonly connection: Connection | undefined;
  /** `subscribe` was sent. */
  running = false;
  /** Ended upstream, failed, or disposed: nothing more is reported. */
  done = false;

  constructor(id: string, payload: OperationPayload, sink: OperationSink, connection: Connection | undefined) {
    this.id = id;
    this.payload = payload;
    this.sink = sink;
    this.connection = connection;
  }

  /** An operation that ends with `end` before any socket (it cannot be sent); reported asynchronously, as every end is. */
  static refused(payload: OperationPayload, sink: OperationSink, end: UpstreamEnd): Operation {
    const op = new Operation('', payload, sink, undefined);
    queueMicrotask(() => {
      if (op.done) return;
      op.done = true;
      sink.end(end);
    });
    return op;
  }

  /**
   * Ends the operation upstream (if it still runs) without reporting anything
   * more. Idempotent. Returns the socket's closing when this left the
   * connection closing (for runtimes that must be told to wait for it).
   */
  dispose(): Promise<void> | undefined {
    if (!this.connection) {
      this.done = true;
      return undefined;
    }
    return this.connection.release(this);
  }
}
