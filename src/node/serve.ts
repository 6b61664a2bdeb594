/**
 * The Node adapter: serves a gateway's Web `fetch` handler on `node:http`
 * (plain HTTP/1.1) or `node:http2` (TLS, HTTP/2 with HTTP/1.1 as the ALPN
 * fallback), through @whatwg-node/server, and supplies the `ws` WebSocket.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServerAdapter, handleErrorFromRequestHandler, sendNodeResponse } from '@whatwg-node/server';
import WebSocket from 'ws';
import type { Gateway, RequestContext } from '../core/gateway.ts';
import { directWriterOf } from '../core/sse/stream.ts';
import { DEFAULTS } from '../core/defaults.ts';

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
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: false, maxPayload: options.maxPayload, headers: options.headers });
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error' && (args[0] as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#tooBig = true;
      if (event === 'close' && this.#tooBig) return super.emit(event, 1009, Buffer.from('Message too big'));
      return super.emit(event, ...args);
    }
  };
}

/** A `NodeWebSocket` that sends these headers on the upgrade request. */
export const nodeWebSocketWithHeaders = (headers: Record<string, string>): typeof NodeWebSocket => createNodeWebSocket({ headers });

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
}

export interface NodeServer extends AsyncDisposable {
  readonly server: http.Server | http2.Http2SecureServer;
  /** The URL the server listens on, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends the gateway's streams, and closes every connection. */
  close(): Promise<void>;
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Sends a Response. An event stream (src/core/sse/stream.ts) skips the Web stream:
 * each frame is one `res.write` of its text, encoded once by Node into the
 * socket's buffer, instead of a TextEncoder chunk pumped through a reader and
 * its promises (about 30% more events per CPU-second in the benchmark). The
 * stream's queue and bounds still apply: `write` returning false holds its
 * frames until 'drain', as @whatwg-node/server's pump would. Anything else
 * goes through @whatwg-node/server as usual.
 */
function sendResponse(response: Response, req: NodeRequest, res: NodeResponse): unknown {
  const attach = req.method === 'HEAD' ? undefined : directWriterOf(response.body);
  if (!attach || res.destroyed || res.writableEnded) return sendNodeResponse(response, res as never, req as never, true);
  const out = res as http.ServerResponse;
  let headed = false;
  const head = () => {
    if (headed) return;
    headed = true;
    response.headers.forEach((value, key) => {
      if (key !== 'set-cookie') out.setHeader(key, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) out.setHeader('set-cookie', cookies);
    out.writeHead(response.status, response.statusText);
    // A long-lived stream: no idle time-out, no Nagle delay (as @whatwg-node/server does for streams).
    req.socket?.setTimeout?.(0);
    req.socket?.setNoDelay?.(true);
    req.socket?.setKeepAlive?.(true);
  };
  const stream = attach({
    write(chunk) {
      if (out.destroyed) throw new Error('the response was destroyed');
      head();
      return out.write(chunk);
    },
    byteLength: (text) => Buffer.byteLength(text),
    end() {
      head();
      if (!out.destroyed && !out.writableEnded) out.end();
    },
  });
  if (!stream) return sendNodeResponse(response, res as never, req as never, true);
  res.on('drain', stream.drained);
  res.once('close', () => {
    res.off('drain', stream.drained);
    stream.cancel();
  });
  return undefined;
}

/** A request listener for `http.createServer`, `http2.createServer` or `http2.createSecureServer` (with `allowHTTP1`). */
export type NodeListener = (req: NodeRequest, res: NodeResponse) => void;

/**
 * The gateway as a Node request listener, for an `http` or `http2` server of
 * your own (`serveNode` uses it too). It aborts a stream when its client goes
 * away, over HTTP/2 as well, and writes event streams straight to the socket.
 * Closing the server is yours: `gateway.dispose()` ends the streams.
 */
export function createNodeListener(gateway: Gateway): NodeListener {
  // Native Request/Response, so a Response's ReadableStream body is streamed as it is.
  const adapter = createServerAdapter<RequestContext>((request, context) => gateway.fetch(request, context), {
    fetchAPI: { Request, Response, Headers, ReadableStream, URL, URLSearchParams, fetch } as never,
  });
  // @whatwg-node/server stops listening for 'close' once the response emits
  // 'finish', and Node's HTTP/2 compatibility layer emits 'finish' when the
  // client resets the stream: an EventSource closed over HTTP/2 would never
  // abort the request. Our own signal, tied to 'close', always does.
  return (req, res) => {
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const context = { signal: controller.signal, clientAddress: req.socket.remoteAddress };
    // The adapter's own request listener, with our sender in place of sendNodeResponse (see sendResponse).
    Promise.resolve()
      .then(() => adapter.handleNodeRequestAndResponse(req as never, res as never, context))
      .catch((err: unknown) => handleErrorFromRequestHandler(err, Response))
      .then((response) => sendResponse(response, req, res))
      .catch((err: unknown) => console.error('[subway] could not send a response', err));
  };
}

export async function serveNode(gateway: Gateway, options: NodeServerOptions = {}): Promise<NodeServer> {
  const listener = createNodeListener(gateway);
  const server = options.tls
    ? http2.createSecureServer({ cert: options.tls.cert, key: options.tls.key, allowHTTP1: true }, listener)
    : http.createServer(listener);
  const sessions = new Set<http2.ServerHttp2Session>();
  if (options.tls) {
    (server as http2.Http2SecureServer).on('session', (s) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
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
