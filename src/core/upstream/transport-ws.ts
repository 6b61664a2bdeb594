/**
 * The `graphql-transport-ws` side: graphql-ws's own client, handed the socket
 * the connection already opened (and negotiated) through a small adapter
 * class, so the library speaks the protocol while the connection keeps the
 * timeouts, the size limit and the protocol choice.
 */
import { createClient } from 'graphql-ws';
import { BAD_RESPONSE, badMessage, classifyClose, TRANSPORT_WS, type CloseEventLike, type DriverContext, type ProtocolDriver, type WebSocketLike } from './socket.ts';

/**
 * A WebSocket-shaped view of an open socket, for graphql-ws's `webSocketImpl`:
 * it forwards what the client sends, and receives from the connection what the
 * upstream sent. It fires `open` right after graphql-ws attached its handlers,
 * since the socket under it is already open.
 */
class AdoptedSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: CloseEventLike) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** The first close code the client itself asked for. */
  closedWith: number | undefined;

  private readonly socket: WebSocketLike;

  constructor(socket: WebSocketLike) {
    this.socket = socket;
    // graphql-ws assigns its handlers synchronously after construction.
    queueMicrotask(() => this.onopen?.({ type: 'open' }));
  }
  get readyState(): number {
    return this.socket.readyState;
  }
  get protocol(): string {
    return this.socket.protocol;
  }
  send(data: string): void {
    this.socket.send(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith ??= code;
    this.socket.close(code, reason);
  }
}

export function runTransportWs(ctx: DriverContext, maxMessageBytes: number, pongTimeoutMs: number): ProtocolDriver {
  let adopted: AdoptedSocket | undefined;
  const socket = ctx.socket;
  class Impl extends AdoptedSocket {
    constructor() {
      super(socket);
      adopted = this;
    }
  }
  const client = createClient({
    url: 'ws://adopted.invalid/',
    webSocketImpl: Impl,
    connectionParams: ctx.connectionParams,
    lazy: true,
    lazyCloseTimeout: 0,
    retryAttempts: 0,
    shouldRetry: () => false,
    keepAlive: ctx.keepAliveMs,
    // The connection times the acknowledgement itself, for both protocols.
    connectionAckWaitTimeout: 0,
    on: {
      connected: () => ctx.acked(),
      // graphql-ws sends pings but, by design, does nothing when no pong comes back.
      ping: (received) => {
        if (!received && pongTimeoutMs > 0) ctx.deadline(pongTimeoutMs, `The upstream did not answer a ping within ${pongTimeoutMs} ms`);
      },
      pong: (received) => {
        if (received) ctx.deadline(undefined, '');
      },
    },
  });
  const unsubscribe = client.subscribe(ctx.payload, {
    next: (result) => ctx.next(result),
    error: (err) => {
      if (Array.isArray(err)) return ctx.end({ kind: 'errors', errors: err });
      if (adopted?.closedWith === BAD_RESPONSE) return ctx.end(badMessage(TRANSPORT_WS));
      if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number') {
        return ctx.end(classifyClose(err as CloseEventLike, maxMessageBytes));
      }
      ctx.end({ kind: 'transient', message: `Upstream connection failed: ${err instanceof Error ? err.message : String(err)}` });
    },
    complete: () => ctx.end({ kind: 'complete' }),
  });
  return {
    message: (data) => adopted?.onmessage?.({ data }),
    closed: (event) => adopted?.onclose?.(event),
    dispose() {
      // Sends `complete` for a running operation. The client's dispose waits
      // for a connection that may never be acknowledged and then rejects with
      // the close event, which the connection has already reported.
      unsubscribe();
      void Promise.resolve(client.dispose()).catch(() => {});
    },
  };
}
