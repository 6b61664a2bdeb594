/**
 * The Node adapter: serves a gateway's Web `fetch` handler on `node:http`
 * (plain HTTP/1.1) or `node:http2` (TLS, HTTP/2 with HTTP/1.1 as the ALPN
 * fallback), sending responses through @whatwg-node/server, and supplies the
 * `ws` WebSocket. It also holds the connection-level defences, which only a
 * server that owns its sockets can have (on Workers they are Cloudflare's):
 * idle connections closed, request bodies timed, HTTP/2 streams capped
 * (src/node/connections.ts).
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { sendNodeResponse } from '@whatwg-node/server';
import WebSocket from 'ws';
import { SubwayError } from '../core/errors.ts';
import type { Gateway, RequestContext } from '../core/gateway.ts';
import type { EventStream } from '../core/sse/stream.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { closeIdleSessions, connectionTimeouts, watchRequestBody } from './connections.ts';
import { writeEventStream } from './event-stream.ts';
import { logLine } from './log-line.ts';
import { toWebRequest, type NodeRequest } from './request.ts';

/**
 * The `ws` client with per-message deflate off: every upstream socket would
 * otherwise hold its own compression context (memory per subscription), and
 * the upstream's frames are small JSON on a fast link.
 */
export class NodeWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[], headers?: Record<string, string>) {
    super(url, protocols, { perMessageDeflate: false, headers });
  }
}

/**
 * A `NodeWebSocket` (deflate off too) that can refuse messages over
 * `maxPayload` bytes while they arrive, before `ws` buffers them whole (the
 * gateway checks every message's size too, on every runtime), and can send
 * `headers` on the upgrade request (the forwarded `FORWARD_HEADERS`; browsers'
 * and Workers' WebSocket constructors cannot, so this is Node's alone).
 * `ws` reports a refused message's close as 1006 (it stops reading, so no
 * close frame comes back); it is reported as 1009, "message too big", which
 * is what happened.
 */
export function createNodeWebSocket(options: { maxPayload?: number; headers?: Record<string, string> }): typeof NodeWebSocket {
  return class LimitedWebSocket extends WebSocket {
    #tooBig = false;
    /** `headers`: this socket's upgrade headers, over `options.headers` (see `withUpgradeHeaders`). */
    constructor(url: string | URL, protocols?: string | string[], headers: Record<string, string> | undefined = options.headers) {
      super(url, protocols, { perMessageDeflate: false, maxPayload: options.maxPayload, headers });
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error' && (args[0] as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#tooBig = true;
      if (event === 'close' && this.#tooBig) return super.emit(event, 1009, Buffer.from('Message too big'));
      return super.emit(event, ...args);
    }
  };
}

/**
 * A constructor of `impl` sockets that send `headers` on the upgrade request:
 * a plain function (`new` on it returns the socket it made), not a class per
 * header set. The gateway asks for one per upstream socket that forwards
 * headers, so a class each would give every socket its own prototype: a
 * class's worth of memory per subscription, and `ws`'s code seeing as many
 * object shapes as there are sockets (its property accesses go megamorphic).
 */
export function withUpgradeHeaders(impl: typeof NodeWebSocket, headers: Record<string, string>): typeof NodeWebSocket {
  return function (url: string | URL, protocols?: string | string[]) {
    return new impl(url, protocols, headers);
  } as unknown as typeof NodeWebSocket;
}

/** A `NodeWebSocket` that sends these headers on the upgrade request. */
export const nodeWebSocketWithHeaders = (headers: Record<string, string>): typeof NodeWebSocket => withUpgradeHeaders(NodeWebSocket, headers);

export interface NodeServerOptions {
  /** PEM certificate and key: with them, HTTP/2 over TLS (HTTP/1.1 as fallback); without, plain HTTP/1.1. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** @default 4000 */
  port?: number;
  /** @default "0.0.0.0" */
  host?: string;
  /**
   * On close, how long streams that were sent their reconnection hint may take
   * to flush before their connections are destroyed, in milliseconds.
   * @default 1000
   */
  shutdownGraceMs?: number;
  /**
   * A connection with no open request is closed after this long, in
   * milliseconds: an HTTP/2 session with no stream, an HTTP/1.1 connection
   * waiting for its first request, a TLS handshake. HTTP/1.1 keep-alive
   * between requests stays Node's 5 s when that is shorter. Event streams are
   * open requests, so they are never cut by it.
   * @default 60000
   */
  idleTimeoutMs?: number;
  /**
   * How long a request body may take to arrive in full, in milliseconds; past
   * it the request is answered 408 and its connection (HTTP/2: its stream) closed.
   * @default 10000
   */
  requestBodyTimeoutMs?: number;
  /**
   * Most concurrent streams a client may open on one HTTP/2 connection
   * (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused.
   * @default 128
   */
  http2MaxConcurrentStreams?: number;
  /** Where unexpected errors are reported (one line each, never to clients). @default a JSON line on stderr */
  onError?: (what: string, err: unknown) => void;
  /**
   * Demo only (the embedded example's demo page, never a configured
   * gateway): a `POST` to this path resets every TCP connection from the
   * requester's address, as a dropped network would, so the page can show a
   * stream resumed without a hole (docs/resume.md).
   * @default undefined (no such route)
   */
  demoCutPath?: string;
}

export interface NodeServer extends AsyncDisposable {
  readonly server: http.Server | http2.Http2SecureServer;
  /** The URL the server listens on, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends the gateway's streams, and closes every connection. */
  close(): Promise<void>;
}

type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Sends a Response: an event stream the listener took (`takeEventStream`)
 * is written by `writeEventStream` (src/node/event-stream.ts); anything else
 * goes through @whatwg-node/server as usual.
 */
function sendResponse(response: Response, req: NodeRequest, res: NodeResponse, taken: EventStream | undefined): unknown {
  if (taken !== undefined && response.status === 200 && response.body === null) return writeEventStream(response, req, res, taken);
  // A stream taken and then not answered after all (an error on the way out) is let go.
  taken?.cancel();
  return sendNodeResponse(response, res as never, req as never, true);
}

/** The generic 500: what went wrong is logged, never sent (no stack, no path). */
const internalError = () => new SubwayError('INTERNAL_SERVER_ERROR', 500, 'Internal server error').toResponse();

/** A request listener for `http.createServer`, `http2.createServer` or `http2.createSecureServer` (with `allowHTTP1`). */
export type NodeListener = (req: NodeRequest, res: NodeResponse) => void;

export interface NodeListenerOptions {
  /**
   * How long a request body may take to arrive in full, in milliseconds; past
   * it the request is answered 408 and its connection (HTTP/2: its stream) closed.
   * @default 10000
   */
  requestBodyTimeoutMs?: number;
  /** Where unexpected errors are reported (one line each, never to clients). @default a JSON line on stderr */
  onError?: (what: string, err: unknown) => void;
}

/**
 * The gateway as a Node request listener, for an `http` or `http2` server of
 * your own (`serveNode` uses it too). It aborts a stream when its client goes
 * away, over HTTP/2 as well, and writes event streams straight to the socket
 * (src/node/event-stream.ts).
 * The request URL is made from the path alone, never from `Host`
 * (src/node/request.ts); a body that does not arrive in time is a 408; an
 * internal error is a generic 500 and one log line. Closing the server, and
 * its connection time-outs, are yours (`serveNode` sets them, see
 * src/node/connections.ts): `gateway.dispose()` ends the streams.
 */
export function createNodeListener(gateway: Gateway, options: NodeListenerOptions = {}): NodeListener {
  const onError = options.onError ?? ((what: string, err: unknown) => process.stderr.write(`${logLine('error', what, err)}\n`));
  const bodyTimeoutMs = options.requestBodyTimeoutMs ?? DEFAULTS.requestBodyTimeoutMs;
  // An event stream is taken from the gateway (`takeEventStream`) and written
  // here, its end tied to the response's 'close' (which Node's HTTP/2
  // compatibility layer emits when the client resets a stream; it emits
  // 'finish' too early for that): no abort signal per stream. A request with a
  // body gets a signal, tied to 'close' too, for reading the body.
  return (req, res) => {
    let taken: EventStream | undefined;
    let signal: AbortSignal | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const controller = new AbortController();
      res.once('close', () => controller.abort());
      signal = controller.signal;
    }
    watchRequestBody(req, res, bodyTimeoutMs);
    const context: RequestContext = {
      signal,
      clientAddress: req.socket?.remoteAddress,
      takeEventStream(stream) {
        if (req.method === 'HEAD') return false;
        taken = stream;
        return true;
      },
    };
    // The request URL's origin: fixed, never the Host header (see src/node/request.ts).
    const origin = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https://localhost' : 'http://localhost';
    Promise.resolve()
      .then(() => gateway.fetch(toWebRequest(req, origin, signal), context))
      .catch((err: unknown) => {
        // A request no Web Request can carry is the client's (400); anything else is ours, logged, never shown.
        if (err instanceof SubwayError) return err.toResponse();
        onError('internal error', err);
        return internalError();
      })
      .then((response) => sendResponse(response, req, res, taken))
      .catch((err: unknown) => {
        onError('could not send a response', err);
        res.destroy();
      });
  };
}

export async function serveNode(gateway: Gateway, options: NodeServerOptions = {}): Promise<NodeServer> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs;
  const bodyTimeoutMs = options.requestBodyTimeoutMs ?? DEFAULTS.requestBodyTimeoutMs;
  const sockets = new Set<Socket>();
  const gatewayListener = createNodeListener(gateway, { requestBodyTimeoutMs: bodyTimeoutMs, onError: options.onError });
  const cutPath = options.demoCutPath;
  const listener: NodeListener =
    cutPath === undefined
      ? gatewayListener
      : (req, res) => {
          if (req.method !== 'POST' || req.url !== cutPath) return gatewayListener(req, res);
          // No answer: the connection this request came on is one of those reset.
          const address = req.socket?.remoteAddress;
          for (const socket of sockets) if (socket.remoteAddress === address) socket.resetAndDestroy();
        };
  const timeouts = connectionTimeouts(idleTimeoutMs, bodyTimeoutMs);
  const server = options.tls
    ? http2.createSecureServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          allowHTTP1: true,
          handshakeTimeout: idleTimeoutMs,
          settings: { maxConcurrentStreams: options.http2MaxConcurrentStreams ?? DEFAULTS.http2MaxConcurrentStreams },
        },
        listener,
      )
    : http.createServer(timeouts, listener);
  // The HTTP/1.1 fallback of the HTTP/2 server keeps these as properties.
  if (options.tls) Object.assign(server, timeouts);
  const sessions = new Set<http2.ServerHttp2Session>();
  // Every TCP connection, to drop on close: a session destroyed under a peer that vanished (its TCP connection
  // reset mid-write) may wait forever for its socket to end, and never emit 'close'.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  if (options.tls) {
    (server as http2.Http2SecureServer).on('session', (s) => {
      sessions.add(s);
      const forget = () => sessions.delete(s);
      s.once('close', forget);
      s.socket.once('close', forget);
    });
    closeIdleSessions(server as http2.Http2SecureServer, idleTimeoutMs);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.dispose();
      for (const s of sessions) s.close();
      if (server instanceof http.Server) server.closeIdleConnections();
      // Streams were ended by dispose; give their last bytes a moment, then drop what lingers.
      const force = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const socket of sockets) socket.destroy();
        if (server instanceof http.Server) server.closeAllConnections();
      }, options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs);
      await closed;
      clearTimeout(force);
    })());
  return {
    server,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    port: address.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
