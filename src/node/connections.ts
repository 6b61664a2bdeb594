/**
 * Connection-level defences of the Node server: what a client that holds a
 * connection without using it, or sends a body it never finishes, can cost.
 *
 * - A connection with no open request is closed after `idleTimeoutMs`: an
 *   HTTP/1.1 connection waiting for its first request by Node's own
 *   `headersTimeout` (checked every second), between requests by its
 *   keep-alive time-out (5 s, or less), a TLS handshake by `handshakeTimeout`,
 *   and an HTTP/2 session with no open stream by a timer of its own here
 *   (Node's session `timeout` counts any frame as activity, so a PING would
 *   keep a session alive, and a silent event stream would be cut).
 * - A request body that has not arrived in full within `bodyTimeoutMs` is
 *   answered 408 and its connection (HTTP/2: its stream) closed.
 *
 * Event streams are open requests whose bodies have arrived: neither applies
 * to them, however long they stay silent.
 */
import type http from 'node:http';
import http2 from 'node:http2';
import { SubwayError } from '../core/errors.ts';
import { expectsBody, type NodeRequest } from './request.ts';

type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** How often Node checks HTTP/1.1 connections against their time-outs. */
const CHECK_INTERVAL_MS = 1000;
/** Node's own keep-alive time-out, kept when the idle time-out is longer. */
const NODE_KEEP_ALIVE_MS = 5000;

/** The HTTP/1.1 time-outs (`http.ServerOptions`; the HTTP/2 server's HTTP/1.1 fallback reads them as properties). */
export function connectionTimeouts(idleTimeoutMs: number, bodyTimeoutMs: number) {
  // Checked once a second: a connection that sent nothing is closed within idleTimeoutMs.
  const headersTimeout = Math.max(CHECK_INTERVAL_MS, idleTimeoutMs - CHECK_INTERVAL_MS);
  return {
    headersTimeout,
    // Node's own 408 (no body) as a backstop behind watchRequestBody's.
    requestTimeout: headersTimeout + bodyTimeoutMs + CHECK_INTERVAL_MS,
    keepAliveTimeout: Math.min(NODE_KEEP_ALIVE_MS, idleTimeoutMs),
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
  };
}

/** Closes each HTTP/2 session that has had no open stream for `idleTimeoutMs`. */
export function closeIdleSessions(server: http2.Http2SecureServer, idleTimeoutMs: number): void {
  server.on('session', (session) => {
    let open = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(() => {
        if (open > 0 || session.closed || session.destroyed) return;
        // GOAWAY, then the socket closes: there is no stream to wait for.
        session.close();
        setTimeout(() => session.destroy(), CHECK_INTERVAL_MS).unref();
      }, idleTimeoutMs);
      timer.unref();
    };
    arm();
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      if (open++ === 0) clearTimeout(timer);
      stream.once('close', () => {
        if (--open === 0 && !session.closed && !session.destroyed) arm();
      });
    });
    session.once('close', () => clearTimeout(timer));
  });
}

/**
 * Answers 408 `REQUEST_TIMEOUT` and closes the connection (HTTP/2: resets the
 * stream, the session's other streams go on) when the request's body has not
 * arrived in full within `ms`. Already answered (an early refusal), it only closes.
 */
export function watchRequestBody(req: NodeRequest, res: NodeResponse, ms: number): void {
  if (!expectsBody(req)) return;
  const timer = setTimeout(() => {
    const stream = (res as http2.Http2ServerResponse).stream as http2.ServerHttp2Stream | undefined;
    if (!res.headersSent && !res.destroyed) {
      const body = JSON.stringify(new SubwayError('REQUEST_TIMEOUT', 408, `The request body did not arrive within ${ms} ms.`).toJSON());
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) };
      // HTTP/1.1: Node closes the connection once this response is sent.
      if (!stream) headers.connection = 'close';
      (res as http.ServerResponse).writeHead(408, headers);
      res.end(body);
      // NO_ERROR waits for the response to be written, then resets the stream: the rest of the body is not wanted.
      stream?.close(http2.constants.NGHTTP2_NO_ERROR);
    } else if (stream) {
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
    } else {
      req.socket?.destroy();
    }
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  res.once('close', clear);
}
