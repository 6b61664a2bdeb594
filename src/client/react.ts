/**
 * `@subway-sse/client/react`: `useSubscription(idOrName, variables, options)` on
 * `@subway-sse/client`. It re-subscribes only when the variables' value changes
 * (compared by their stable JSON, so `{ room: 'a' }` written inline in a
 * component does not reopen the stream on every render), closes the
 * EventSource on unmount, and under StrictMode's mount, unmount, mount it
 * closes the first source before opening the second.
 */
import { useDebugValue, useEffect, useState } from 'react';
import {
  stableStringify,
  subscribe as subscribeTyped,
  SubwayClientError,
  type ExecutionResult,
  type OperationKey,
  type ResultOf,
  type Sink,
  type SubscribeOptions,
  type VariablesOf,
} from './index.ts';

export { SubwayClientError } from './index.ts';
export type {
  ExecutionResult,
  OperationKey,
  OperationMap,
  Register,
  RegisteredOperationIds,
  RegisteredOperations,
  ResultOf,
  SubscribeOptions,
  VariablesOf,
} from './index.ts';

/** `connecting` until the stream opens (and again while EventSource reconnects), `open`, then `complete` or `error`. */
export type SubscriptionStatus = 'connecting' | 'open' | 'complete' | 'error';

export interface SubscriptionState<Data> {
  /** The `data` of the latest result that had some; `undefined` before the first. */
  data: Data | undefined;
  /** A refusal by the gateway (`status: 'error'`), or the GraphQL errors of the latest result (`code: 'GRAPHQL_ERROR'` or the error's own code). */
  error: SubwayClientError | undefined;
  status: SubscriptionStatus;
  /**
   * The gateway said events were missed (resume could not continue where the
   * stream stopped, docs/resume.md): refetch what `data` stands for. Stays
   * true until the operation or its variables change; `onGap` says each time.
   */
  gap: boolean;
}

export interface UseSubscriptionOptions<Data> extends SubscribeOptions {
  /** Called with every result, e.g. to append chat messages to a list (the state keeps only the latest). */
  onResult?: ((result: ExecutionResult<Data>) => void) | undefined;
  /** Called each time the gateway says events were missed (a said gap, docs/resume.md), e.g. to refetch. */
  onGap?: (() => void) | undefined;
}

// The hook's own generics type the call; inside, the untyped signature.
const subscribe = subscribeTyped as unknown as (id: string, variables: unknown, sink: Sink<never>, options: SubscribeOptions) => () => void;

const initial: SubscriptionState<never> = { data: undefined, error: undefined, status: 'connecting', gap: false };

function resultError(result: ExecutionResult): SubwayClientError | undefined {
  const first = result.errors?.[0];
  if (!first) return undefined;
  const code = typeof first.extensions?.['code'] === 'string' ? first.extensions['code'] : 'GRAPHQL_ERROR';
  return new SubwayClientError(code, first.message, undefined, result.errors);
}

/**
 * ```tsx
 * const { data, status } = useSubscription('Clock', { intervalMs: 1000 });
 * return <time>{status === 'open' ? data?.clock.iso : status}</time>;
 * ```
 */
export function useSubscription<K extends OperationKey>(
  idOrName: K,
  variables: VariablesOf<K>,
  options: UseSubscriptionOptions<ResultOf<K>> = {},
): SubscriptionState<ResultOf<K>> {
  type Data = ResultOf<K>;
  const key = stableStringify(variables ?? null);
  const { url, withCredentials, EventSource, fetch, retryMs, onResult, onGap } = options;
  // The latest callbacks without re-subscribing when a component passes new arrows each render.
  const [handlers] = useState(() => ({ onResult, onGap }));
  handlers.onResult = onResult;
  handlers.onGap = onGap;
  const [state, setState] = useState<SubscriptionState<Data> & { for: string }>(() => ({ ...initial, for: `${idOrName}\n${key}` }));

  useEffect(() => {
    const target = `${idOrName}\n${key}`;
    let active = true;
    const update = (next: (s: SubscriptionState<Data>) => SubscriptionState<Data>) => {
      if (!active) return;
      setState((s) => {
        const base = s.for === target ? s : { ...initial, for: target };
        const changed = next(base);
        return changed === base ? base : { ...changed, for: target };
      });
    };
    // A fresh start (new variables, or StrictMode's second mount): connecting, no data; no render if already so.
    update((s) => (s.status === 'connecting' && s.data === undefined && s.error === undefined && !s.gap ? s : initial));
    const stop = subscribe(
      idOrName,
      JSON.parse(key),
      {
        open: () => update((s) => (s.status === 'connecting' ? { ...s, status: 'open' } : s)),
        reconnecting: () => update((s) => ({ ...s, status: 'connecting' })),
        next: (result: ExecutionResult<Data>) => {
          update((s) => ({ data: result.data ?? s.data, error: resultError(result), status: 'open', gap: s.gap }));
          handlers.onResult?.(result);
        },
        gap: () => {
          update((s) => (s.gap && s.status === 'open' ? s : { ...s, status: 'open', gap: true }));
          handlers.onGap?.();
        },
        error: (error) => update((s) => ({ ...s, error, status: 'error' })),
        complete: () => update((s) => ({ ...s, status: 'complete' })),
      },
      { url, withCredentials, EventSource, fetch, retryMs },
    );
    return () => {
      active = false;
      stop();
    };
  }, [idOrName, key, url, withCredentials, EventSource, fetch, retryMs, handlers]);

  // Until the effect has run for new variables, show them as connecting rather than the old ones' data.
  const current: SubscriptionState<Data> = state.for === `${idOrName}\n${key}` ? state : initial;
  useDebugValue(current.status);
  return { data: current.data, error: current.error, status: current.status, gap: current.gap };
}
