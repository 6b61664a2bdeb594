/**
 * The gateway's HTTP surface, on Hono: the operations' path (GET and POST,
 * CORS, `Accept`), the operations list, health and readiness, metrics, and
 * the JSON error for everything refused.
 */
import { Hono, type Context } from 'hono';
import { SubwayError, toSubwayError } from '../errors.ts';
import { acceptsEventStream } from '../http/accept.ts';
import type { Cors } from '../http/cors.ts';
import { checkHost } from '../http/host.ts';
import { describeOperations } from '../http/operations.ts';
import { readOperationRequest, type OperationRequest } from '../http/params.ts';
import { readPostRequest } from '../http/post.ts';
import { checkJsonDepth, checkQueryString, checkVariablesSize } from '../limits/request-size.ts';
import type { Instrumentation } from '../observability/instrumentation.ts';
import type { Registry } from '../operations/registry.ts';
import { DEFAULTS } from '../defaults.ts';
import type { GatewayOptions, RequestContext } from './options.ts';

type Ctx = Context<{ Bindings: RequestContext }>;

export interface Routes {
  readonly options: GatewayOptions;
  readonly cors: Cors;
  readonly hooks: Required<Instrumentation>;
  registry(): Registry;
  /** Throws 503 once the gateway is stopping. */
  checkRunning(): void;
  readonly disposed: boolean;
  /** Whether the subscription limit is reached (the gateway is full). */
  readonly full: boolean;
  /** Streams open now. */
  readonly streams: number;
  readonly upstreamFailures: number;
  serve(c: Ctx, request: OperationRequest, method: 'GET' | 'POST'): Promise<Response>;
  onInternalError(err: unknown): void;
}

/** A 405 whose `Allow` names the methods the route serves (`"GET, POST"`). */
function methodNotAllowed(route: string, allow: string): SubwayError {
  return new SubwayError('METHOD_NOT_ALLOWED', 405, `Only ${allow.replace(', ', ' and ')} are served on ${route}.`, { headers: { allow } });
}

export function createRoutes(routes: Routes): Hono<{ Bindings: RequestContext }> {
  const { options, cors, hooks } = routes;
  const path = options.path ?? DEFAULTS.path;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const app = new Hono<{ Bindings: RequestContext }>();

  app.use('*', async (c, next) => {
    // Before any route: a malformed Host is refused, never read.
    checkHost(c.req.raw.headers);
    await next();
    for (const [k, v] of Object.entries(cors.headers(c.req.raw))) c.res.headers.set(k, v);
  });

  const admit = (c: Ctx) => {
    routes.checkRunning();
    cors.check(c.req.raw);
    if (!acceptsEventStream(c.req.header('accept'))) {
      throw new SubwayError('NOT_ACCEPTABLE', 406, 'This endpoint serves text/event-stream; send "Accept: text/event-stream".');
    }
  };

  const GRAPHQL_METHODS = 'GET, POST';
  app.get(path, (c) => {
    // Hono answers HEAD with the GET route: a HEAD must not open an upstream subscription.
    if (c.req.method === 'HEAD') throw methodNotAllowed(path, GRAPHQL_METHODS);
    checkQueryString(c.req.url, options);
    admit(c);
    const params = new URL(c.req.url).searchParams;
    // Size, then depth, on the text: before anything parses it.
    for (const raw of params.getAll('variables')) {
      checkVariablesSize(raw, options);
      checkJsonDepth(raw, options, 'The "variables" parameter', { extensions: { parameter: 'variables' } });
    }
    for (const raw of params.getAll('extensions')) checkJsonDepth(raw, options, 'The "extensions" parameter', { extensions: { parameter: 'extensions' } });
    return routes.serve(c, readOperationRequest(params), 'GET');
  });
  app.post(path, async (c) => {
    admit(c);
    const request = await readPostRequest(c.req.raw, maxBodyBytes, options);
    checkVariablesSize(JSON.stringify(request.variables), options);
    return routes.serve(c, request, 'POST');
  });

  app.options('*', (c) => cors.preflight(c.req.raw));
  app.all(path, () => {
    throw methodNotAllowed(path, GRAPHQL_METHODS);
  });
  /** A read-only route: GET (and HEAD, which Hono answers with it); any other method is a 405. */
  const readOnly = (route: string, handler: (c: Ctx) => Response | Promise<Response>) => {
    app.get(route, handler);
    app.all(route, () => {
      throw methodNotAllowed(route, 'GET, HEAD');
    });
  };
  if (options.listOperations ?? DEFAULTS.listOperations) readOnly('/operations', (c) => c.json(describeOperations(routes.registry())));
  readOnly('/healthz', (c) => c.json({ status: routes.disposed ? 'shutting-down' : 'ok' }, routes.disposed ? 503 : 200));
  readOnly('/readyz', (c) => {
    // Not ready while stopping, or while full (a load balancer should send new clients elsewhere).
    const status = routes.disposed ? 'shutting-down' : routes.full ? 'full' : 'ready';
    return c.json({ status, streams: routes.streams, upstreamFailures: routes.upstreamFailures }, status === 'ready' ? 200 : 503);
  });
  if (options.metrics) {
    const metrics = options.metrics;
    readOnly('/metrics', async () => {
      const { contentType, body } = await metrics();
      return new Response(body, { headers: { 'content-type': contentType } });
    });
  }
  app.notFound((c) => {
    hooks.onRejection('NOT_FOUND', 404);
    return new SubwayError('NOT_FOUND', 404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`).toResponse();
  });
  app.onError((err) => {
    const error = toSubwayError(err);
    if (error.code === 'INTERNAL_SERVER_ERROR') routes.onInternalError(error.cause ?? err);
    hooks.onRejection(error.code, error.status);
    return error.toResponse();
  });
  return app;
}
