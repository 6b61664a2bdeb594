/**
 * `SubwayHub`, the Durable Object that shares upstream subscriptions on
 * Cloudflare Workers (docs/workers.md, "Sharing and resuming").
 *
 * A Worker isolate may not use a socket another request opened, so what
 * streams share must live in a place that outlives a request: one object per
 * sharing key (src/worker/delegate.ts names it by a digest of the key, never
 * by a credential). The Worker admits a request as it always does (route,
 * id, variables, CORS, limits, the `connectionParams` hook) and hands the
 * admitted subscription (src/core/gateway/admitted.ts) to the object, whose
 * response body is the client's event stream. The object runs the gateway
 * core as the Node server does, with nothing isolated: one `Pool` of upstream
 * sockets, one `Hubs` (each upstream result encoded once, written to every
 * stream attached to it; the resume buffer), one heartbeat sweep. In a
 * Durable Object a socket or timer made while serving one request serves
 * every other request to the object (test/worker/objects.test.ts proves it on
 * workerd), which a Worker's requests may not do.
 *
 * Teardown is the core's: the last stream leaving ends the upstream
 * subscription (after the resume window, if any), the socket closes after
 * `UPSTREAM_IDLE_MS`, and with no stream, socket or timer left the object
 * holds nothing and is evicted. It sets no alarm and stores nothing.
 *
 * Routes (reachable only through the binding, never from the internet):
 * `POST /subscribe` with an admitted subscription as its JSON body, and
 * `GET /stats` (what it holds). One object of the class, `subway/stats`,
 * sums the others' reports for the Worker's `/metrics` instead
 * (`POST /report`, `GET /metrics`; see stats.ts).
 */
import { ConfigError, gatewayOptions, readGatewayConfig } from '../core/config.ts';
import { createGateway, type AdmittedSubscription, type Gateway } from '../core/gateway.ts';
import { SubwayError } from '../core/errors.ts';
import { GraphQLSchema } from 'graphql';
import type { Registry } from '../core/operations/registry.ts';
import { countingTimers, type CountingTimers } from './timers.ts';
import { workerSettings, type WorkerEnv } from './settings.ts';
import { createStatsReporter, METRICS_PATH, REPORT_PATH, StatsAggregate, type Report, type StatsReporter } from './stats.ts';

/** The part of workerd's `DurableObjectState` the object uses. */
export interface HubObjectState {
  /** Keeps the object running a promise after a response ended. */
  waitUntil?(promise: Promise<unknown>): void;
  /** The object's id (`toString()` is its hex). */
  readonly id?: { toString(): string; readonly name?: string };
}

/** The path of the hand-off; the host part of the URL is not looked at. */
export const SUBSCRIBE_PATH = '/subscribe';
export const STATS_PATH = '/stats';

/** An object serves admitted subscriptions, never registered operations by id: its gateway's allow-list is empty. */
const NO_OPERATIONS: Registry = { resolve: () => undefined, operations: [], inputSchema: new GraphQLSchema({}) };

export class SubwayHub {
  private readonly state: HubObjectState;
  private readonly env: WorkerEnv;
  private gateway: Gateway | undefined;
  private timers: CountingTimers | undefined;
  private reporter: StatsReporter | undefined;
  private aggregate: StatsAggregate | undefined;
  /** Resumes this object answered, by outcome. */
  private readonly resumes = { replayed: 0, gap: 0 };

  constructor(state: HubObjectState, env: WorkerEnv) {
    this.state = state;
    this.env = env;
  }

  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === SUBSCRIBE_PATH && request.method === 'POST') return this.subscribe(request);
    if (pathname === STATS_PATH) return Response.json(this.stats());
    if (pathname === REPORT_PATH && request.method === 'POST') {
      (this.aggregate ??= new StatsAggregate()).report((await request.json()) as Report);
      return new Response(null, { status: 204 });
    }
    if (pathname === METRICS_PATH) {
      return new Response((this.aggregate ??= new StatsAggregate()).render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
    }
    return new SubwayError('NOT_FOUND', 404, `No route for ${request.method} ${pathname}.`).toResponse();
  }

  private async subscribe(request: Request): Promise<Response> {
    const subscription = (await request.json()) as AdmittedSubscription;
    const gateway = this.build();
    if (!gateway) return misconfigured();
    return gateway.serveAdmitted(subscription, {
      signal: request.signal,
      waitUntil: this.state.waitUntil ? (promise) => this.state.waitUntil!(promise) : undefined,
    });
  }

  /** What the object holds now: what `/metrics` sums, and what shows it holds nothing once its streams are gone. */
  stats(): HubObjectStats {
    const sharing = this.gateway?.sharingStats();
    const resume = this.gateway?.resumeStats();
    return {
      streams: sharing?.subscribers ?? 0,
      upstreamSockets: sharing?.upstreamSockets ?? 0,
      upstreamSubscriptions: sharing?.upstreamSubscriptions ?? 0,
      framesEncoded: sharing?.framesEncoded ?? 0,
      framesWritten: sharing?.framesWritten ?? 0,
      timers: this.timers?.pending ?? 0,
      lingering: resume?.lingering ?? 0,
      bufferedEvents: resume?.bufferedEvents ?? 0,
      bufferedBytes: resume?.bufferedBytes ?? 0,
      resumesReplayed: this.resumes.replayed,
      resumesGap: this.resumes.gap,
    };
  }

  /** The object's gateway, built on its first subscription from the Worker's vars (the same settings as the Worker). */
  private build(): Gateway | undefined {
    if (this.gateway) return this.gateway;
    let config;
    try {
      config = readGatewayConfig(workerSettings(this.env));
      if (!config.upstreamUrl) throw new ConfigError('UPSTREAM_URL is not set.');
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`[subway] ${err.message}`);
        return undefined;
      }
      throw err;
    }
    // Every timer of the object is counted: an object with none pending (and no socket) holds nothing.
    const timers = (this.timers = countingTimers());
    this.reporter = createStatsReporter(this.env, this.state, () => this.stats(), timers, Date.now, (outcome) => this.resumes[outcome]++);
    const options = gatewayOptions(config, { url: config.upstreamUrl, webSocketImpl: globalThis.WebSocket });
    this.gateway = createGateway({
      registry: NO_OPERATIONS,
      ...options,
      upstream: { ...options.upstream, timers },
      timers,
      instrumentation: this.reporter?.instrumentation,
    });
    return this.gateway;
  }
}

/** What one object holds now (`GET /stats`). */
export interface HubObjectStats {
  /** Client streams attached. */
  streams: number;
  /** Upstream sockets open or opening. */
  upstreamSockets: number;
  /** Upstream subscriptions running. */
  upstreamSubscriptions: number;
  /** Upstream results encoded, since the object started. */
  framesEncoded: number;
  /** Frames handed to streams, since the object started. */
  framesWritten: number;
  /** Timers set and not yet fired or cleared (heartbeat, linger, idle, keep-alive, reports). */
  timers: number;
  /** Upstream subscriptions lingering with nobody attached (RESUME_WINDOW_MS). */
  lingering: number;
  /** Events and bytes kept for resuming clients. */
  bufferedEvents: number;
  bufferedBytes: number;
  /** Resumes answered since the object started, replayed and gaps. */
  resumesReplayed: number;
  resumesGap: number;
}

function misconfigured(): Response {
  return Response.json(
    { errors: [{ message: 'The gateway is misconfigured.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' } },
  );
}
