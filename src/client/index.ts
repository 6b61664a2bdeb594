/**
 * `@subway-sse/client`: one subscription = one `EventSource` on
 * `GET /graphql?id=…&variables=…`. No runtime dependencies: it uses the
 * platform's own EventSource (and `fetch`, only to read why a request was
 * refused). Over HTTP/2 every subscription of a page shares one connection.
 *
 * Hand-written rather than graphql-sse's client: that client reads the stream
 * with `fetch` and so owns reconnection itself; subway's contract is the
 * browser's EventSource (its reconnection, its `retry:` handling, DevTools'
 * EventStream tab), which graphql-sse does not offer in distinct connections mode.
 */
import { stableStringify } from './stable-json.ts';

export { stableStringify } from './stable-json.ts';

/** What one operation takes and yields: its variables and the shape of its `data`. */
export interface OperationTypes {
  variables: unknown;
  result: unknown;
  /** The operation's kind, when the map says (the generated one does): a `mutation` is left out of what a client may subscribe to. */
  type?: 'query' | 'mutation' | 'subscription';
}

/**
 * A map from operation name to its types, such as the `Operations` interface
 * that `npm run register` generates into `persisted-operations/operations.ts`.
 * An interface fits too (it needs no index signature): constrain with
 * `Ops extends OperationMap<Ops>`.
 */
export type OperationMap<Ops = { [name: string]: OperationTypes }> = { [K in keyof Ops]: OperationTypes };

/** The fallback when no map is registered: any id, object variables, unknown data. */
export type UntypedOperations = { [idOrName: string]: { variables: Record<string, unknown> | undefined; result: unknown } };

/**
 * Augment this interface once to type `subscribe`, `createClient` and
 * `useSubscription` by the generated operation map: `operations` types the
 * names, and the optional `operationIds` (`OperationIds` of the same file:
 * hex and `sha256:` ids, and aliases) types every id like its name.
 *
 * ```ts
 * import type { OperationIds, Operations } from '../persisted-operations/operations.ts';
 * declare module '@subway-sse/client' { interface Register { operations: Operations; operationIds: OperationIds } }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Register {}

/** The registered operation map, or `UntypedOperations` when none is registered. */
export type RegisteredOperations = Register extends { operations: infer O extends OperationMap<O> } ? O : UntypedOperations;

/** The registered id → name map (`OperationIds`), or none. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type RegisteredOperationIds = Register extends { operationIds: infer I extends object } ? I : {};

/** The names a client may run: every operation of the map but its mutations (the gateway serves no mutation over GET). */
export type ServableName<Ops = RegisteredOperations> = { [K in keyof Ops]: Ops[K] extends { type: 'mutation' } ? never : K }[keyof Ops] & string;

/** What `subscribe` and `useSubscription` take: a servable operation's name, or any id in `Ids` that names one. */
export type OperationKey<Ops = RegisteredOperations, Ids = RegisteredOperationIds> =
  | ServableName<Ops>
  | ({ [I in keyof Ids]: Ids[I] extends ServableName<Ops> ? I : never }[keyof Ids] & string);

/** The map's entry for an operation named by name or by id. */
export type OperationOf<K, Ops = RegisteredOperations, Ids = RegisteredOperationIds> = K extends keyof Ops
  ? Ops[K]
  : K extends keyof Ids
    ? Ids[K] extends keyof Ops
      ? Ops[Ids[K]]
      : never
    : never;

/** The variables of an operation named by name or by id. */
export type VariablesOf<K, Ops = RegisteredOperations, Ids = RegisteredOperationIds> = OperationOf<K, Ops, Ids> extends { variables: infer V } ? V : never;

/** The `data` of an operation's results, named by name or by id. */
export type ResultOf<K, Ops = RegisteredOperations, Ids = RegisteredOperationIds> = OperationOf<K, Ops, Ids> extends { result: infer R } ? R : never;

/** A GraphQL error as it travels in JSON. */
export interface FormattedError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** One `next` event's payload: a GraphQL execution result. */
export interface ExecutionResult<Data = unknown> {
  data?: Data | null;
  errors?: readonly FormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * A subscription that cannot go on: the gateway refused it (a 4xx, with the
 * gateway's own message and `extensions.code`), or it sent something that is
 * not subway's protocol. Transient network failures are never reported here:
 * EventSource reconnects by itself.
 */
export class SubwayClientError extends Error {
  override readonly name = 'SubwayClientError';
  /** The gateway's `extensions.code` (e.g. `PERSISTED_QUERY_NOT_IN_LIST`), or `BAD_RESPONSE` / `BAD_EVENT` / `GRAPHQL_ERROR`. */
  readonly code: string;
  /** The HTTP status of the refusal, when there was one. */
  readonly status: number | undefined;
  /** Every error the gateway (or the upstream, for `GRAPHQL_ERROR`) sent. */
  readonly errors: readonly FormattedError[];
  constructor(code: string, message: string, status: number | undefined, errors: readonly FormattedError[] = []) {
    super(message);
    this.code = code;
    this.status = status;
    this.errors = errors;
  }
}

/** Callbacks of one subscription. */
export interface Sink<Data> {
  /** Each `event: next`: a result from the upstream (it may carry `errors`). */
  next(result: ExecutionResult<Data>): void;
  /** The subscription failed for good (a refusal, or a broken protocol); nothing follows. @default rethrows asynchronously */
  error?(error: SubwayClientError): void;
  /** The upstream completed the operation; the source is closed and does not reconnect. */
  complete?(): void;
  /** The stream is open: on the first connection and on every reconnection. */
  open?(): void;
  /** The connection dropped and EventSource is reconnecting. */
  reconnecting?(): void;
  /**
   * The gateway could not resume where the stream stopped (its resume window
   * passed, the buffer overflowed, another instance answered, the credential
   * changed): events may have been missed between the drop and now, so refetch
   * what the page shows. Live results follow. Only with resume on
   * (`RESUME_WINDOW_MS`); the gap event itself is not passed to `next`.
   */
  gap?(): void;
}

/**
 * What the client uses of an EventSource: the browser's, or e.g. the
 * `eventsource` package's in Node. Structural, so any implementation fits
 * whatever DOM or Node typings the app compiles with.
 */
export interface EventSourceLike {
  /** 2 (`EventSource.CLOSED`) once the source gave up for good. */
  readonly readyState: number;
  addEventListener(type: string, listener: (event: { readonly data?: unknown; readonly lastEventId?: string }) => void): void;
  close(): void;
}

/** An EventSource constructor (the client passes `withCredentials`). */
export interface EventSourceConstructor {
  new (url: string, init?: { withCredentials?: boolean }): EventSourceLike;
}

export interface SubscribeOptions {
  /**
   * The gateway's operation endpoint, absolute or relative to the page.
   * @default "/graphql"
   */
  url?: string | undefined;
  /**
   * Send cookies to a gateway on another origin (EventSource's `withCredentials`; the probe of a refusal sends them too).
   * @default false
   */
  withCredentials?: boolean | undefined;
  /** The EventSource implementation. @default globalThis.EventSource */
  EventSource?: EventSourceConstructor | undefined;
  /** The fetch used to read the body of a refused request (EventSource cannot). @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
  /**
   * Milliseconds before reopening a source that the server closed with a 5xx
   * or that a probe could not reach; doubles with each failure in a row, up to 30 s.
   * @default 1000
   */
  retryMs?: number | undefined;
}

const CLOSED = 2; // EventSource.CLOSED, without touching a global that Node may not have
const MAX_RETRY_MS = 30_000;

/**
 * The URL of one subscription: `url?id=<id>&variables=<stable JSON>` (variables
 * left out when empty), and `lastEventId` when continuing after an event (a new
 * EventSource cannot send `Last-Event-ID`; the gateway reads the parameter).
 */
export function operationUrl(url: string, idOrName: string, variables: unknown, lastEventId?: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const target = base === undefined ? new URL(url) : new URL(url, base);
  target.searchParams.set('id', idOrName);
  if (variables !== undefined && variables !== null && !(typeof variables === 'object' && Object.keys(variables).length === 0)) {
    target.searchParams.set('variables', stableStringify(variables));
  }
  if (lastEventId) target.searchParams.set('lastEventId', lastEventId);
  return target.href;
}

/** Whether a result is the gateway's gap event: `{"extensions":{"subway":{"gap":true}}}`, with no data and no errors. */
export function isGap(result: ExecutionResult): boolean {
  const subway = result.extensions?.['subway'] as { gap?: unknown } | undefined;
  return subway?.gap === true && result.data === undefined && result.errors === undefined;
}

function parseErrors(status: number, body: string): SubwayClientError {
  let errors: FormattedError[] = [];
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) errors = parsed.errors.filter((e): e is FormattedError => typeof e?.message === 'string');
  } catch {
    // Not JSON (e.g. a proxy's HTML error page): reported below by status alone.
  }
  const first = errors[0];
  const code = typeof first?.extensions?.['code'] === 'string' ? first.extensions['code'] : `HTTP_${status}`;
  return new SubwayClientError(code, first?.message ?? `The gateway answered ${status}.`, status, errors);
}

/**
 * Subscribes to a persisted operation; returns the function that closes it.
 *
 * ```ts
 * const stop = subscribe('Clock', { intervalMs: 1000 }, { next: ({ data }) => console.log(data?.clock.iso) });
 * ```
 */
export function subscribe<K extends OperationKey>(idOrName: K, variables: VariablesOf<K>, sink: Sink<ResultOf<K>>, options: SubscribeOptions = {}): () => void {
  return subscribeUntyped(idOrName, variables, sink as Sink<unknown>, options);
}

/** A client typed by an operation map (and its ids), for apps that do not augment `Register`. */
export interface Client<Ops extends OperationMap<Ops>, Ids = RegisteredOperationIds> {
  subscribe<K extends OperationKey<Ops, Ids>>(idOrName: K, variables: VariablesOf<K, Ops, Ids>, sink: Sink<ResultOf<K, Ops, Ids>>, options?: SubscribeOptions): () => void;
}

/**
 * Binds options (and an operation map's types) once:
 * `createClient<Operations, OperationIds>({ url: 'https://gw.example/graphql' })`.
 * Without type arguments it takes the registered map.
 */
export function createClient<Ops extends OperationMap<Ops> = RegisteredOperations, Ids = RegisteredOperationIds>(defaults: SubscribeOptions = {}): Client<Ops, Ids> {
  return {
    subscribe: (idOrName, variables, sink, options) => subscribeUntyped(idOrName, variables, sink as Sink<unknown>, { ...defaults, ...options }),
  };
}

function subscribeUntyped(idOrName: string, variables: unknown, sink: Sink<unknown>, options: SubscribeOptions): () => void {
  const EventSourceImpl = options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  if (!EventSourceImpl) throw new TypeError('@subway-sse/client: no EventSource in this runtime; pass options.EventSource.');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const withCredentials = options.withCredentials ?? false;
  const retryMs = options.retryMs ?? 1000;
  const baseUrl = options.url ?? '/graphql';
  let url = operationUrl(baseUrl, idOrName, variables);
  /** The id of the last event received (with resume on, the gateway sends one): where a source of our own opening continues. */
  let lastEventId: string | undefined;

  let source: EventSourceLike | undefined;
  let probe: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let done = false;

  const stop = () => {
    done = true;
    source?.close();
    probe?.abort();
    clearTimeout(timer);
  };
  const fail = (error: SubwayClientError) => {
    if (done) return;
    stop();
    if (sink.error) sink.error(error);
    else
      queueMicrotask(() => {
        throw error;
      });
  };
  const reopenLater = (retryAfterSeconds?: number) => {
    if (done) return;
    const delay = retryAfterSeconds !== undefined && retryAfterSeconds >= 0 ? retryAfterSeconds * 1000 : Math.min(MAX_RETRY_MS, retryMs * 2 ** failures);
    failures++;
    sink.reconnecting?.();
    timer = setTimeout(open, delay);
  };

  /**
   * EventSource closed the source for good: the server answered something
   * other than a 200 event stream, and EventSource hides the body. Ask again
   * with fetch to read the gateway's JSON error. A refusal (4xx) ends the
   * subscription; a 5xx or an unreachable server is transient, so reopen later.
   */
  const diagnose = async () => {
    probe = new AbortController();
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: 'text/event-stream' },
        credentials: withCredentials ? 'include' : 'same-origin',
        signal: probe.signal,
      });
    } catch {
      // Unreachable now (or we were stopped): transient, like EventSource's own network failures.
      return reopenLater();
    }
    const type = response.headers.get('content-type') ?? '';
    if (response.status === 200 && type.startsWith('text/event-stream')) {
      // It works again (the failure was a moment's): drop this stream and reopen the EventSource.
      probe.abort();
      return reopenLater();
    }
    let body = '';
    try {
      body = await response.text();
    } catch {
      if (done) return;
    }
    if (done) return;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) return fail(parseErrors(response.status, body));
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return reopenLater(Number.isFinite(retryAfter) && response.headers.has('retry-after') ? retryAfter : undefined);
    }
    fail(new SubwayClientError('BAD_RESPONSE', `Expected a text/event-stream from ${url}, got ${response.status} ${type || '(no content-type)'}.`, response.status));
  };

  const open = () => {
    if (done) return;
    // EventSource's own reconnects send the last id as `Last-Event-ID`; a new source says it in the URL.
    url = operationUrl(baseUrl, idOrName, variables, lastEventId);
    const es = new EventSourceImpl(url, { withCredentials });
    source = es;
    es.addEventListener('open', () => {
      if (done || source !== es) return;
      failures = 0;
      sink.open?.();
    });
    es.addEventListener('next', (event) => {
      if (done || source !== es) return;
      let result: ExecutionResult;
      try {
        result = JSON.parse(String(event.data)) as ExecutionResult;
      } catch {
        return fail(new SubwayClientError('BAD_EVENT', `A "next" event did not carry JSON: ${String(event.data).slice(0, 100)}`, undefined));
      }
      if (event.lastEventId) lastEventId = event.lastEventId;
      if (result !== null && typeof result === 'object' && isGap(result)) return sink.gap?.();
      sink.next(result);
    });
    es.addEventListener('complete', () => {
      if (done || source !== es) return;
      // Close before anything else: an open source would reconnect and run the finished operation again.
      stop();
      sink.complete?.();
    });
    es.addEventListener('error', () => {
      if (done || source !== es) return;
      if (es.readyState === CLOSED) void diagnose();
      else sink.reconnecting?.();
    });
  };

  open();
  return stop;
}
