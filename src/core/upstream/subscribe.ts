/**
 * One upstream connection for one subscription: opened for it, never retried
 * silently once it is running (a retry could duplicate or lose events), and
 * disposed as a unit: the operation is ended upstream and the socket closed.
 *
 * The connection opens the socket itself, offering both subprotocols, and
 * speaks whichever the server selected: `graphql-transport-ws` through
 * graphql-ws's client, or the legacy `graphql-ws` of subscriptions-transport-ws
 * through a small client of our own. It owns what both share: the connect and
 * `connection_ack` timeouts, the message size limit, and the liveness deadline.
 */
import { runLegacyWs } from './legacy-ws.ts';
import {
  BAD_RESPONSE,
  classifyClose,
  CONNECTING,
  LEGACY_WS,
  messageSize,
  OPEN,
  tooBig,
  TRANSPORT_WS,
  type CloseEventLike,
  type DriverContext,
  type ExecutionResult,
  type ProtocolDriver,
  type UpstreamEnd,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.ts';
import { runTransportWs } from './transport-ws.ts';
import { unsendable } from './sendable.ts';
import { DEFAULTS } from '../defaults.ts';

export type { UpstreamEnd } from './socket.ts';

/**
 * Which upstream protocol to speak. `auto` offers both on one upgrade and
 * speaks the one the server selects.
 */
export type UpstreamProtocol = 'auto' | 'graphql-transport-ws' | 'subscriptions-transport-ws';

export const UPSTREAM_PROTOCOLS: readonly UpstreamProtocol[] = ['auto', 'graphql-transport-ws', 'subscriptions-transport-ws'];

/** Timer functions, injected so runtimes and tests can supply their own. */
export interface UpstreamTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: UpstreamTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Options of the upstream side. */
export interface UpstreamOptions {
  /** The upstream WebSocket endpoint, `ws://` or `wss://`. */
  url: string;
  /**
   * The WebSocket constructor to use; injected by the runtime adapter
   * (the `ws` package on Node, the platform's own on Workers). Only the
   * Web-standard API is used.
   */
  webSocketImpl: unknown;
  /**
   * The upstream protocol: `auto` offers `graphql-transport-ws` and the legacy
   * `graphql-ws` on the same upgrade and speaks the one the server selects;
   * the other values offer only that one.
   * @default "auto"
   */
  protocol?: UpstreamProtocol;
  /**
   * How long the WebSocket upgrade may take before the upstream is taken for unavailable, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How long to wait for the upstream's `connection_ack` after the socket opens, in milliseconds.
   * @default 10000
   */
  connectionAckWaitTimeoutMs?: number;
  /**
   * Interval of graphql-transport-ws `ping` messages to the upstream, in milliseconds; `0` disables them.
   * Pings notice a dead upstream or a silent load balancer.
   * @default 12000
   */
  keepAliveMs?: number;
  /**
   * How long a `pong` may take after a `ping`, in milliseconds, before the upstream is taken for dead.
   * On the legacy protocol (no client pings) it is the grace period added to the server's own `ka`
   * rhythm. `0` disables the check.
   * @default 5000
   */
  pongTimeoutMs?: number;
  /**
   * The largest upstream message accepted, in bytes (UTF-8); a larger one ends that stream with an error.
   * @default 16777216 (16 MiB)
   */
  maxMessageBytes?: number;
  /** Timer functions. @default the global setTimeout/clearTimeout */
  timers?: UpstreamTimers;
  /**
   * What `auto` learned about the upstream's protocol, shared by every
   * subscription that passes the same map (the gateway passes one of its own,
   * so per-request options share it and a new gateway starts afresh).
   * @default one map per options object
   */
  protocolMemory?: Map<string, string>;
  /** Called for unexpected errors inside the upstream client (never shown to clients). @default console.error */
  onInternalError?: (err: unknown) => void;
}

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

/**
 * Where `auto` keeps what it learned when it had to fall back: the protocol
 * that worked, per upstream URL, offered alone next time, until a connection
 * offering it alone fails before its `connection_ack`. Without
 * `protocolMemory` in the options, memory is per options object.
 */
const memories = new WeakMap<UpstreamOptions, Map<string, string>>();
function memoryOf(options: UpstreamOptions): Map<string, string> {
  if (options.protocolMemory) return options.protocolMemory;
  let memory = memories.get(options);
  if (!memory) memories.set(options, (memory = new Map()));
  return memory;
}

/** Close codes by which a server rejects the subprotocol it was given. */
const PROTOCOL_REJECTED = new Set([1002, 4406]);

const other = (protocol: string) => (protocol === TRANSPORT_WS ? LEGACY_WS : TRANSPORT_WS);

function offerFor(options: UpstreamOptions): string[] {
  switch (options.protocol ?? DEFAULTS.upstreamProtocol) {
    case 'graphql-transport-ws':
      return [TRANSPORT_WS];
    case 'subscriptions-transport-ws':
      return [LEGACY_WS];
    default: {
      const known = memoryOf(options).get(options.url);
      return known ? [known] : [TRANSPORT_WS, LEGACY_WS];
    }
  }
}

export function subscribeUpstream(options: UpstreamOptions, request: SubscribePayload, handlers: UpstreamHandlers): UpstreamSubscription {
  const Impl = options.webSocketImpl as WebSocketConstructor;
  const timers = options.timers ?? defaultTimers;
  const auto = (options.protocol ?? DEFAULTS.upstreamProtocol) === 'auto';
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.upstreamConnectTimeoutMs;
  const ackTimeoutMs = options.connectionAckWaitTimeoutMs ?? DEFAULTS.upstreamAckTimeoutMs;
  const keepAliveMs = options.keepAliveMs ?? DEFAULTS.upstreamKeepAliveMs;
  const pongTimeoutMs = options.pongTimeoutMs ?? DEFAULTS.upstreamPongTimeoutMs;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULTS.upstreamMaxMessageBytes;
  const onInternalError = options.onInternalError ?? ((err: unknown) => console.error('[subway] upstream client error', err));
  const { connectionParams, ...payload } = request;

  let disposed = false;
  let ended = false;
  let connected = false;
  let current: Attempt | undefined;
  let socketClosed!: () => void;
  const closed = new Promise<void>((resolve) => (socketClosed = resolve));

  const end = (e: UpstreamEnd, silent = false) => {
    if (ended || disposed) return;
    ended = true;
    // A bad message is answered as graphql-ws answers it (4004), on both protocols.
    current?.teardown(e.kind === 'fatal' && e.closeCode === BAD_RESPONSE ? BAD_RESPONSE : 1000, silent);
    handlers.end(e);
  };

  interface Attempt {
    /**
     * Ends the operation upstream, closes the socket (with `code`) and stops
     * every timer. `silent`: the upstream is not answering, so a close
     * handshake would only hold the socket open (ws waits 30 s for it).
     */
    teardown(code?: number, silent?: boolean): void;
  }

  /**
   * Opens one socket offering `offer`. `mayFallBack`: in `auto` mode, a server
   * that refuses the protocol it selected (before the ack) is asked once more,
   * offering only the other protocol.
   */
  const attempt = (offer: string[], mayFallBack: boolean): Attempt => {
    const timer = { connect: undefined as unknown, ack: undefined as unknown, live: undefined as unknown };
    const clear = (name: keyof typeof timer) => {
      if (timer[name] !== undefined) timers.clearTimeout(timer[name]);
      timer[name] = undefined;
    };
    let socket: WebSocketLike | undefined;
    let driver: ProtocolDriver | undefined;
    let acked = false;
    let tornDown = false;
    const self: Attempt = {
      teardown(code = 1000, silent = false) {
        if (tornDown) return;
        tornDown = true;
        clear('connect');
        clear('ack');
        clear('live');
        try {
          driver?.dispose();
        } catch (err) {
          onInternalError(err);
        }
        if (!socket || (socket.readyState !== CONNECTING && socket.readyState !== OPEN)) return;
        // `terminate` is ws's (Node) way to drop a socket without the handshake;
        // the Web API has none, and Workers release the socket on close().
        const terminate = (socket as { terminate?: unknown }).terminate;
        if (silent && typeof terminate === 'function') terminate.call(socket);
        else socket.close(code, code === 1000 ? 'Normal Closure' : 'Bad response');
      },
    };
    const mine = (e: UpstreamEnd, silent = false) => {
      if (current === self) end(e, silent);
    };
    const ctx = (ws: WebSocketLike): DriverContext => ({
      socket: ws,
      payload,
      connectionParams,
      keepAliveMs,
      acked() {
        if (acked || current !== self) return;
        acked = true;
        clear('ack');
        if (auto && offer.length === 1) memoryOf(options).set(options.url, offer[0]!);
        if (!connected && !disposed && !ended) {
          connected = true;
          handlers.onConnected?.();
        }
      },
      next(result) {
        if (!ended && !disposed && current === self) handlers.next(result);
      },
      end: mine,
      deadline(ms, message) {
        clear('live');
        if (ms !== undefined && !tornDown) timer.live = timers.setTimeout(() => mine({ kind: 'transient', message }, true), ms);
      },
    });

    try {
      socket = new Impl(options.url, offer);
    } catch (err) {
      // The end is reported asynchronously, as every other end is.
      queueMicrotask(() => mine({ kind: 'transient', message: `Upstream connection failed: ${err instanceof Error ? err.message : String(err)}` }));
      if (current === self || current === undefined) socketClosed();
      return self;
    }
    const ws = socket;
    if (connectTimeoutMs > 0) {
      timer.connect = timers.setTimeout(
        () => mine({ kind: 'transient', message: `The upstream did not open the connection within ${connectTimeoutMs} ms` }, true),
        connectTimeoutMs,
      );
    }
    ws.onopen = () => {
      clear('connect');
      if (tornDown) return;
      const selected = ws.protocol || (offer.length === 1 ? offer[0]! : TRANSPORT_WS);
      if (!offer.includes(selected)) {
        return mine({ kind: 'fatal', message: `The upstream selected the subprotocol "${selected}", which was not offered` });
      }
      if (ackTimeoutMs > 0) {
        timer.ack = timers.setTimeout(
          () => mine({ kind: 'transient', message: `The upstream did not acknowledge the connection within ${ackTimeoutMs} ms` }, true),
          ackTimeoutMs,
        );
      }
      try {
        driver = selected === LEGACY_WS ? runLegacyWs(ctx(ws), maxMessageBytes, pongTimeoutMs) : runTransportWs(ctx(ws), maxMessageBytes, pongTimeoutMs);
      } catch (err) {
        onInternalError(err);
        mine({ kind: 'transient', message: 'Upstream connection failed' });
      }
    };
    ws.onmessage = ({ data }) => {
      if (tornDown || !driver) return;
      if (messageSize(data, maxMessageBytes) > maxMessageBytes) return mine(tooBig(maxMessageBytes));
      if (typeof data !== 'string') return mine({ kind: 'fatal', message: 'The upstream sent a binary message', closeCode: 1003 });
      try {
        driver.message(data);
      } catch (err) {
        onInternalError(err);
        mine({ kind: 'transient', message: 'Upstream message could not be handled' });
      }
    };
    // An `error` is always followed by `close`, which carries the code that
    // classifies the end; the error's text (where the runtime gives one, as
    // `ws` does: "connect ECONNREFUSED …") goes into the end's message for logs.
    let errorText: string | undefined;
    ws.onerror = (event) => {
      const message = (event as { message?: unknown } | null)?.message;
      if (typeof message === 'string' && message) errorText ??= message;
    };
    ws.onclose = (event: CloseEventLike) => {
      clear('connect');
      clear('ack');
      clear('live');
      // What was learned may be stale (the upstream was redeployed speaking
      // the other protocol): any failure before the ack forgets it.
      if (!acked && !disposed && auto && offer.length === 1 && current === self) memoryOf(options).delete(options.url);
      const rejected = !acked && driver !== undefined && PROTOCOL_REJECTED.has(event.code);
      if (rejected && auto && current === self && !ended && !disposed) {
        if (mayFallBack) {
          // The server accepted the upgrade with a protocol it then refused
          // (a server that takes the first offered one): offer the other alone.
          current = attempt([other(ws.protocol || offer[0]!)], false);
          self.teardown();
          driver?.closed(event);
          return;
        }
      }
      driver?.closed(event);
      // No further attempt replaces this one: its socket was the last.
      socketClosed();
      // Reported here whatever the driver made of it: graphql-ws's client takes
      // a 1000 close with its subscription running as a cue to reconnect
      // silently, which could lose or duplicate events.
      mine(
        event.code === 1006 && errorText
          ? { kind: 'transient', message: `Upstream connection failed: ${errorText}`, closeCode: 1006 }
          : classifyClose(event, maxMessageBytes),
      );
    };
    return self;
  };

  // What cannot be serialised is reported here, before any socket, never as an error inside the protocol client.
  const refused = unsendable(request);
  if (refused) {
    queueMicrotask(() => end({ kind: 'fatal', message: refused }));
    socketClosed();
  } else {
    current = attempt(offerFor(options), auto);
  }

  const dispose = () => {
    if (disposed) return;
    disposed = true;
    current?.teardown();
  };
  return { dispose, closed, [Symbol.dispose]: dispose };
}
