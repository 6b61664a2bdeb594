/**
 * The server's configuration, read from the environment. Every setting is
 * described once, here; `npm run docs:config` prints the README's table from
 * this list and a test checks the README against it.
 */
import type { GatewayOptions } from './gateway.ts';
import { firstFolder, parseSourceList, type SourceSpec } from './operations/source-list.ts';
import { parsePublicKey } from './operations/signature.ts';
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
  /** Request headers passed upstream (lower-case). @default [] */
  forwardHeaders: string[];
  /** Origins allowed cross-origin access (with credentials), or `["*"]`. @default [] */
  corsOrigins: string[];
  /** Most subscriptions open at once. @default 10000 */
  maxSubscriptions: number;
  /** Most subscriptions per client; 0 is off. @default 0 */
  maxSubscriptionsPerClient: number;
  /** Header a trusted proxy puts the client's address in. @default undefined */
  trustProxyHeader: string | undefined;
  /** Largest variables JSON, in bytes. @default 65536 */
  maxVariablesBytes: number;
  /** Most events queued for a client that does not read. @default 4096 */
  maxQueuedEvents: number;
  /** Most bytes queued for a client that does not read. @default 1048576 */
  maxQueuedBytes: number;
  /** Where the operations come from, in order: folders, bundle URLs, KV bindings (Workers). @default [{ kind: "folder", path: "persisted-operations" }] */
  operationSources: SourceSpec[];
  /** Milliseconds a polled source's list may age before it is fetched again. @default 10000 */
  operationsPollMs: number;
  /** Milliseconds one load of a source may take; a Worker's request waits at most this for a refresh. @default 3000 */
  operationsTimeoutMs: number;
  /** Raw Ed25519 public keys (32 bytes each) a fetched bundle must be signed by; empty: no signature needed. @default [] */
  operationsPublicKeys: Uint8Array<ArrayBuffer>[];
}

/** What the Node server reads on top of the gateway's settings. */
export interface ServerConfig extends GatewayConfig {
  /** TCP port to listen on. @default 4000 */
  port: number;
  /** Interface to listen on. @default "0.0.0.0" */
  host: string;
  /** The folder `register` and a Worker's build use: the first folder of `PERSISTED_OPERATIONS`. @default "persisted-operations" */
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
  /** Milliseconds streams get to flush on shutdown before connections are destroyed. @default 1000 */
  shutdownGraceMs: number;
  /** One JSON line per stream start and end on stdout. @default true */
  logStreams: boolean;
  /** Include variables in stream start lines. @default false */
  logVariables: boolean;
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
  { env: 'PERSISTED_OPERATIONS', default: 'persisted-operations', description: 'Where the operations come from: a folder of the `.graphql` operations and the files `npm run register` generates (used by `register` too), an `https://` (or `http://`, for development) URL of a `subway-bundle.json`, or on a Worker `kv:<BINDING>[/<key>]`; or a comma-separated list of them, one per app, merged. See [docs/operation-sources.md](docs/operation-sources.md).', gateway: true },
  { env: 'PERSISTED_OPERATIONS_POLL_MS', default: '10000', description: 'Milliseconds between two fetches of a URL or KV source (`If-None-Match`/`If-Modified-Since`); a new version is served from the next request on. On a Worker, the most an isolate\'s list may age before a request refreshes it.', gateway: true },
  { env: 'PERSISTED_OPERATIONS_TIMEOUT_MS', default: '3000', description: 'Milliseconds one fetch of a source may take; past it the last good list stays. On a Worker, the most a request waits for a refresh.', gateway: true },
  { env: 'PERSISTED_OPERATIONS_PUBLIC_KEY', default: '(unset: no signature needed)', description: 'Ed25519 public key (PEM, or its base64 line) that every fetched bundle must be signed by (`register --sign`); a comma-separated list during a key rotation. Folders are trusted as the gateway\'s own files.', gateway: true },
  { env: 'HEARTBEAT_MS', default: '15000', description: 'Milliseconds between SSE heartbeat comments; 0 disables them.', gateway: true },
  { env: 'RETRY_MS', default: '2000', description: 'Milliseconds of the first `retry:` hint sent when the upstream cannot be reached; it doubles with each failure in a row (±20 % jitter, up to 30 s).', gateway: true },
  { env: 'TLS_CERT', default: '(unset)', description: 'PEM certificate file. With `TLS_KEY`: HTTP/2 over TLS, HTTP/1.1 as the ALPN fallback. Without: plain HTTP/1.1.' },
  { env: 'TLS_KEY', default: '(unset)', description: 'PEM private key file of `TLS_CERT`.' },
  { env: 'TLS', default: '(unset: self-signed for the embedded example)', description: '`self-signed`: HTTP/2 over TLS with a development certificate for localhost, made once in `.dev-certs/` and reused. `off`: plain HTTP/1.1. Unset: `self-signed` when `UPSTREAM_URL` is unset and there is no `TLS_CERT`, otherwise TLS only with `TLS_CERT`/`TLS_KEY`.' },
  { env: 'MAX_QUERY_STRING_BYTES', default: '8192', description: 'Longest query string served on `GET /graphql`, in bytes; longer gets 414 (send `POST` with a JSON body instead). Keep it under your CDN\'s URL limit (Cloudflare: 16 KiB).', gateway: true },
  { env: 'OPERATIONS_LIST', default: 'on', description: '`on` serves `GET /operations` (the registered operations, their ids, kinds and variable types); `off` answers 404.', gateway: true },
  { env: 'FORWARD_HEADERS', default: '(unset: none)', description: 'Comma-separated request headers passed upstream, e.g. `authorization,cookie`: in the `connection_init` payload as `{"headers":{...}}` and on the WebSocket upgrade request. Nothing else of the client request reaches the upstream.', gateway: true },
  { env: 'CORS_ORIGINS', default: '(unset: no cross-origin access)', description: 'Comma-separated origins (`https://app.example.com`) that may read streams cross-origin, with credentials; requests from other origins get 403. `*` allows any origin, never with credentials.', gateway: true },
  { env: 'MAX_SUBSCRIPTIONS', default: '10000', description: 'Most subscriptions (streams, each with its upstream socket) open at once; past it, 429 with `Retry-After`.', gateway: true },
  { env: 'MAX_SUBSCRIPTIONS_PER_CLIENT', default: '0', description: 'Most subscriptions one client address may hold; past it, 429 with `Retry-After`. 0 turns the per-client limit off.', gateway: true },
  { env: 'TRUST_PROXY_HEADER', default: '(unset: peer address)', description: 'Header your proxy or CDN puts the client address in, e.g. `x-forwarded-for` (its last value is used) or `cf-connecting-ip`. Set it only when clients cannot reach subway directly.', gateway: true },
  { env: 'MAX_VARIABLES_BYTES', default: '65536', description: 'Largest `variables` JSON accepted (GET or POST), in UTF-8 bytes; larger is a 413.', gateway: true },
  { env: 'MAX_QUEUED_EVENTS', default: '4096', description: 'Events held for a client that does not read; one more ends its stream with a `SLOW_CONSUMER` error.', gateway: true },
  { env: 'MAX_QUEUED_BYTES', default: '1048576', description: 'Bytes held for a client that does not read; past it, its stream ends with a `SLOW_CONSUMER` error.', gateway: true },
  { env: 'SHUTDOWN_GRACE_MS', default: '1000', description: 'On `SIGTERM`/`SIGINT`, milliseconds streams get to flush their reconnection hint before connections are destroyed.' },
  { env: 'LOG_STREAMS', default: 'true', description: 'One JSON line on stdout per stream start and end (operation, duration, events, bytes, end reason). `false` turns them off.' },
  { env: 'LOG_VARIABLES', default: 'false', description: 'Include each stream\'s variables in its start line. Off by default: variables may hold personal data.' },
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

/** A two-valued setting; `words` are its [true, false] spellings, the first of each named in the error. */
function flag(env: Record<string, string | undefined>, name: string, fallback: boolean, words: [string[], string[]]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (words[0].includes(raw)) return true;
  if (words[1].includes(raw)) return false;
  throw new ConfigError(`${name} must be ${words[0][0]} or ${words[1][0]}, got "${env[name]}".`);
}

const onOff = (env: Record<string, string | undefined>, name: string, fallback: boolean) =>
  flag(env, name, fallback, [['on', 'true', '1'], ['off', 'false', '0']]);
const boolean = (env: Record<string, string | undefined>, name: string, fallback: boolean) =>
  flag(env, name, fallback, [['true', '1', 'on'], ['false', '0', 'off']]);

function list(env: Record<string, string | undefined>, name: string): string[] {
  return [...new Set((env[name] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== ''))];
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

function headerList(env: Record<string, string | undefined>, name: string): string[] {
  const names = [...new Set(list(env, name).map((h) => h.toLowerCase()))];
  for (const h of names) if (!HEADER_NAME.test(h)) throw new ConfigError(`${name}: "${h}" is not a header name.`);
  return names;
}

function origins(env: Record<string, string | undefined>): string[] {
  const values = list(env, 'CORS_ORIGINS');
  if (values.includes('*')) {
    if (values.length > 1) throw new ConfigError('CORS_ORIGINS: "*" cannot be combined with listed origins.');
    return values;
  }
  for (const v of values) {
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== v) throw new ConfigError(`CORS_ORIGINS: "${v}" is not an origin like https://app.example.com (scheme, host, optional port, no path).`);
  }
  return values;
}

function sources(env: Record<string, string | undefined>): SourceSpec[] {
  const specs = parseSourceList(env.PERSISTED_OPERATIONS);
  if (typeof specs === 'string') throw new ConfigError(`PERSISTED_OPERATIONS: ${specs}.`);
  return specs;
}

function publicKeys(env: Record<string, string | undefined>): Uint8Array<ArrayBuffer>[] {
  return list(env, 'PERSISTED_OPERATIONS_PUBLIC_KEY').map((text, i, all) => {
    const key = parsePublicKey(text);
    if (typeof key === 'string') throw new ConfigError(`PERSISTED_OPERATIONS_PUBLIC_KEY${all.length > 1 ? ` (key ${i + 1})` : ''}: ${key}.`);
    return key;
  });
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
    forwardHeaders: headerList(env, 'FORWARD_HEADERS'),
    corsOrigins: origins(env),
    maxSubscriptions: integer(env, 'MAX_SUBSCRIPTIONS', 10_000, 1, 10_000_000),
    maxSubscriptionsPerClient: integer(env, 'MAX_SUBSCRIPTIONS_PER_CLIENT', 0, 0, 10_000_000),
    trustProxyHeader: headerList(env, 'TRUST_PROXY_HEADER')[0],
    maxVariablesBytes: integer(env, 'MAX_VARIABLES_BYTES', 65_536, 2, 1_048_576),
    maxQueuedEvents: integer(env, 'MAX_QUEUED_EVENTS', 4096, 1, 10_000_000),
    maxQueuedBytes: integer(env, 'MAX_QUEUED_BYTES', 1_048_576, 1024, 1_073_741_824),
    operationSources: sources(env),
    operationsPollMs: integer(env, 'PERSISTED_OPERATIONS_POLL_MS', 10_000, 50, 86_400_000),
    operationsTimeoutMs: integer(env, 'PERSISTED_OPERATIONS_TIMEOUT_MS', 3000, 10, 600_000),
    operationsPublicKeys: publicKeys(env),
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
    persistedOperations: firstFolder(gateway.operationSources),
    tlsCert,
    tlsKey,
    tls,
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 1000, 0, 600_000),
    logStreams: boolean(env, 'LOG_STREAMS', true),
    logVariables: boolean(env, 'LOG_VARIABLES', false),
  };
}

/**
 * The `createGateway` options a `GatewayConfig` stands for, minus the
 * registry: the one mapping from settings to options, shared by the Node
 * server and the Worker so neither can forget one.
 */
export function gatewayOptions(
  config: GatewayConfig,
  upstream: Pick<GatewayOptions['upstream'], 'url' | 'webSocketImpl' | 'webSocketWithHeaders'>,
): Omit<GatewayOptions, 'registry'> {
  return {
    upstream: {
      ...upstream,
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
    forwardHeaders: config.forwardHeaders,
    cors: { origins: config.corsOrigins },
    maxSubscriptions: config.maxSubscriptions,
    maxSubscriptionsPerClient: config.maxSubscriptionsPerClient,
    trustProxyHeader: config.trustProxyHeader,
    maxVariablesBytes: config.maxVariablesBytes,
    maxQueuedEvents: config.maxQueuedEvents,
    maxQueuedBytes: config.maxQueuedBytes,
  };
}
