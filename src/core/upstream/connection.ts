/**
 * One upstream WebSocket connection, carrying any number of operations (one
 * `subscribe` id each). It opens the socket itself, offering the protocols
 * `negotiate.ts` says, and speaks whichever the server selected through a
 * protocol driver (transport-ws.ts, legacy-ws.ts). It owns what both
 * protocols share: the connect and `connection_ack` timeouts, the message size
 * limit, the classification of a close, and the way down: a connection is
 * never reopened silently once an operation runs on it (a retry could
 * duplicate or lose events); when it fails, every operation on it ends, and
 * whoever holds them decides what the client is told.
 *
 * Which operations share a connection, and when an idle one closes, is the
 * pool's business (pool.ts); the connection reports to its `owner`.
 */
import { LegacyWsDriver } from './legacy-ws.ts';
import { forget, learned, otherProtocol, PROTOCOL_REJECTED } from './negotiate.ts';
import type { UpstreamSettings } from './options.ts';
import { Operation, type OperationSink } from './operation.ts';
import { messageId } from './payload.ts';
import {
  BAD_RESPONSE,
  classifyClose,
  LEGACY_WS,
  messageSize,
  tooBig,
  TRANSPORT_WS,
  type CloseEventLike,
  type DriverHost,
  type OperationPayload,
  type ProtocolDriver,
  type UpstreamEnd,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.ts';
import { TransportWsDriver } from './transport-ws.ts';

/** What a connection tells whoever keeps it (the pool). */
export interface ConnectionOwner {
  /** The upstream acknowledged the connection (once per connection). */
  acked(connection: Connection): void;
  /** The connection has no operation left; it takes new ones until it is closed. */
  idle(connection: Connection): void;
  /** The connection stopped taking operations: it is closing (called once). */
  gone(connection: Connection): void;
}

/** What a socket is opened with. */
export interface ConnectionInit {
  /** The `connection_init` payload, if any. */
  readonly connectionParams: Record<string, unknown> | undefined;
  /** The WebSocket constructor (one that sends the forwarded headers on the upgrade, where the runtime has one). */
  readonly webSocketImpl: WebSocketConstructor;
}

const CONNECTING = 0;
const READY = 1;
const CLOSING = 2;
const CLOSED = 3;

export class Connection implements DriverHost {
  /** The sharing key the pool filed it under (`undefined`: never shared). */
  readonly key: string | undefined;
  readonly connectionParams: Record<string, unknown> | undefined;
  socket!: WebSocketLike;
  /** The pool's idle timer, while the connection has no operation. */
  idleTimer: unknown;
  private readonly settings: UpstreamSettings;
  private readonly init: ConnectionInit;
  private readonly owner: ConnectionOwner;
  private state: typeof CONNECTING | typeof READY | typeof CLOSING | typeof CLOSED = CONNECTING;
  private readonly ops = new Map<string, Operation>();
  private nextId = 1;
  private driver: ProtocolDriver | undefined;
  private offer: string[] = [];
  private mayFallBack = false;
  private connectTimer: unknown;
  private ackTimer: unknown;
  private errorText: string | undefined;
  private socketGone = false;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(key: string | undefined, init: ConnectionInit, settings: UpstreamSettings, owner: ConnectionOwner, offer: string[]) {
    this.key = key;
    this.init = init;
    this.connectionParams = init.connectionParams;
    this.settings = settings;
    this.owner = owner;
    this.open(offer, settings.protocol === 'auto');
  }

  /** Operations on it now (waiting for the acknowledgement, or running). */
  get operations(): number {
    return this.ops.size;
  }

  /** Whether it takes new operations. */
  get usable(): boolean {
    return this.state < CLOSING;
  }

  /** Starts an operation: at once if the connection is acknowledged, else when it is. */
  subscribe(payload: OperationPayload, sink: OperationSink): Operation {
    const op = new Operation(String(this.nextId++), payload, sink, this);
    this.ops.set(op.id, op);
    if (this.state === READY) this.start(op);
    return op;
  }

  /** Closes the socket (1000); operations still on it end as unavailable. */
  close(reason = 'Upstream connection closed'): void {
    this.terminate({ kind: 'transient', message: reason }, false, false);
  }

  /** Settles once the socket has closed, for runtimes that must be told to keep running until then. */
  closed(): Promise<void> {
    if (this.socketGone) return Promise.resolve();
    return (this.closedPromise ??= new Promise<void>((resolve) => (this.resolveClosed = resolve)));
  }

  /** See `Operation.dispose`. */
  release(op: Operation): Promise<void> | undefined {
    if (op.done) return undefined;
    op.done = true;
    this.ops.delete(op.id);
    if (op.running && this.state === READY) {
      try {
        this.driver!.unsubscribe(op.id);
      } catch (err) {
        this.settings.onInternalError(err);
      }
    }
    this.afterRemoval();
    return this.state >= CLOSING ? this.closed() : undefined;
  }

  // ── DriverHost ─────────────────────────────────────────────────────────

  acked(): void {
    if (this.state !== CONNECTING) return;
    this.state = READY;
    this.clearTimer('ackTimer');
    learned(this.settings, this.offer);
    for (const op of this.ops.values()) this.start(op);
    this.owner.acked(this);
  }

  next(id: string, json: string): void {
    const op = this.ops.get(id);
    if (op) op.sink.next(json);
  }

  ended(id: string, end: UpstreamEnd): void {
    const op = this.ops.get(id);
    if (!op) return;
    this.ops.delete(id);
    op.done = true;
    op.sink.end(end);
    this.afterRemoval();
  }

  fail(end: UpstreamEnd): void {
    this.terminate(end);
  }

  dead(message: string): void {
    this.terminate({ kind: 'transient', message }, true);
  }

  later(fn: () => void, ms: number): unknown {
    return this.settings.timers.setTimeout(fn, ms);
  }

  cancel(handle: unknown): void {
    this.settings.timers.clearTimeout(handle);
  }

  // ── the socket ─────────────────────────────────────────────────────────

  /**
   * Opens a socket offering `offer`. `mayFallBack`: in `auto` mode, a server
   * that refuses the protocol it selected (before the ack) is asked once more,
   * offering only the other protocol.
   */
  private open(offer: string[], mayFallBack: boolean): void {
    const { url, connectTimeoutMs } = this.settings;
    this.offer = offer;
    this.mayFallBack = mayFallBack;
    this.driver = undefined;
    this.errorText = undefined;
    let socket: WebSocketLike;
    try {
      socket = new this.init.webSocketImpl(url, offer);
    } catch (err) {
      this.socketGone = true;
      // The end is reported asynchronously, as every other end is.
      queueMicrotask(() => this.terminate({ kind: 'transient', message: `Upstream connection failed: ${err instanceof Error ? err.message : String(err)}` }));
      return;
    }
    this.socket = socket;
    if (connectTimeoutMs > 0) {
      this.connectTimer = this.later(
        () => this.terminate({ kind: 'transient', message: `The upstream did not open the connection within ${connectTimeoutMs} ms` }, true),
        connectTimeoutMs,
      );
    }
    socket.onopen = () => this.opened(socket);
    socket.onmessage = ({ data }) => this.received(socket, data);
    // An `error` is always followed by `close`, which carries the code that
    // classifies the end; the error's text (where the runtime gives one, as
    // `ws` does: "connect ECONNREFUSED …") goes into the end's message for logs.
    socket.onerror = (event) => {
      const message = (event as { message?: unknown } | null)?.message;
      if (typeof message === 'string' && message && socket === this.socket) this.errorText ??= message;
    };
    socket.onclose = (event) => this.socketClosed(socket, event);
  }

  private opened(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.clearTimer('connectTimer');
    if (this.state >= CLOSING) return;
    const { ackTimeoutMs, keepAliveMs, pongTimeoutMs, now } = this.settings;
    const selected = socket.protocol || (this.offer.length === 1 ? this.offer[0]! : TRANSPORT_WS);
    if (!this.offer.includes(selected)) {
      return this.terminate({ kind: 'fatal', message: `The upstream selected the subprotocol "${selected}", which was not offered` });
    }
    if (ackTimeoutMs > 0) {
      this.ackTimer = this.later(
        () => this.terminate({ kind: 'transient', message: `The upstream did not acknowledge the connection within ${ackTimeoutMs} ms` }, true),
        ackTimeoutMs,
      );
    }
    try {
      this.driver = selected === LEGACY_WS ? new LegacyWsDriver(this, { pongTimeoutMs, now }) : new TransportWsDriver(this, { keepAliveMs, pongTimeoutMs });
    } catch (err) {
      this.settings.onInternalError(err);
      this.terminate({ kind: 'transient', message: 'Upstream connection failed' });
    }
  }

  private received(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket || this.state >= CLOSING || !this.driver) return;
    const max = this.settings.maxMessageBytes;
    if (messageSize(data, max) > max) return this.refuse(data);
    if (typeof data !== 'string') return this.terminate({ kind: 'fatal', message: 'The upstream sent a binary message', closeCode: 1003 });
    try {
      this.driver.message(data);
    } catch (err) {
      this.settings.onInternalError(err);
      this.terminate({ kind: 'transient', message: 'Upstream message could not be handled' });
    }
  }

  /**
   * A message over the size limit ends the operation it belongs to (which is
   * ended upstream too) and leaves the others on the socket be; when it
   * cannot be told whose it is, the connection fails.
   */
  private refuse(data: unknown): void {
    const end = tooBig(this.settings.maxMessageBytes);
    const id = typeof data === 'string' ? messageId(data) : undefined;
    const op = id === undefined ? undefined : this.ops.get(id);
    if (!op) return this.terminate(end);
    this.release(op);
    op.sink.end(end);
  }

  private socketClosed(socket: WebSocketLike, event: CloseEventLike): void {
    if (socket !== this.socket) return;
    this.clearTimer('connectTimer');
    this.clearTimer('ackTimer');
    if (this.state === CONNECTING) {
      // What was learned may be stale (the upstream was redeployed speaking the other protocol).
      forget(this.settings, this.offer);
      if (this.settings.protocol === 'auto' && this.mayFallBack && this.driver !== undefined && PROTOCOL_REJECTED.has(event.code)) {
        // The server accepted the upgrade with a protocol it then refused
        // (a server that takes the first offered one): offer the other alone.
        this.stopDriver();
        return this.open([otherProtocol(socket.protocol || this.offer[0]!)], false);
      }
    }
    this.socketGone = true;
    this.resolveClosed?.();
    if (this.state < CLOSING) {
      // Reported whatever the driver made of it: a 1000 close with operations
      // running is a failure to the client, never a cue to reconnect silently.
      const { errorText } = this;
      this.terminate(
        event.code === 1006 && errorText
          ? { kind: 'transient', message: `Upstream connection failed: ${errorText}`, closeCode: 1006 }
          : classifyClose(event, this.settings.maxMessageBytes),
      );
    }
    this.state = CLOSED;
  }

  // ── the way down ───────────────────────────────────────────────────────

  private start(op: Operation): void {
    op.running = true;
    try {
      this.driver!.subscribe(op.id, op.payload);
    } catch (err) {
      this.settings.onInternalError(err);
      this.terminate({ kind: 'transient', message: 'Upstream connection failed' });
    }
  }

  private afterRemoval(): void {
    if (this.ops.size === 0 && this.state < CLOSING) this.owner.idle(this);
  }

  /**
   * Closes the socket and ends every operation on it with `end`. `silent`:
   * the upstream is not answering, so a close handshake would only hold the
   * socket open (ws waits 30 s for it): drop it. `failure`: the upstream
   * failed (rather than the gateway letting go of it).
   */
  private terminate(end: UpstreamEnd, silent = false, failure = true): void {
    if (this.state >= CLOSING) return;
    if (this.state === CONNECTING && failure) forget(this.settings, this.offer);
    this.state = CLOSING;
    this.clearTimer('connectTimer');
    this.clearTimer('ackTimer');
    this.owner.gone(this);
    this.stopDriver();
    // A bad message is answered as graphql-ws answers it (4004), on both protocols.
    this.closeSocket(end.kind === 'fatal' && end.closeCode === BAD_RESPONSE ? BAD_RESPONSE : 1000, silent);
    if (this.ops.size === 0) return;
    const ops = [...this.ops.values()];
    this.ops.clear();
    for (const op of ops) {
      op.done = true;
      op.sink.end(end);
    }
  }

  private stopDriver(): void {
    try {
      this.driver?.closing();
    } catch (err) {
      this.settings.onInternalError(err);
    }
  }

  private closeSocket(code: number, silent: boolean): void {
    const socket = this.socket as WebSocketLike | undefined;
    if (!socket || this.socketGone || (socket.readyState !== 0 && socket.readyState !== 1)) return;
    // `terminate` is ws's (Node) way to drop a socket without the handshake;
    // the Web API has none, and Workers release the socket on close().
    const terminate = (socket as { terminate?: unknown }).terminate;
    if (silent && typeof terminate === 'function') terminate.call(socket);
    else socket.close(code, code === 1000 ? 'Normal Closure' : 'Bad response');
  }

  private clearTimer(name: 'connectTimer' | 'ackTimer'): void {
    if (this[name] !== undefined) this.settings.timers.clearTimeout(this[name]);
    this[name] = undefined;
  }
}
