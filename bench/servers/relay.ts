/**
 * The raw limit: a minimal relay with no GraphQL library and no framework.
 * Each GET opens one `ws` socket upstream (per-message deflate off), speaks
 * just enough graphql-transport-ws (connection_init, subscribe), and writes
 * each upstream message's text straight into the HTTP response as one SSE
 * `data:` line, in one `res.write`. Closing the response closes the socket.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { BENCH_OPERATION } from '../schema.ts';
import { ready, serverArgs } from './common.ts';

const { upstream, tls } = serverArgs();

// One handler for both: the HTTP/2 compatibility API has the same writeHead/write/end as node:http.
function handle(req: http.IncomingMessage | http2.Http2ServerRequest, response: http.ServerResponse | http2.Http2ServerResponse) {
  const res = response as http.ServerResponse;
  const variables = JSON.parse(new URL(req.url ?? '/', 'http://x').searchParams.get('variables') ?? '{}');
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(':\n\n');
  const ws = new WebSocket(upstream, 'graphql-transport-ws', { perMessageDeflate: false });
  ws.on('open', () => ws.send('{"type":"connection_init"}'));
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text.startsWith('{"type":"connection_ack"')) {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: BENCH_OPERATION, variables } }));
    } else if (text.includes('"type":"next"')) {
      res.write(`event: next\ndata: ${text}\n\n`);
    } else if (text.includes('"type":"complete"')) {
      res.end('event: complete\ndata:\n\n');
      ws.close();
    }
  });
  ws.on('error', () => res.end());
  ws.on('close', () => res.end());
  res.on('close', () => ws.close());
}

const server = tls ? http2.createSecureServer({ ...tls, allowHTTP1: true }, handle) : http.createServer(handle);
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => ready((server.address() as AddressInfo).port));
