/**
 * The `graphql-transport-ws` protocol (the graphql-ws library's), client
 * side, for any number of operations on one socket. Written here rather than
 * driven through graphql-ws's `Client`: a gateway needs none of the client's
 * retry, lazy-connect and lock machinery (the connection owns timeouts, and a
 * silent reconnect could lose or duplicate events), and each of those costs
 * memory and CPU per socket. graphql-ws stays the source of the protocol's
 * message validation (`validateMessage`) and of the servers the tests run.
 *
 *   client → connection_init {payload?}      server → connection_ack
 *   client → subscribe {id, payload}         server → next {id} … complete {id} | error {id, payload}
 *   client → complete {id}                   either → ping / pong
 */
import { MessageType, validateMessage, type Message } from 'graphql-ws';
import { canonicalResult } from './payload.ts';
import { badMessage, TRANSPORT_WS, type DriverHost, type OperationPayload, type ProtocolDriver } from './socket.ts';

export interface TransportWsSettings {
  /** Interval of client pings, in milliseconds; `0` sends none. */
  readonly keepAliveMs: number;
  /** How long a pong may take, in milliseconds; `0` does not check. */
  readonly pongTimeoutMs: number;
}

export class TransportWsDriver implements ProtocolDriver {
  private readonly host: DriverHost;
  private readonly settings: TransportWsSettings;
  private acked = false;
  private pingTimer: unknown;
  private pongTimer: unknown;

  constructor(host: DriverHost, settings: TransportWsSettings) {
    this.host = host;
    this.settings = settings;
    const params = host.connectionParams;
    this.send(params ? JSON.stringify({ type: MessageType.ConnectionInit, payload: params }) : '{"type":"connection_init"}');
    this.schedulePing();
  }

  message(data: string): void {
    // The common case first: a result in the shape graphql-ws servers write, forwarded as written.
    if (this.acked) {
      const result = canonicalResult(data, 'next');
      if (result) return this.host.next(result.id, result.json);
    }
    let message: Message;
    try {
      message = validateMessage(JSON.parse(data));
    } catch {
      return this.host.fail(badMessage(TRANSPORT_WS));
    }
    switch (message.type) {
      case MessageType.Ping:
        return this.send(message.payload ? JSON.stringify({ type: MessageType.Pong, payload: message.payload }) : '{"type":"pong"}');
      case MessageType.Pong:
        this.clear();
        return this.schedulePing();
    }
    if (!this.acked) {
      // As graphql-ws's client: the first message that is not a ping or a pong must be the acknowledgement.
      if (message.type !== MessageType.ConnectionAck) return this.host.fail(badMessage(TRANSPORT_WS));
      this.acked = true;
      return this.host.acked();
    }
    switch (message.type) {
      case MessageType.Next:
        return this.host.next(message.id, JSON.stringify(message.payload));
      case MessageType.Error:
        return this.host.ended(message.id, { kind: 'errors', errors: message.payload });
      case MessageType.Complete:
        return this.host.ended(message.id, { kind: 'complete' });
      default:
        // A second ack, or a client's message type from the server: nothing to do, as in graphql-ws's client.
        return;
    }
  }

  subscribe(id: string, payload: OperationPayload): void {
    this.send(`{"id":${JSON.stringify(id)},"type":"subscribe","payload":${JSON.stringify(payload)}}`);
  }

  unsubscribe(id: string): void {
    this.send(`{"id":${JSON.stringify(id)},"type":"complete"}`);
  }

  closing(): void {
    this.clear();
  }

  private clear(): void {
    if (this.pingTimer !== undefined) this.host.cancel(this.pingTimer);
    if (this.pongTimer !== undefined) this.host.cancel(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }

  private send(text: string): void {
    if (this.host.socket.readyState === 1) this.host.socket.send(text);
  }

  /**
   * The next ping, `keepAliveMs` after the socket opened or the last pong
   * came back; a pong must then arrive within `pongTimeoutMs` (graphql-ws's
   * client pings but does nothing when no pong comes).
   */
  private schedulePing(): void {
    const { keepAliveMs, pongTimeoutMs } = this.settings;
    if (keepAliveMs <= 0) return;
    this.pingTimer = this.host.later(() => {
      this.pingTimer = undefined;
      this.send('{"type":"ping"}');
      if (pongTimeoutMs > 0 && this.pongTimer === undefined) {
        this.pongTimer = this.host.later(() => this.host.dead(`The upstream did not answer a ping within ${pongTimeoutMs} ms`), pongTimeoutMs);
      }
    }, keepAliveMs);
  }
}
