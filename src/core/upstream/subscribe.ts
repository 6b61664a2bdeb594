/**
 * One operation on an upstream connection of its own, for callers outside
 * the gateway's pool (the register tool's introspection, tests): the
 * connection opens for it and closes when it ends or is disposed, never
 * reconnecting silently. The gateway itself goes through the pool (pool.ts).
 */
import { Connection, type ConnectionOwner } from './connection.ts';
import { Operation } from './operation.ts';
import { unsendable } from './sendable.ts';
import { offerFor } from './negotiate.ts';
import { upstreamSettings, type UpstreamOptions } from './options.ts';
import type { ExecutionResult, UpstreamEnd, WebSocketConstructor } from './socket.ts';

export type { UpstreamEnd } from './socket.ts';
export { UPSTREAM_PROTOCOLS, type UpstreamOptions, type UpstreamProtocol, type UpstreamTimers } from './options.ts';

export interface UpstreamHandlers {
  /** Called once the upstream acknowledged the connection. */
  onConnected?(): void;
  next(result: ExecutionResult): void;
  /** Called exactly once, unless the subscription was disposed first. */
  end(end: UpstreamEnd): void;
}

export interface UpstreamSubscription extends Disposable {
  /** Ends the operation upstream (if still running) and closes the socket. Idempotent. */
  dispose(): void;
  /**
   * Settles once the upstream socket has closed, for runtimes that must be
   * told to keep running until then (workerd's `ctx.waitUntil`).
   */
  readonly closed: Promise<void>;
}

export interface SubscribePayload {
  query: string;
  variables: Record<string, unknown>;
  operationName: string;
  /** The `connection_init` payload; never sent as part of the operation. */
  connectionParams?: Record<string, unknown>;
}

export function subscribeUpstream(options: UpstreamOptions, request: SubscribePayload, handlers: UpstreamHandlers): UpstreamSubscription {
  const settings = upstreamSettings(options);
  const { connectionParams, ...payload } = request;
  // What cannot be serialised is reported here, before any socket, never as an error inside the protocol driver.
  const refused = unsendable(request);
  if (refused) {
    Operation.refused(payload, { next: () => {}, end: (end) => handlers.end(end) }, { kind: 'fatal', message: refused });
    const dispose = () => {};
    return { dispose, closed: Promise.resolve(), [Symbol.dispose]: dispose };
  }
  const owner: ConnectionOwner = {
    acked: () => handlers.onConnected?.(),
    idle: (connection) => connection.close(),
    gone: () => {},
  };
  const connection = new Connection(undefined, { connectionParams, webSocketImpl: options.webSocketImpl as WebSocketConstructor }, settings, owner, offerFor(settings));
  const operation = connection.subscribe(payload, {
    next: (json) => handlers.next(JSON.parse(json) as ExecutionResult),
    end: (end) => handlers.end(end),
  });
  const dispose = () => {
    operation.dispose();
    connection.close();
  };
  return { dispose, closed: connection.closed(), [Symbol.dispose]: dispose };
}
