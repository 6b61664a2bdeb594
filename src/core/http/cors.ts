/**
 * CORS with an explicit allow-list of origins. A listed origin may read
 * responses with credentials (cookies, `EventSource({ withCredentials: true })`);
 * `*` lets any origin read without credentials (never `*` with credentials,
 * which browsers refuse anyway). Hand-written rather than Hono's `cors()`
 * middleware because the gateway also refuses unlisted origins before any
 * upstream work, answers preflights with its JSON error shape, and must not
 * echo arbitrary request headers.
 */
import { SubwayError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';

export interface CorsOptions {
  /**
   * Origins allowed to read responses, exactly as browsers send them
   * (`https://app.example.com`, no path). `["*"]` allows any origin, without credentials.
   * @default [] (no cross-origin access: no CORS headers, and no origin is refused)
   */
  origins?: readonly string[];
  /**
   * Request headers a preflight may ask for, besides `accept`, `content-type` and `last-event-id`.
   * @default []
   */
  allowHeaders?: readonly string[];
  /**
   * How long a browser may cache a preflight answer, in seconds.
   * @default 600
   */
  maxAgeS?: number;
}

export interface Cors {
  /** Throws `ORIGIN_NOT_ALLOWED` (403) for a cross-origin request from an unlisted origin, when a list is configured. */
  check(request: Request): void;
  /** The CORS headers a response to this request carries. */
  headers(request: Request): Record<string, string>;
  /** Answers an `OPTIONS` preflight. */
  preflight(request: Request): Response;
}

const BASE_HEADERS = ['accept', 'content-type', 'last-event-id'];
/** Response headers a cross-origin page may read besides the safelisted ones: `Subway-Resume`. */
const EXPOSED = 'subway-resume';

/**
 * Whether `origin` is the request's own: its host (and port) is the request's
 * `Host`, as the browser that sent both saw the page; without a `Host`, the
 * request URL's origin. (On Node the URL is made from the path alone and a
 * fixed origin, so `Host` is what says where the browser thinks it is.)
 */
function sameOrigin(origin: string, request: Request): boolean {
  const host = request.headers.get('host');
  if (host === null) return origin === new URL(request.url).origin;
  try {
    const url = new URL(origin);
    // Parsed with the origin's scheme, so a default port written out (`:443`) compares equal to none.
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

export function createCors(options: CorsOptions = {}): Cors {
  const origins = new Set(options.origins ?? []);
  const any = origins.has('*');
  const configured = origins.size > 0;
  const allowHeaders = [...new Set([...BASE_HEADERS, ...(options.allowHeaders ?? []).map((h) => h.toLowerCase())])]
    // Browsers never let pages set a cookie header; listing it would mislead.
    .filter((h) => h !== 'cookie')
    .join(', ');
  const maxAge = String(options.maxAgeS ?? DEFAULTS.corsMaxAgeS);

  const crossOrigin = (request: Request): string | undefined => {
    const origin = request.headers.get('origin');
    if (origin === null) return undefined;
    return sameOrigin(origin, request) ? undefined : origin;
  };
  const listed = (origin: string) => any || origins.has(origin);

  const headers = (request: Request): Record<string, string> => {
    if (!configured) return {};
    const origin = crossOrigin(request);
    // A fetch-based client (graphql-sse) on another origin may read whether its stream resumed (docs/resume.md).
    if (any) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED };
    const out: Record<string, string> = { vary: 'origin' };
    if (origin !== undefined && listed(origin)) {
      out['access-control-allow-origin'] = origin;
      out['access-control-allow-credentials'] = 'true';
      out['access-control-expose-headers'] = EXPOSED;
    }
    return out;
  };

  const check = (request: Request) => {
    if (!configured) return;
    const origin = crossOrigin(request);
    if (origin !== undefined && !listed(origin)) {
      throw new SubwayError('ORIGIN_NOT_ALLOWED', 403, 'This origin is not allowed to use the gateway.', { headers: { vary: 'origin' } });
    }
  };

  return {
    check,
    headers,
    preflight(request) {
      check(request);
      return new Response(null, {
        status: 204,
        headers: {
          ...headers(request),
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': allowHeaders,
          'access-control-max-age': maxAge,
        },
      });
    },
  };
}
