/**
 * The legacy `graphql-ws` subprotocol of subscriptions-transport-ws, still
 * spoken by Apollo Server 2/3, Hasura and other older servers. Hand-written:
 * the library is unmaintained, and its client does far more than one
 * operation per socket needs (reconnects, lazy pools, a Node-only WebSocket).
 *
 *   client → connection_init {payload}      server → connection_ack | connection_error {payload}
 *   client → start {id, payload}            server → data {id, payload} … complete {id} | error {id, payload}
 *   client → stop {id}, connection_terminate  server → ka (keep-alive, on its own schedule)
 */
import type { GraphQLFormattedError } from 'graphql';
import { badMessage, classifyClose, LEGACY_WS, type DriverContext, type ExecutionResult, type ProtocolDriver } from './socket.ts';

const ID = '1';

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

/**
 * @param pongTimeoutMs the grace period of the liveness check: the protocol has
 *   no client ping, so once the server has sent two `ka`s, a silence longer than
 *   twice the longest gap between them plus this is taken for a dead upstream.
 *   `0` turns the check off.
 */
export function runLegacyWs(ctx: DriverContext, maxMessageBytes: number, pongTimeoutMs: number, now: () => number = Date.now): ProtocolDriver {
  let acked = false;
  let running = false;
  let lastKa: number | undefined;
  let kaGap = 0;
  const send = (message: object) => ctx.socket.send(JSON.stringify(message));
  send(ctx.connectionParams ? { type: 'connection_init', payload: ctx.connectionParams } : { type: 'connection_init', payload: {} });

  const heard = (isKa: boolean) => {
    if (pongTimeoutMs <= 0) return;
    if (isKa) {
      const t = now();
      if (lastKa !== undefined) kaGap = Math.max(kaGap, t - lastKa);
      lastKa = t;
    }
    if (kaGap > 0) {
      const ms = 2 * kaGap + pongTimeoutMs;
      ctx.deadline(ms, `The upstream sent no keep-alive within ${ms} ms`);
    }
  };

  return {
    message(data) {
      let message: { type?: unknown; id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data) as typeof message;
      } catch {
        return ctx.end(badMessage(LEGACY_WS));
      }
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return ctx.end(badMessage(LEGACY_WS));
      heard(message.type === 'ka');
      switch (message.type) {
        case 'connection_ack':
          if (acked) return;
          acked = true;
          running = true;
          ctx.acked();
          return send({ id: ID, type: 'start', payload: ctx.payload });
        case 'connection_error': {
          const reason = (message.payload as { message?: unknown } | null)?.message;
          return ctx.end({ kind: 'fatal', message: `The upstream refused the connection${typeof reason === 'string' ? `: ${reason}` : ''}` });
        }
        case 'ka':
          return;
        case 'data':
          if (message.id === ID && running) ctx.next(message.payload as ExecutionResult);
          return;
        case 'error':
          if (message.id !== ID) return;
          running = false;
          return ctx.end({ kind: 'errors', errors: toErrors(message.payload) });
        case 'complete':
          if (message.id !== ID) return;
          running = false;
          return ctx.end({ kind: 'complete' });
        default:
          // Other types (e.g. a server's own extensions) do not concern this operation.
          return;
      }
    },
    closed: (event) => ctx.end(classifyClose(event, maxMessageBytes)),
    dispose() {
      if (ctx.socket.readyState !== 1) return;
      if (running) send({ id: ID, type: 'stop' });
      running = false;
      send({ type: 'connection_terminate' });
    },
  };
}
