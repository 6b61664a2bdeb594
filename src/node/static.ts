/**
 * Serves a folder of built files (the demo page) in front of a gateway, on
 * the Node side only: the gateway's core keeps its HTTP contract, and a
 * deployment without the demo serves nothing but the API.
 *
 * Hand-written (about forty lines) because Hono's static middleware for Node
 * lives in @hono/node-server, an adapter subway does not use (it serves through
 * @whatwg-node/server), and the folder is small and known: read on request,
 * no directory listings, nothing outside the root.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { SubwayError } from '../core/errors.ts';
import type { Gateway, RequestContext } from '../core/gateway.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** Read failures that mean "no such file here" (the request falls through to the gateway's 404). */
const NOT_A_FILE = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'ERR_INVALID_ARG_VALUE']);

/**
 * Answers GET/HEAD for files under `root` (`/` is `index.html`), 405 for
 * another method on such a file; `undefined` for everything else. A failure
 * to read is never shown to the client (no message, no path): a missing file
 * falls through, anything else is thrown to the server, which logs it and
 * answers a generic 500.
 */
export function createStaticHandler(root: string): (request: Request) => Promise<Response | undefined> {
  const base = resolve(root);
  return async (request) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return undefined;
    }
    if (pathname.includes('\0')) return undefined;
    const file = resolve(base, `.${pathname === '/' ? '/index.html' : pathname}`);
    const type = TYPES[extname(file)];
    if (!type || !file.startsWith(base + sep)) return undefined;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      if (NOT_A_FILE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new SubwayError('METHOD_NOT_ALLOWED', 405, 'Only GET and HEAD are served on this page.', { headers: { allow: 'GET, HEAD' } }).toResponse();
    }
    // Vite names built assets by content hash: they never change; the page itself always revalidates.
    const immutable = pathname.startsWith('/assets/');
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      headers: {
        'content-type': type,
        'content-length': String(body.byteLength),
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      },
    });
  };
}

/** The gateway with static files in front: a file that exists is served, any other request goes to the gateway. */
export function withStatic(gateway: Gateway, serve: (request: Request) => Promise<Response | undefined>): Gateway {
  return {
    ...gateway,
    fetch: async (request: Request, context?: RequestContext) => (await serve(request)) ?? gateway.fetch(request, context),
  };
}
