/**
 * The upstream sockets of a gateway, and which operation goes on which.
 *
 * - `off`: a socket per operation, closed as soon as its operation ends.
 * - `connection` and `subscription`: operations filed under the same key (a
 *   digest of the exact `connection_init` payload and upgrade headers, so
 *   never two credentials on one socket) share a socket, up to
 *   `maxSubscriptionsPerSocket` each (then a new one); a socket left with no
 *   operation closes after `idleMs` unless one arrives meanwhile.
 *   Operations opened without a key (an operation marked unshared) get a
 *   socket of their own, as in `off`.
 *
 * `maxSockets` caps the sockets open (or opening) at once: an operation that
 * would need one more is refused with a 429 before any upstream work.
 */
import { SubwayError } from '../errors.ts';
import { Connection, type ConnectionInit, type ConnectionOwner } from './connection.ts';
import { Operation, type OperationSink } from './operation.ts';
import { unsendable } from './sendable.ts';
import { offerFor } from './negotiate.ts';
import type { UpstreamSettings } from './options.ts';
import type { OperationPayload, WebSocketConstructor } from './socket.ts';

/** What a subscription asks of its socket. */
export interface SocketRequest {
  /** The `connection_init` payload, if any. */
  readonly connectionParams: Record<string, unknown> | undefined;
  /** Headers to send on the upgrade request (where the runtime can), if any. */
  readonly upgradeHeaders: Record<string, string> | undefined;
}

/** How much of the upstream side subscriptions share: see docs/sharing.md. */
export type SharingMode = 'off' | 'connection' | 'subscription';

export const SHARING_MODES: readonly SharingMode[] = ['off', 'connection', 'subscription'];

export interface PoolOptions {
  readonly mode: SharingMode;
  /** Most operations on one shared socket. */
  readonly maxSubscriptionsPerSocket: number;
  /** How long a shared socket with no operation stays open, in milliseconds. */
  readonly idleMs: number;
  /** Most sockets open or opening at once; `0` is no limit. */
  readonly maxSockets: number;
  /** The `Retry-After` of a refusal, in seconds. */
  readonly retryAfterS: number;
  readonly settings: UpstreamSettings;
  /** The WebSocket constructor. */
  readonly webSocketImpl: unknown;
  /** A WebSocket constructor that sends these headers on the upgrade, where the runtime has one. */
  readonly webSocketWithHeaders?: (headers: Record<string, string>) => unknown;
  /** A socket completed its handshake. */
  onOpen?(): void;
  /** A socket that had completed its handshake is closing. */
  onClose?(): void;
}

export class Pool implements ConnectionOwner {
  /** Sockets open or opening, not yet closing. */
  sockets = 0;
  /** Sockets that completed their handshake, not yet closing. */
  connected = 0;
  private readonly options: PoolOptions;
  /** Shared sockets by key, in the order they were opened. */
  private readonly shared = new Map<string, Connection[]>();
  private readonly counted = new WeakSet<Connection>();

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /**
   * Starts an operation on a socket for `key` (`undefined`: a socket of its
   * own). Throws a 429 `SubwayError` when a new socket is needed and the cap
   * is reached.
   */
  open(key: string | undefined, request: SocketRequest, payload: OperationPayload, sink: OperationSink): Operation {
    // What cannot be serialised ends here, before any socket: inside a driver it would fail the whole (shared) connection.
    const refused = unsendable({ ...payload, connectionParams: request.connectionParams });
    if (refused) return Operation.refused(payload, sink, { kind: 'fatal', message: refused });
    const shareable = key !== undefined && this.options.mode !== 'off';
    let connection = shareable ? this.find(key) : undefined;
    if (connection) {
      if (connection.idleTimer !== undefined) this.options.settings.timers.clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
    } else {
      connection = this.connect(shareable ? key : undefined, request);
    }
    return connection.subscribe(payload, sink);
  }

  /** Closes every socket now (the gateway is stopping). */
  closeAll(): void {
    for (const list of [...this.shared.values()]) for (const connection of [...list]) connection.close('The gateway is shutting down');
  }

  // ── ConnectionOwner ────────────────────────────────────────────────────

  acked(connection: Connection): void {
    this.counted.add(connection);
    this.connected++;
    this.options.onOpen?.();
  }

  idle(connection: Connection): void {
    const { idleMs, settings } = this.options;
    if (connection.key === undefined || idleMs <= 0) return connection.close('No subscription left');
    connection.idleTimer = settings.timers.setTimeout(() => {
      connection.idleTimer = undefined;
      if (connection.operations === 0) connection.close('Idle');
    }, idleMs);
  }

  gone(connection: Connection): void {
    this.sockets--;
    if (this.counted.delete(connection)) {
      this.connected--;
      this.options.onClose?.();
    }
    if (connection.idleTimer !== undefined) this.options.settings.timers.clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    if (connection.key === undefined) return;
    const list = this.shared.get(connection.key);
    if (!list) return;
    const i = list.indexOf(connection);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.shared.delete(connection.key);
  }

  // ── placement ──────────────────────────────────────────────────────────

  private find(key: string): Connection | undefined {
    const list = this.shared.get(key);
    if (!list) return undefined;
    const max = this.options.maxSubscriptionsPerSocket;
    for (const connection of list) if (connection.usable && connection.operations < max) return connection;
    return undefined;
  }

  private connect(key: string | undefined, request: SocketRequest): Connection {
    const { maxSockets, retryAfterS, settings, webSocketImpl, webSocketWithHeaders } = this.options;
    if (maxSockets > 0 && this.sockets >= maxSockets) {
      throw new SubwayError('UPSTREAM_SOCKET_LIMIT', 429, 'The gateway has as many upstream connections open as it allows; try again later.', {
        headers: { 'retry-after': String(retryAfterS) },
      });
    }
    this.sockets++;
    const headers = request.upgradeHeaders;
    const init: ConnectionInit = {
      connectionParams: request.connectionParams,
      webSocketImpl: (headers && webSocketWithHeaders ? webSocketWithHeaders(headers) : webSocketImpl) as WebSocketConstructor,
    };
    const connection = new Connection(key, init, settings, this, offerFor(settings));
    if (key !== undefined && connection.usable) {
      const list = this.shared.get(key);
      if (list) list.push(connection);
      else this.shared.set(key, [connection]);
    }
    return connection;
  }
}
