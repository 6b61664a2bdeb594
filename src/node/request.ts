/**
 * A Node request as a Web `Request` whose URL comes from the request's path
 * alone. @whatwg-node/server builds the URL from the `Host` header
 * (`http://${host}${path}`), so `Host: x/metrics?` made `GET /graphql` a
 * request for `/metrics`, past any proxy rule on paths. Here the origin is a
 * fixed one and `Host` is only passed on as a header (which the gateway
 * checks and never parses into a URL).
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import { SubwayError } from '../core/errors.ts';

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;

/**
 * Methods the Fetch API refuses to carry in a `Request`. They are passed to
 * the gateway under a stand-in name that no route serves, so it answers them
 * like any other method it does not serve (405 with the route's `Allow`, or
 * 404), without a `Request` that cannot be made.
 */
const UNREPRESENTABLE = new Set(['CONNECT', 'TRACE', 'TRACK']);
export const UNSUPPORTED_METHOD = 'X-UNSUPPORTED-METHOD';

const badRequest = (message: string) => new SubwayError('BAD_REQUEST', 400, message);

/**
 * The path and query of a request target: origin-form (`/graphql?id=…`) as it
 * is, absolute-form (`http://host/graphql`, which HTTP/1.1 servers must
 * accept) by its path alone; anything else (`*`, an authority) is refused.
 */
function pathOf(target: string | undefined): string {
  if (target?.startsWith('/')) return target;
  if (target && /^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.pathname}${url.search}`;
    } catch {
      // Refused below.
    }
  }
  throw badRequest('The request target must be a path.');
}

/** The request's headers without HTTP/2 pseudo-headers; `:authority` stands in for a missing `host`. */
function headersOf(req: NodeRequest): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  let authority: string | undefined;
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.startsWith(':')) {
        if (name === ':authority') authority = raw[i + 1];
        continue;
      }
      headers.append(name, raw[i + 1]!);
    }
  } catch {
    throw badRequest('A request header is malformed.');
  }
  if (authority !== undefined && !headers.has('host')) headers.set('host', authority);
  return headers;
}

/**
 * The Web `Request` of a Node request: `origin` (e.g. `https://localhost`)
 * and the request's path; its headers; its body streamed as it arrives.
 * Throws a `BAD_REQUEST` `SubwayError` for a target or headers no request can carry.
 */
export function toWebRequest(req: NodeRequest, origin: string, signal?: AbortSignal): Request {
  const path = pathOf(req.url);
  const method = UNREPRESENTABLE.has(req.method?.toUpperCase() ?? '') ? UNSUPPORTED_METHOD : (req.method ?? 'GET');
  const headers = headersOf(req);
  let url: string;
  try {
    // Concatenated, never resolved against a base: `//evil/x` stays a path.
    url = new URL(`${origin}${path}`).href;
  } catch {
    throw badRequest('The request target is not a valid path.');
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  try {
    return new Request(url, {
      method,
      headers,
      ...(signal ? { signal } : {}),
      ...(hasBody ? { body: req as unknown as AsyncIterable<Uint8Array> as never, duplex: 'half' } : {}),
    } as RequestInit);
  } catch {
    throw badRequest('The request cannot be read.');
  }
}

/** Whether a request has a body still to come: HTTP/1.1 by its framing headers, HTTP/2 by its stream. */
export function expectsBody(req: NodeRequest): boolean {
  const stream = (req as http2.Http2ServerRequest).stream as http2.ServerHttp2Stream | undefined;
  if (stream) return !stream.endAfterHeaders && !req.readableEnded;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
