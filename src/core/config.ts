/**
 * The configuration, read from the environment (Node's `process.env`, a
 * Worker's vars). Every setting is declared once, in `SETTINGS`: its variable,
 * the config key it fills, its parser and its description; its default comes
 * from `DEFAULTS` (src/core/defaults.ts). The parsers, the Worker's list of
 * vars and the generated docs table (`npm run docs:config`) all read this list.
 */
import { DEFAULTS } from './defaults.ts';
import type { GatewayOptions } from './gateway.ts';
import { redactUrl } from './redact.ts';
import { firstFolder, parseSourceList, type SourceSpec } from './operations/source-list.ts';
import { parsePublicKey } from './operations/signature.ts';
import { UPSTREAM_PROTOCOLS, type UpstreamProtocol } from './upstream/options.ts';
import { SHARING_MODES, type SharingMode } from './upstream/pool.ts';

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
  /** What subscriptions share upstream: `off`, `connection` or `subscription`. @default "off" */
  upstreamSharing: SharingMode;
  /** Most subscriptions on one shared upstream socket. @default 100 */
  upstreamMaxSubscriptionsPerSocket: number;
  /** Milliseconds a shared upstream socket with no subscription stays open. @default 1000 */
  upstreamIdleMs: number;
  /** Most upstream sockets open at once; 0 is no limit. @default 0 */
  upstreamMaxSockets: number;
  /** Milliseconds a departed client's place is kept for it to resume; 0 is off. @default 0 */
  resumeWindowMs: number;
  /** Most events each upstream subscription keeps for resuming clients. @default 1000 */
  resumeMaxEvents: number;
  /** Most bytes each upstream subscription keeps for resuming clients. @default 1048576 */
  resumeMaxBytes: number;
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
  /**
   * `MAX_STREAM_EVENTS`: most events one response carries before it ends with a short `retry:`; 0 is no bound.
   * Unset (`undefined`): the runtime's default (`DEFAULTS.maxStreamEvents` on Node and in Durable
   * Objects, `DEFAULTS.workerMaxStreamEvents` where a Worker writes the stream itself).
   */
  streamMaxEvents: number | undefined;
  /** Most bytes queued for a client that does not read. @default 65536 */
  maxQueuedBytes: number;
  /** Most bytes queued for all clients that do not read together; unset: a quarter of the heap limit. */
  maxQueuedBytesTotal: number | undefined;
  /** Deepest nesting of the variables (and extensions) JSON. @default 64 */
  maxVariablesDepth: number;
  /** Leading bits of an IPv6 client address that make one client. @default 64 */
  clientIpv6Prefix: number;
  /** Extensions of upstream errors passed to clients besides `code`; `["*"]` passes all. @default [] */
  upstreamErrorExtensions: string[];
  /** Where the operations come from, in order: folders, bundle URLs, KV bindings (Workers). @default the folder persisted-operations */
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
  /** Milliseconds a connection with no open request is kept. @default 60000 */
  idleTimeoutMs: number;
  /** Milliseconds a request body may take to arrive. @default 10000 */
  requestBodyTimeoutMs: number;
  /** Most concurrent streams per HTTP/2 connection. @default 128 */
  http2MaxConcurrentStreams: number;
}

/** Reads one setting's text (trimmed, never empty) into its value; throws a `ConfigError` naming `name`. */
export type Parse<T> = (raw: string, name: string) => T;

export interface Setting<K extends keyof ServerConfig = keyof ServerConfig> {
  /** The environment variable (or Worker var). */
  env: string;
  /** The config field it fills. */
  key: K;
  parse: Parse<ServerConfig[K]>;
  /** What the docs say when the setting has no default value (`DEFAULTS` has none for it). */
  unset?: string;
  /** A setting of the gateway itself (`GatewayConfig`): a Worker reads it from its vars too. */
  gateway?: true;
  description: string;
}

/** Declares a setting; a function so each entry's parser is checked against its key's type. */
function setting<K extends keyof ServerConfig>(s: Setting<K>): Setting {
  return s as unknown as Setting;
}

const HOUR_MS = 3_600_000;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const PROTOCOL_HINT: Record<string, string> = {
  'graphql-ws': '("graphql-ws" names both the graphql-ws library, which speaks graphql-transport-ws, and the legacy subprotocol of subscriptions-transport-ws.)',
};

function integer(min: number, max: number): Parse<number> {
  return (raw, name) => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}".`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}.`);
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[], hints: Record<string, string> = {}): Parse<T> {
  return (raw, name) => {
    if (values.includes(raw as T)) return raw as T;
    const hint = hints[raw] ? ` ${hints[raw]}` : '';
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}".${hint}`);
  };
}

/** A two-valued setting; `words` are its [true, false] spellings, the first of each named in the error. */
function flag(words: [string[], string[]]): Parse<boolean> {
  return (raw, name) => {
    const lower = raw.toLowerCase();
    if (words[0].includes(lower)) return true;
    if (words[1].includes(lower)) return false;
    throw new ConfigError(`${name} must be ${words[0][0]} or ${words[1][0]}, got "${raw}".`);
  };
}
const onOff = flag([['on', 'true', '1'], ['off', 'false', '0']]);
const boolean = flag([['true', '1', 'on'], ['false', '0', 'off']]);

const text: Parse<string> = (raw) => raw;

const list = (raw: string): string[] => [...new Set(raw.split(',').map((v) => v.trim()).filter((v) => v !== ''))];

const headerList: Parse<string[]> = (raw, name) => {
  const names = [...new Set(list(raw).map((h) => h.toLowerCase()))];
  for (const h of names) if (!HEADER_NAME.test(h)) throw new ConfigError(`${name}: "${h}" is not a header name.`);
  return names;
};

const headerName: Parse<string | undefined> = (raw, name) => headerList(raw, name)[0];

const EXTENSION_KEY = /^[_A-Za-z][_0-9A-Za-z-]*$/;
const extensionKeys: Parse<string[]> = (raw, name) => {
  const keys = list(raw);
  if (keys.includes('*')) {
    if (keys.length > 1) throw new ConfigError(`${name}: "*" (every extension) cannot be combined with listed keys.`);
    return keys;
  }
  for (const k of keys) if (!EXTENSION_KEY.test(k)) throw new ConfigError(`${name}: "${k}" is not an extension key.`);
  return keys;
};

const origins: Parse<string[]> = (raw, name) => {
  const values = list(raw);
  if (values.includes('*')) {
    if (values.length > 1) throw new ConfigError(`${name}: "*" cannot be combined with listed origins.`);
    return values;
  }
  for (const v of values) {
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== v) throw new ConfigError(`${name}: "${v}" is not an origin like https://app.example.com (scheme, host, optional port, no path).`);
  }
  return values;
};

const sources: Parse<SourceSpec[]> = (raw, name) => {
  const specs = parseSourceList(raw);
  if (typeof specs === 'string') throw new ConfigError(`${name}: ${specs}.`);
  return specs;
};

const publicKeys: Parse<Uint8Array<ArrayBuffer>[]> = (raw, name) =>
  list(raw).map((text, i, all) => {
    const key = parsePublicKey(text);
    if (typeof key === 'string') throw new ConfigError(`${name}${all.length > 1 ? ` (key ${i + 1})` : ''}: ${key}.`);
    return key;
  });

const upstreamUrl: Parse<string | undefined> = (raw, name) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${redactUrl(raw)}".`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError(`${name} must start with ws:// or wss:// (graphql-ws), got "${redactUrl(raw)}".`);
  return raw;
};

/** The documented environment variables, in the docs' order. */
export const SETTINGS: readonly Setting[] = [
  setting({ env: 'UPSTREAM_URL', key: 'upstreamUrl', parse: upstreamUrl, unset: '(unset: embedded example)', gateway: true, description: 'The upstream graphql-ws endpoint, `ws://` or `wss://`. Unset, `npm start` also starts the example upstream.' }),
  setting({ env: 'UPSTREAM_PROTOCOL', key: 'upstreamProtocol', parse: oneOf(UPSTREAM_PROTOCOLS, PROTOCOL_HINT), gateway: true, description: '`auto` offers `graphql-transport-ws` and the legacy `graphql-ws` (subscriptions-transport-ws) on one upgrade and speaks the one the server selects; `graphql-transport-ws` or `subscriptions-transport-ws` pins one.' }),
  setting({ env: 'UPSTREAM_CONNECT_TIMEOUT_MS', key: 'upstreamConnectTimeoutMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Milliseconds the upstream WebSocket upgrade may take; past it the stream ends with a reconnection hint.' }),
  setting({ env: 'UPSTREAM_ACK_TIMEOUT_MS', key: 'upstreamAckTimeoutMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Milliseconds the upstream may take to answer `connection_init` with `connection_ack`.' }),
  setting({ env: 'UPSTREAM_KEEPALIVE_MS', key: 'upstreamKeepAliveMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Interval of `ping` messages to a graphql-transport-ws upstream; 0 disables them.' }),
  setting({ env: 'UPSTREAM_PONG_TIMEOUT_MS', key: 'upstreamPongTimeoutMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Milliseconds a `pong` may take before the upstream is taken for dead (legacy protocol: grace after the server\'s `ka` rhythm); 0 disables the check.' }),
  setting({ env: 'UPSTREAM_MAX_MESSAGE_BYTES', key: 'upstreamMaxMessageBytes', parse: integer(1024, 1024 ** 3), gateway: true, description: 'Largest upstream message accepted (16 MiB); a larger one ends that stream with an `UPSTREAM_ERROR`.' }),
  setting({ env: 'UPSTREAM_SHARING', key: 'upstreamSharing', parse: oneOf(SHARING_MODES), gateway: true, description: 'What subscriptions share upstream ([sharing](sharing.md)): `off`, a socket per subscription; `connection`, one socket for the subscriptions of the same `connection_init` payload (multiplexed); `subscription`, on top of that one upstream subscription for identical subscriptions (same operation, coerced variables and payload), each result encoded once for all of them. On a Worker the shared modes run in Durable Objects ([Workers](workers.md#sharing-and-resuming)).' }),
  setting({ env: 'UPSTREAM_MAX_SUBSCRIPTIONS_PER_SOCKET', key: 'upstreamMaxSubscriptionsPerSocket', parse: integer(1, 100_000), gateway: true, description: 'Most subscriptions on one shared upstream socket (`connection` and `subscription` modes); past it, another socket opens.' }),
  setting({ env: 'UPSTREAM_IDLE_MS', key: 'upstreamIdleMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Milliseconds a shared upstream socket with no subscription left stays open for the next one; 0 closes it at once.' }),
  setting({ env: 'UPSTREAM_MAX_SOCKETS', key: 'upstreamMaxSockets', parse: integer(0, 10_000_000), unset: '`0` (no limit)', gateway: true, description: 'Most upstream sockets open at once; a subscription that can neither share one nor open one gets 429 with `Retry-After`.' }),
  setting({ env: 'RESUME_WINDOW_MS', key: 'resumeWindowMs', parse: integer(0, HOUR_MS), unset: '`0` (off)', gateway: true, description: 'Milliseconds a client that went away keeps its place ([resume](resume.md)): its upstream subscription (or its place in a shared one) and what arrives meanwhile, so EventSource\'s reconnect (`Last-Event-ID`) gets every event it missed, or a said gap. Every `next` event then carries an `id:`. `120000` is a good start. 0 turns it off. On a Worker, subscriptions then linger in Durable Objects ([Workers](workers.md#sharing-and-resuming)).' }),
  setting({ env: 'RESUME_MAX_EVENTS', key: 'resumeMaxEvents', parse: integer(1, 1_000_000), gateway: true, description: 'Most events each upstream subscription keeps for resuming clients (one buffer for all the subscribers of a shared one); a client that missed more gets a gap.' }),
  setting({ env: 'RESUME_MAX_BYTES', key: 'resumeMaxBytes', parse: integer(1024, 1_073_741_824), gateway: true, description: 'Most bytes each upstream subscription keeps for resuming clients (1 MiB); a client that missed more gets a gap.' }),
  setting({ env: 'PORT', key: 'port', parse: integer(0, 65_535), description: 'TCP port to listen on (0 picks a free one).' }),
  setting({ env: 'HOST', key: 'host', parse: text, description: 'Interface to listen on, e.g. `127.0.0.1` or `::`.' }),
  setting({ env: 'PERSISTED_OPERATIONS', key: 'operationSources', parse: sources, unset: `\`${DEFAULTS.persistedOperations}\``, gateway: true, description: 'Where the operations come from: a folder of the `.graphql` operations and the files `subway register` generates (used by `register` too), an `https://` (or `http://`, for development) URL of a `subway-bundle.json`, or on a Worker `kv:<BINDING>[/<key>]`; or a comma-separated list of them, one per app, merged. See [operation sources](operation-sources.md).' }),
  setting({ env: 'PERSISTED_OPERATIONS_POLL_MS', key: 'operationsPollMs', parse: integer(50, 86_400_000), gateway: true, description: 'Milliseconds between two fetches of a URL or KV source (with `If-None-Match`/`If-Modified-Since`); a new version is served from the next request on. On a Worker, the most an isolate\'s list may age before a request refreshes it.' }),
  setting({ env: 'PERSISTED_OPERATIONS_TIMEOUT_MS', key: 'operationsTimeoutMs', parse: integer(10, 600_000), gateway: true, description: 'Milliseconds one fetch of a source may take; past it the last good list stays. On a Worker, the most a request waits for a refresh.' }),
  setting({ env: 'PERSISTED_OPERATIONS_PUBLIC_KEY', key: 'operationsPublicKeys', parse: publicKeys, unset: '(unset: no signature needed)', gateway: true, description: 'Ed25519 public key (PEM, or its base64 line) that every fetched bundle must be signed by (`subway register --sign`); a comma-separated list during a key rotation. Folders are trusted as the gateway\'s own files.' }),
  setting({ env: 'HEARTBEAT_MS', key: 'heartbeatMs', parse: integer(0, HOUR_MS), gateway: true, description: 'Milliseconds between SSE heartbeat comments; 0 disables them.' }),
  setting({ env: 'MAX_STREAM_EVENTS', key: 'streamMaxEvents', parse: integer(0, 1_000_000_000), unset: `\`${DEFAULTS.maxStreamEvents}\` (no bound) on Node and in Durable Objects; \`${DEFAULTS.workerMaxStreamEvents}\` where a Worker writes the stream itself`, gateway: true, description: 'Most `next` events one response carries; the one that reaches it is followed by a short `retry:` and the end of the response, so the client reconnects at once (with `RESUME_WINDOW_MS` on, after its last event: nothing lost). A Cloudflare Worker\'s stream accumulates CPU event by event against the request\'s limit (Free 10 ms; [Workers](workers.md#cpu-per-event)): this ends it cleanly first. 0: no bound.' }),
  setting({ env: 'RETRY_MS', key: 'retryMs', parse: integer(1, 30_000), gateway: true, description: 'Milliseconds of the first `retry:` hint sent when the upstream cannot be reached; it doubles with each failure in a row (±20 % jitter, up to 30 s).' }),
  setting({ env: 'TLS_CERT', key: 'tlsCert', parse: text, unset: '(unset)', description: 'PEM certificate file. With `TLS_KEY`: HTTP/2 over TLS, HTTP/1.1 as the ALPN fallback. Without: plain HTTP/1.1.' }),
  setting({ env: 'TLS_KEY', key: 'tlsKey', parse: text, unset: '(unset)', description: 'PEM private key file of `TLS_CERT`.' }),
  setting({ env: 'TLS', key: 'tls', parse: oneOf(['self-signed', 'off'] as const), unset: '(unset: self-signed for the embedded example)', description: '`self-signed`: HTTP/2 over TLS with a development certificate for localhost, made once in `.dev-certs/` and reused. `off`: plain HTTP/1.1. Unset: `self-signed` when `UPSTREAM_URL` is unset and there is no `TLS_CERT`, otherwise TLS only with `TLS_CERT`/`TLS_KEY`.' }),
  setting({ env: 'MAX_QUERY_STRING_BYTES', key: 'maxQueryStringBytes', parse: integer(256, 65_536), gateway: true, description: 'Longest query string served on `GET /graphql`, in bytes; longer gets 414 (send `POST` with a JSON body instead). Keep it under your CDN\'s URL limit (Cloudflare: 16 KiB).' }),
  setting({ env: 'OPERATIONS_LIST', key: 'listOperations', parse: onOff, gateway: true, description: '`on` serves `GET /operations` (the registered operations, their ids, kinds and variable types); `off` answers 404.' }),
  setting({ env: 'FORWARD_HEADERS', key: 'forwardHeaders', parse: headerList, unset: '(unset: none)', gateway: true, description: 'Comma-separated request headers passed upstream, e.g. `authorization,cookie`: in the `connection_init` payload as `{"headers":{...}}` and on the WebSocket upgrade request. Nothing else of the client request reaches the upstream.' }),
  setting({ env: 'CORS_ORIGINS', key: 'corsOrigins', parse: origins, unset: '(unset: no cross-origin access)', gateway: true, description: 'Comma-separated origins (`https://app.example.com`) that may read streams cross-origin, with credentials; requests from other origins get 403. `*` allows any origin, never with credentials.' }),
  setting({ env: 'MAX_SUBSCRIPTIONS', key: 'maxSubscriptions', parse: integer(1, 10_000_000), gateway: true, description: 'Most subscriptions (streams, each with its upstream socket) open at once; past it, 429 with `Retry-After`.' }),
  setting({ env: 'MAX_SUBSCRIPTIONS_PER_CLIENT', key: 'maxSubscriptionsPerClient', parse: integer(0, 10_000_000), gateway: true, description: 'Most subscriptions one client address may hold; past it, 429 with `Retry-After`. 0 turns the per-client limit off.' }),
  setting({ env: 'TRUST_PROXY_HEADER', key: 'trustProxyHeader', parse: headerName, unset: '(unset: peer address)', gateway: true, description: 'Header your proxy or CDN puts the client address in, e.g. `x-forwarded-for` (its last value is used) or `cf-connecting-ip`. Set it only when clients cannot reach subway directly.' }),
  setting({ env: 'MAX_VARIABLES_BYTES', key: 'maxVariablesBytes', parse: integer(2, 1_048_576), gateway: true, description: 'Largest `variables` JSON accepted (GET or POST), in UTF-8 bytes; larger is a 413.' }),
  setting({ env: 'MAX_QUEUED_EVENTS', key: 'maxQueuedEvents', parse: integer(1, 10_000_000), gateway: true, description: 'Events held for a client that does not read; one more ends its stream with a `SLOW_CONSUMER` error.' }),
  setting({ env: 'MAX_QUEUED_BYTES', key: 'maxQueuedBytes', parse: integer(1024, 1_073_741_824), gateway: true, description: 'Bytes held for a client that does not read; past it, its stream ends with a `SLOW_CONSUMER` error.' }),
  setting({ env: 'MAX_QUEUED_BYTES_TOTAL', key: 'maxQueuedBytesTotal', parse: integer(1_048_576, 68_719_476_736), unset: '(unset: a quarter of the heap limit)', gateway: true, description: 'Bytes held for all clients that do not read, together (every stream\'s queue and what their connections hold unsent); past it, the streams holding the most end with `SLOW_CONSUMER` first. Unset: a quarter of the JS heap limit on Node (V8\'s `heap_size_limit`, set by `--max-old-space-size`), 32 MiB on a Worker.' }),
  setting({ env: 'MAX_VARIABLES_DEPTH', key: 'maxVariablesDepth', parse: integer(1, 512), gateway: true, description: 'Deepest nesting of objects and lists in `variables` (and `extensions`), the variables object being level 1; checked on the JSON text before it is parsed. Deeper is a 400 `BAD_USER_INPUT`.' }),
  setting({ env: 'CLIENT_IPV6_PREFIX', key: 'clientIpv6Prefix', parse: integer(1, 128), gateway: true, description: 'Leading bits of an IPv6 client address that make one client for `MAX_SUBSCRIPTIONS_PER_CLIENT` (a subscriber is usually given a whole /64); 128 counts every address on its own. A port never makes another client.' }),
  setting({ env: 'UPSTREAM_ERROR_EXTENSIONS', key: 'upstreamErrorExtensions', parse: extensionKeys, unset: '(unset: `code` only)', gateway: true, description: 'Comma-separated keys of upstream errors\' `extensions` passed to clients besides `code`, e.g. `classification`; the rest (a development server\'s `stacktrace`, `exception`) is dropped. `*` passes every extension as the upstream sent it.' }),
  setting({ env: 'IDLE_TIMEOUT_MS', key: 'idleTimeoutMs', parse: integer(1000, 3_600_000), description: 'A connection with no open request (an HTTP/2 session with no stream, an HTTP/1.1 connection waiting for its first request, a TLS handshake) is closed after this long. HTTP/1.1 keep-alive between requests stays Node\'s 5 s when shorter. Open event streams are never cut by it.' }),
  setting({ env: 'REQUEST_BODY_TIMEOUT_MS', key: 'requestBodyTimeoutMs', parse: integer(1000, 600_000), description: 'Milliseconds a request body may take to arrive in full; past it, 408 `REQUEST_TIMEOUT` and the connection (HTTP/2: the stream) is closed.' }),
  setting({ env: 'HTTP2_MAX_CONCURRENT_STREAMS', key: 'http2MaxConcurrentStreams', parse: integer(1, 65_536), description: 'Most concurrent streams one HTTP/2 connection may open (advertised in SETTINGS; more are refused). Open subscriptions count, so this is also the most one connection may hold.' }),
  setting({ env: 'SHUTDOWN_GRACE_MS', key: 'shutdownGraceMs', parse: integer(0, 600_000), description: 'On `SIGTERM`/`SIGINT`, milliseconds streams get to flush their reconnection hint before connections are destroyed.' }),
  setting({ env: 'LOG_STREAMS', key: 'logStreams', parse: boolean, description: 'One JSON line on stdout per stream start and end (operation, duration, events, bytes, end reason). `false` turns them off.' }),
  setting({ env: 'LOG_VARIABLES', key: 'logVariables', parse: boolean, description: 'Include each stream\'s variables in its start line. Off by default: variables may hold personal data.' }),
];

/** The settings a Worker reads from its vars: the gateway's own (the rest are Node's, or read at build time). */
export const WORKER_SETTINGS: readonly string[] = SETTINGS.filter((s) => s.gateway).map((s) => s.env);

/** A setting's default value: `DEFAULTS`' entry for its key, else none (`undefined`, or `[]` for lists). */
function defaultOf(s: Setting): unknown {
  if (s.key in DEFAULTS) return DEFAULTS[s.key as keyof typeof DEFAULTS];
  if (s.parse === sources) return sources(DEFAULTS.persistedOperations, s.env);
  return s.parse === headerList || s.parse === origins || s.parse === publicKeys || s.parse === extensionKeys ? [] : undefined;
}

/** How the docs show a default. */
function shownDefault(s: Setting): string {
  if (s.unset !== undefined) return s.unset;
  const value = defaultOf(s);
  const shown = s.parse === onOff ? (value ? 'on' : 'off') : String(value);
  return `\`${shown}\``;
}

/** Prints SETTINGS as the docs' Markdown table. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | ${shownDefault(s)} | ${s.description} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function read(settings: readonly Setting[], env: Record<string, string | undefined>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const s of settings) {
    const raw = env[s.env]?.trim();
    config[s.key] = raw === undefined || raw === '' ? defaultOf(s) : s.parse(raw, s.env);
  }
  return config;
}

/**
 * Reads the gateway's settings (`GatewayConfig`) from an environment: Node's
 * `process.env` or a Worker's vars. Throws a `ConfigError` naming the
 * variable on a bad value.
 */
export function readGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return read(SETTINGS.filter((s) => s.gateway), env) as unknown as GatewayConfig;
}

/** Reads the Node server's configuration: the gateway's settings, then the server's own. */
export function readConfig(env: Record<string, string | undefined>): ServerConfig {
  const config = read(SETTINGS, env) as unknown as ServerConfig;
  config.persistedOperations = firstFolder(config.operationSources);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(`${config.tlsCert === undefined ? 'TLS_CERT' : 'TLS_KEY'} must be set too: TLS_CERT and TLS_KEY go together.`);
  }
  if (config.tls !== undefined && config.tlsCert !== undefined) throw new ConfigError(`TLS=${config.tls} conflicts with TLS_CERT: set one or the other.`);
  return config;
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
      sharing: config.upstreamSharing,
      maxSubscriptionsPerSocket: config.upstreamMaxSubscriptionsPerSocket,
      idleMs: config.upstreamIdleMs,
      maxSockets: config.upstreamMaxSockets,
    },
    resumeWindowMs: config.resumeWindowMs,
    resumeMaxEvents: config.resumeMaxEvents,
    resumeMaxBytes: config.resumeMaxBytes,
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
    maxStreamEvents: config.streamMaxEvents,
    maxQueuedBytes: config.maxQueuedBytes,
    maxQueuedBytesTotal: config.maxQueuedBytesTotal,
    maxVariablesDepth: config.maxVariablesDepth,
    clientIpv6Prefix: config.clientIpv6Prefix,
    upstreamErrorExtensions: config.upstreamErrorExtensions,
  };
}
