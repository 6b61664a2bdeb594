/**
 * The server's configuration, read from the environment. Every setting is
 * described once, here; `npm run docs:config` prints the README's table from
 * this list and a test checks the README against it.
 */
import type { GatewayOptions } from './gateway.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, UPSTREAM_PROTOCOLS, type UpstreamProtocol } from './upstream/subscribe.ts';

/** A configuration error: names the variable and what is wrong with it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The settings of the gateway itself, the same on every runtime: Node reads
 * them from the environment, a Worker from its vars (`WORKER_SETTINGS`).
 */
export interface GatewayConfig {
  /** The upstream graphql-ws endpoint (`ws://` or `wss://`); unset runs the embedded example upstream. */
  upstreamUrl: string | undefined;
  /** Which upstream protocol to offer and speak. @default "auto" */
  upstreamProtocol: UpstreamProtocol;
  /** Milliseconds the upstream WebSocket upgrade may take. @default 10000 */
  upstreamConnectTimeoutMs: number;
  /** Milliseconds the upstream may take to send `connection_ack`. @default 10000 */
  upstreamAckTimeoutMs: number;
  /** Interval of graphql-transport-ws pings upstream, in milliseconds; 0 disables them. @default 12000 */
  upstreamKeepAliveMs: number;
  /** Milliseconds a pong may take before the upstream is taken for dead; 0 disables the check. @default 5000 */
  upstreamPongTimeoutMs: number;
  /** The largest upstream message accepted, in bytes. @default 16777216 */
  upstreamMaxMessageBytes: number;
  /** Interval of SSE heartbeat comments, in milliseconds; 0 disables them. @default 15000 */
  heartbeatMs: number;
  /** First reconnection delay told to clients after an upstream failure, in milliseconds; doubles per failure in a row. @default 2000 */
  retryMs: number;
  /** Longest query string served on GET, in bytes; longer gets 414. @default 8192 */
  maxQueryStringBytes: number;
  /** Serve `GET /operations`. @default true */
  listOperations: boolean;
}

/** What the Node server reads on top of the gateway's settings. */
export interface ServerConfig extends GatewayConfig {
  /** TCP port to listen on. @default 4000 */
  port: number;
  /** Interface to listen on. @default "0.0.0.0" */
  host: string;
  /** Folder of the persisted operations and their generated files. @default "persisted-operations" */
  persistedOperations: string;
  /** Path of a PEM certificate; with `tlsKey`, serves HTTP/2 over TLS. */
  tlsCert: string | undefined;
  /** Path of the PEM private key of `tlsCert`. */
  tlsKey: string | undefined;
  /**
   * `self-signed`: serve HTTP/2 over TLS with a development certificate made in `.dev-certs/`;
   * `off`: plain HTTP/1.1 even for the embedded example. Unset: self-signed for the
   * embedded example, otherwise TLS only with `tlsCert`/`tlsKey`. @default undefined
   */
  tls: 'self-signed' | 'off' | undefined;
}

export interface Setting {
  env: string;
  default: string;
  description: string;
  /** A setting of the gateway itself (`GatewayConfig`): a Worker reads it from its vars too. */
  gateway?: true;
}

/** The documented environment variables, in README order. */
export const SETTINGS: readonly Setting[] = [
  { env: 'UPSTREAM_URL', default: '(unset: embedded example)', description: 'The upstream graphql-ws endpoint, `ws://` or `wss://`. Unset, `npm start` also starts the example upstream.', gateway: true },
  { env: 'UPSTREAM_PROTOCOL', default: 'auto', description: '`auto` offers `graphql-transport-ws` and the legacy `graphql-ws` (subscriptions-transport-ws) on one upgrade and speaks the one the server selects; `graphql-transport-ws` or `subscriptions-transport-ws` pins one.', gateway: true },
  { env: 'UPSTREAM_CONNECT_TIMEOUT_MS', default: '10000', description: 'Milliseconds the upstream WebSocket upgrade may take; past it the stream ends with a reconnection hint.', gateway: true },
  { env: 'UPSTREAM_ACK_TIMEOUT_MS', default: '10000', description: 'Milliseconds the upstream may take to answer `connection_init` with `connection_ack`.', gateway: true },
  { env: 'UPSTREAM_KEEPALIVE_MS', default: '12000', description: 'Interval of `ping` messages to a graphql-transport-ws upstream; 0 disables them.', gateway: true },
  { env: 'UPSTREAM_PONG_TIMEOUT_MS', default: '5000', description: 'Milliseconds a `pong` may take before the upstream is taken for dead (legacy protocol: grace after the server\'s `ka` rhythm); 0 disables the check.', gateway: true },
  { env: 'UPSTREAM_MAX_MESSAGE_BYTES', default: '16777216', description: 'Largest upstream message accepted (16 MiB); a larger one ends that stream with an `UPSTREAM_ERROR`.', gateway: true },
  { env: 'PORT', default: '4000', description: 'TCP port to listen on (0 picks a free one).' },
  { env: 'HOST', default: '0.0.0.0', description: 'Interface to listen on, e.g. `127.0.0.1` or `::`.' },
  { env: 'PERSISTED_OPERATIONS', default: 'persisted-operations', description: 'Folder of the `.graphql` operations and the files `npm run register` generates; used by `register` and the server.' },
  { env: 'HEARTBEAT_MS', default: '15000', description: 'Milliseconds between SSE heartbeat comments; 0 disables them.', gateway: true },
  { env: 'RETRY_MS', default: '2000', description: 'Milliseconds of the first `retry:` hint sent when the upstream cannot be reached; it doubles with each failure in a row (±20 % jitter, up to 30 s).', gateway: true },
  { env: 'TLS_CERT', default: '(unset)', description: 'PEM certificate file. With `TLS_KEY`: HTTP/2 over TLS, HTTP/1.1 as the ALPN fallback. Without: plain HTTP/1.1.' },
  { env: 'TLS_KEY', default: '(unset)', description: 'PEM private key file of `TLS_CERT`.' },
  { env: 'TLS', default: '(unset: self-signed for the embedded example)', description: '`self-signed`: HTTP/2 over TLS with a development certificate for localhost, made once in `.dev-certs/` and reused. `off`: plain HTTP/1.1. Unset: `self-signed` when `UPSTREAM_URL` is unset and there is no `TLS_CERT`, otherwise TLS only with `TLS_CERT`/`TLS_KEY`.' },
  { env: 'MAX_QUERY_STRING_BYTES', default: '8192', description: 'Longest query string served on `GET /graphql`, in bytes; longer gets 414 (send `POST` with a JSON body instead). Keep it under your CDN\'s URL limit (Cloudflare: 16 KiB).', gateway: true },
  { env: 'OPERATIONS_LIST', default: 'on', description: '`on` serves `GET /operations` (the registered operations, their ids, kinds and variable types); `off` answers 404.', gateway: true },
];

/** The settings a Worker reads from its vars: the gateway's own (the rest are Node's, or read at build time). */
export const WORKER_SETTINGS: readonly string[] = SETTINGS.filter((s) => s.gateway).map((s) => s.env);

/** Prints SETTINGS as the README's Markdown table. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | ${s.default.startsWith('(') ? s.default : `\`${s.default}\``} | ${s.description} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}".`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}.`);
  return value;
}

function onOff(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be on or off, got "${env[name]}".`);
}

function optional(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads the gateway's settings (`GatewayConfig`) from an environment: Node's
 * `process.env` or a Worker's vars. Throws a `ConfigError` naming the
 * variable on a bad value.
 */
export function readGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const upstreamUrl = optional(env, 'UPSTREAM_URL');
  if (upstreamUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(upstreamUrl);
    } catch {
      throw new ConfigError(`UPSTREAM_URL is not a URL: "${upstreamUrl}".`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new ConfigError(`UPSTREAM_URL must start with ws:// or wss:// (graphql-ws), got "${upstreamUrl}".`);
    }
  }
  const upstreamProtocol = (optional(env, 'UPSTREAM_PROTOCOL') ?? 'auto') as UpstreamProtocol;
  if (!UPSTREAM_PROTOCOLS.includes(upstreamProtocol)) {
    const hint = (upstreamProtocol as string) === 'graphql-ws'
      ? ' ("graphql-ws" names both the graphql-ws library, which speaks graphql-transport-ws, and the legacy subprotocol of subscriptions-transport-ws.)'
      : '';
    throw new ConfigError(`UPSTREAM_PROTOCOL must be one of ${UPSTREAM_PROTOCOLS.join(', ')}, got "${upstreamProtocol}".${hint}`);
  }
  return {
    upstreamUrl,
    upstreamProtocol,
    upstreamConnectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 10_000, 0, 3_600_000),
    upstreamAckTimeoutMs: integer(env, 'UPSTREAM_ACK_TIMEOUT_MS', 10_000, 0, 3_600_000),
    upstreamKeepAliveMs: integer(env, 'UPSTREAM_KEEPALIVE_MS', 12_000, 0, 3_600_000),
    upstreamPongTimeoutMs: integer(env, 'UPSTREAM_PONG_TIMEOUT_MS', 5000, 0, 3_600_000),
    upstreamMaxMessageBytes: integer(env, 'UPSTREAM_MAX_MESSAGE_BYTES', DEFAULT_MAX_MESSAGE_BYTES, 1024, 1024 ** 3),
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 15_000, 0, 3_600_000),
    retryMs: integer(env, 'RETRY_MS', 2000, 1, 30_000),
    maxQueryStringBytes: integer(env, 'MAX_QUERY_STRING_BYTES', 8192, 256, 65_536),
    listOperations: onOff(env, 'OPERATIONS_LIST', true),
  };
}

/** Reads the Node server's configuration: the gateway's settings, then the server's own. */
export function readConfig(env: Record<string, string | undefined>): ServerConfig {
  const gateway = readGatewayConfig(env);
  const tlsCert = optional(env, 'TLS_CERT');
  const tlsKey = optional(env, 'TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError(`${tlsCert === undefined ? 'TLS_CERT' : 'TLS_KEY'} must be set too: TLS_CERT and TLS_KEY go together.`);
  }
  const tls = optional(env, 'TLS');
  if (tls !== undefined && tls !== 'self-signed' && tls !== 'off') throw new ConfigError(`TLS must be "self-signed" or "off", got "${tls}".`);
  if (tls !== undefined && tlsCert !== undefined) throw new ConfigError(`TLS=${tls} conflicts with TLS_CERT: set one or the other.`);
  return {
    ...gateway,
    port: integer(env, 'PORT', 4000, 0, 65_535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    persistedOperations: optional(env, 'PERSISTED_OPERATIONS') ?? 'persisted-operations',
    tlsCert,
    tlsKey,
    tls,
  };
}

/**
 * The `createGateway` options a `GatewayConfig` stands for, minus the
 * registry: the one mapping from settings to options, shared by the Node
 * server and the Worker so neither can forget one.
 */
export function gatewayOptions(
  config: GatewayConfig,
  upstream: { url: string; webSocketImpl: unknown },
): Omit<GatewayOptions, 'registry'> {
  return {
    upstream: {
      url: upstream.url,
      webSocketImpl: upstream.webSocketImpl,
      protocol: config.upstreamProtocol,
      connectTimeoutMs: config.upstreamConnectTimeoutMs,
      connectionAckWaitTimeoutMs: config.upstreamAckTimeoutMs,
      keepAliveMs: config.upstreamKeepAliveMs,
      pongTimeoutMs: config.upstreamPongTimeoutMs,
      maxMessageBytes: config.upstreamMaxMessageBytes,
    },
    heartbeatMs: config.heartbeatMs,
    retryMs: config.retryMs,
    maxQueryStringBytes: config.maxQueryStringBytes,
    listOperations: config.listOperations,
  };
}
