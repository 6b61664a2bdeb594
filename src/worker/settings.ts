/**
 * The Worker's environment as the gateway's settings: the same names, read as
 * the same text, as Node's environment (src/core/config.ts).
 */
import { ConfigError, WORKER_SETTINGS } from '../core/config.ts';

/** A var as wrangler.toml wrote it: quoted, or an unquoted number or boolean. */
export type WorkerVar = string | number | boolean;

/**
 * The Worker's environment: `[vars]` in wrangler.toml, `--var`, or the
 * dashboard. The settings are named and parsed as on Node (see
 * `SETTINGS` in src/core/config.ts for each one's unit and default); other
 * bindings are ignored.
 */
export interface WorkerEnv {
  /** The upstream endpoint, `ws://` or `wss://`. Required. */
  UPSTREAM_URL?: WorkerVar;
  /** `auto`, `graphql-transport-ws` or `subscriptions-transport-ws`. @default "auto" */
  UPSTREAM_PROTOCOL?: WorkerVar;
  /** Milliseconds the upstream WebSocket upgrade may take. @default "10000" */
  UPSTREAM_CONNECT_TIMEOUT_MS?: WorkerVar;
  /** Milliseconds the upstream may take to send `connection_ack`. @default "10000" */
  UPSTREAM_ACK_TIMEOUT_MS?: WorkerVar;
  /** Milliseconds between graphql-transport-ws pings; 0 disables them. @default "12000" */
  UPSTREAM_KEEPALIVE_MS?: WorkerVar;
  /** Milliseconds a pong may take; 0 disables the check. @default "5000" */
  UPSTREAM_PONG_TIMEOUT_MS?: WorkerVar;
  /** Largest upstream message accepted, in bytes. @default "16777216" */
  UPSTREAM_MAX_MESSAGE_BYTES?: WorkerVar;
  /** Milliseconds between SSE heartbeat comments; 0 disables them. @default "15000" */
  HEARTBEAT_MS?: WorkerVar;
  /** Milliseconds of the first `retry:` hint after an upstream failure. @default "2000" */
  RETRY_MS?: WorkerVar;
  /** Longest query string served on GET, in bytes. @default "8192" */
  MAX_QUERY_STRING_BYTES?: WorkerVar;
  /** `on` or `off`: serve `GET /operations`. @default "on" */
  OPERATIONS_LIST?: WorkerVar;
  [binding: string]: unknown;
}

/**
 * The gateway's settings among a Worker's bindings, as the text Node would
 * read. A var written unquoted in wrangler.toml (`HEARTBEAT_MS = 0`,
 * `OPERATIONS_LIST = false`) arrives as a number or a boolean: it reads as
 * its text.
 */
export function workerSettings(env: WorkerEnv): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {};
  for (const name of WORKER_SETTINGS) {
    const value = env[name];
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') picked[name] = String(value);
    else throw new ConfigError(`${name} must be a text var, got ${value === null ? 'null' : typeof value}.`);
  }
  return picked;
}
