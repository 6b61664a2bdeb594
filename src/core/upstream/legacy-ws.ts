/**
 * The legacy `graphql-ws` subprotocol of subscriptions-transport-ws, still
 * spoken by Apollo Server 2/3, Hasura and other older servers, for any number
 * of operations on one socket (the protocol names each by an id, as
 * graphql-transport-ws does). Hand-written: the library is unmaintained, and
 * its client does far more than a gateway needs (reconnects, lazy pools, a
 * Node-only WebSocket).
 *
 *   client → connection_init {payload}      server → connection_ack | connection_error {payload}
 *   client → start {id, payload}            server → data {id, payload} … complete {id} | error {id, payload}
 *   client → stop {id}, connection_terminate  server → ka (keep-alive, on its own schedule)
 */
import type { GraphQLFormattedError } from 'graphql';
import { canonicalResult } from './payload.ts';
import { badMessage, LEGACY_WS, type DriverHost, type OperationPayload, type ProtocolDriver } from './socket.ts';

/** Keeps the fields of a GraphQL error (servers of that age also send `name`, stacks, …). */
function formatted(error: unknown): GraphQLFormattedError {
  const { message, locations, path, extensions } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return {
    message: typeof message === 'string' ? message : 'The upstream failed the operation',
    ...(Array.isArray(locations) ? { locations: locations as GraphQLFormattedError['locations'] } : {}),
    ...(Array.isArray(path) ? { path: path as GraphQLFormattedError['path'] } : {}),
    ...(typeof extensions === 'object' && extensions !== null ? { extensions: extensions as GraphQLFormattedError['extensions'] } : {}),
  };
}

/** An `error` message's payload: one error, a list of them, or `{errors}`. */
function toErrors(payload: unknown): GraphQLFormattedError[] {
  const errors = (payload as { errors?: unknown } | null)?.errors;
  const list = Array.isArray(payload) ? payload : Array.isArray(errors) ? errors : [payload];
  return list.length > 0 ? list.map(formatted) : [formatted(undefined)];
}

export interface LegacyWsSettings {
  /**
   * The grace period of the liveness check: the protocol has no client ping,
   * so once the server has sent two `ka`s, a silence longer than twice the
   * longest gap between them plus this is taken for a dead upstream. `0`
   * turns the check off.
   */
  readonly pongTimeoutMs: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
}

export class LegacyWsDriver implements ProtocolDriver {
  private readonly host: DriverHost;
  private readonly settings: LegacyWsSettings;
  private acked = false;
  private lastKa: number | undefined;
  private kaGap = 0;
  private heardAt = 0;
  private watch: unknown;

  constructor(host: DriverHost, settings: LegacyWsSettings) {
    this.host = host;
    this.settings = settings;
    this.send({ type: 'connection_init', payload: host.connectionParams ?? {} });
  }

  message(data: string): void {
    if (this.acked) {
      const result = canonicalResult(data, 'data');
      if (result) {
        this.heard(false);
        return this.host.next(result.id, result.json);
      }
    }
    let message: { type?: unknown; id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return this.host.fail(badMessage(LEGACY_WS));
    }
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return this.host.fail(badMessage(LEGACY_WS));
    this.heard(message.type === 'ka');
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? String(message.id) : undefined;
    switch (message.type) {
      case 'connection_ack':
        if (this.acked) return;
        this.acked = true;
        return this.host.acked();
      case 'connection_error': {
        const reason = (message.payload as { message?: unknown } | null)?.message;
        return this.host.fail({ kind: 'fatal', message: `The upstream refused the connection${typeof reason === 'string' ? `: ${reason}` : ''}` });
      }
      case 'data':
        if (id !== undefined && this.acked) this.host.next(id, JSON.stringify(message.payload ?? null));
        return;
      case 'error':
        if (id !== undefined) this.host.ended(id, { kind: 'errors', errors: toErrors(message.payload) });
        return;
      case 'complete':
        if (id !== undefined) this.host.ended(id, { kind: 'complete' });
        return;
      default:
        // `ka`, and other types (e.g. a server's own extensions), concern no operation.
        return;
    }
  }

  subscribe(id: string, payload: OperationPayload): void {
    this.send({ id, type: 'start', payload });
  }

  unsubscribe(id: string): void {
    this.send({ id, type: 'stop' });
  }

  closing(): void {
    if (this.watch !== undefined) this.host.cancel(this.watch);
    this.watch = undefined;
    this.send({ type: 'connection_terminate' });
  }

  private send(message: object): void {
    if (this.host.socket.readyState === 1) this.host.socket.send(JSON.stringify(message));
  }

  /**
   * Anything heard keeps the upstream alive; `ka`s also teach the rhythm the
   * server keeps. One timer watches the silence: when it fires early (the
   * upstream spoke since it was set), it is set again for the rest.
   */
  private heard(isKa: boolean): void {
    const { pongTimeoutMs, now } = this.settings;
    if (pongTimeoutMs <= 0) return;
    const t = now();
    this.heardAt = t;
    if (isKa) {
      if (this.lastKa !== undefined) this.kaGap = Math.max(this.kaGap, t - this.lastKa);
      this.lastKa = t;
    }
    if (this.kaGap > 0 && this.watch === undefined) this.arm(this.limit());
  }

  private limit(): number {
    return 2 * this.kaGap + this.settings.pongTimeoutMs;
  }

  private arm(ms: number): void {
    this.watch = this.host.later(() => {
      this.watch = undefined;
      const limit = this.limit();
      const silent = this.settings.now() - this.heardAt;
      if (silent >= limit) this.host.dead(`The upstream sent no keep-alive within ${limit} ms`);
      else this.arm(limit - silent);
    }, ms);
  }
}
