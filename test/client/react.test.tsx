// @vitest-environment happy-dom
/**
 * The hook in Node: React DOM in happy-dom (its page URL set to the gateway's
 * origin, so `/graphql` and fetch are same-origin as in a browser), the
 * `eventsource` package as the EventSource, a real gateway and a real
 * graphql-ws upstream on loopback.
 * (The same hook runs in real Chromium in test/browser/browser.test.ts.)
 */
import { EventSource as NodeEventSource } from 'eventsource';
import { StrictMode, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { describe, expect, it } from 'vitest';
import type { EventSourceConstructor } from '../../src/client/index.ts';
import { useSubscription, type SubscriptionState, type UseSubscriptionOptions } from '../../src/client/react.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { onTeardown } from '../fixtures/leftovers.ts';
import { startUpstream } from '../fixtures/upstream.ts';

/** Every EventSource the hook made, so a test can see reconnections and closes. */
function trackedEventSource() {
  const made: NodeEventSource[] = [];
  class Tracked extends NodeEventSource {
    constructor(url: string | URL, init?: { withCredentials?: boolean }) {
      super(url, init);
      made.push(this);
    }
  }
  onTeardown(() => made.forEach((es) => es.close()));
  return { EventSource: Tracked as unknown as EventSourceConstructor, made };
}

/** A real gateway in front of a real upstream, with the page "served" from the gateway's origin. */
async function setup() {
  const upstream = await startUpstream();
  const gateway = await startGateway(upstream.url);
  (globalThis as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${gateway.url}/`);
  return { upstream, gateway: gateway.gateway };
}

type State = SubscriptionState<unknown>;

function recorder() {
  const states: State[] = [];
  const waiters = new Set<() => void>();
  return {
    states,
    get last() {
      return states[states.length - 1]!;
    },
    record(s: State) {
      states.push(s);
      for (const w of [...waiters]) w();
    },
    until(predicate: (s: State) => boolean, what: string) {
      return new Promise<State>((resolve, reject) => {
        const check = () => {
          const s = states[states.length - 1];
          if (s && predicate(s)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(s);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; last state ${JSON.stringify(states[states.length - 1])}`));
        }, 5000);
        waiters.add(check);
        check();
      });
    },
  };
}

function Probe(props: { id: string; variables: unknown; options: UseSubscriptionOptions<unknown>; record: (s: State) => void }) {
  const state = useSubscription(props.id as never, props.variables as never, props.options as never);
  props.record(state as State);
  return null;
}

function mount(node: ReactNode) {
  const root = createRoot(document.createElement('div'));
  let mounted = true;
  const render = (next: ReactNode) => flushSync(() => root.render(next));
  const unmount = () => {
    if (mounted) root.unmount();
    mounted = false;
  };
  render(node);
  onTeardown(unmount);
  return { render, unmount };
}

describe('useSubscription', () => {
  it('renders live data, re-subscribes only on a new variables value, and closes on unmount', async () => {
    const { upstream } = await setup();
    const { EventSource, made } = trackedEventSource();
    const rec = recorder();
    const options = { EventSource };
    const view = mount(<Probe id="Ticks" variables={{ symbol: 'A' }} options={options} record={rec.record} />);
    expect(rec.states[0]).toEqual({ data: undefined, error: undefined, status: 'connecting', gap: false });
    await upstream.until(() => upstream.listeners('A') === 1, 'the upstream subscription');
    await rec.until((s) => s.status === 'open', 'open');
    upstream.publish('A', { symbol: 'A', price: 1.5 });
    expect(await rec.until((s) => s.data !== undefined, 'data')).toEqual({ data: { ticks: { symbol: 'A', price: 1.5 } }, error: undefined, status: 'open', gap: false });

    // Same value, new object: no new EventSource.
    view.render(<Probe id="Ticks" variables={{ symbol: 'A' }} options={{ ...options }} record={rec.record} />);
    upstream.publish('A', { symbol: 'A', price: 2 });
    await rec.until((s) => (s.data as { ticks: { price: number } } | undefined)?.ticks.price === 2, 'the second tick');
    expect(made).toHaveLength(1);
    expect(upstream.connections).toBe(1);

    // A new value: the old stream closes (upstream sees it), a new one opens, old data is not shown for it.
    view.render(<Probe id="Ticks" variables={{ symbol: 'B' }} options={options} record={rec.record} />);
    expect(rec.last).toEqual({ data: undefined, error: undefined, status: 'connecting', gap: false });
    await upstream.until(() => upstream.listeners('A') === 0 && upstream.listeners('B') === 1, 'A closed, B open');
    expect(made).toHaveLength(2);
    expect(made[0]!.readyState).toBe(2);

    view.unmount();
    await upstream.until(() => upstream.sockets === 0, 'every upstream socket closed');
    expect(made[1]!.readyState).toBe(2);
  });

  it('compares variables by value whatever the key order', async () => {
    const { upstream } = await setup();
    const { EventSource, made } = trackedEventSource();
    const rec = recorder();
    const options = { EventSource };
    const view = mount(<Probe id="Orders" variables={{ filter: { symbols: ['X'], side: 'BUY' } }} options={options} record={rec.record} />);
    await rec.until((s) => s.status === 'open', 'open');
    view.render(<Probe id="Orders" variables={{ filter: { side: 'BUY', symbols: ['X'] } }} options={options} record={rec.record} />);
    await upstream.until(() => upstream.listeners('orders') === 1, 'the upstream subscription');
    upstream.publish('orders', { symbol: 'X', side: 'BUY' });
    await rec.until((s) => s.data !== undefined, 'an order');
    expect(made).toHaveLength(1);
    expect(new URL(made[0]!.url).searchParams.get('variables')).toBe('{"filter":{"side":"BUY","symbols":["X"]}}');
  });

  it('delivers one subscription\'s results under StrictMode (mount, unmount, mount), and leaks nothing', async () => {
    const { upstream, gateway } = await setup();
    const { EventSource, made } = trackedEventSource();
    const rec = recorder();
    const results: unknown[] = [];
    mount(
      <StrictMode>
        <Probe id="Greetings" variables={{ count: 1 }} options={{ EventSource, onResult: (r) => results.push(r) }} record={rec.record} />
      </StrictMode>,
    );
    // The first mount's source is closed by its cleanup before the second opens.
    expect(made).toHaveLength(2);
    expect(made[0]!.readyState).toBe(2);
    expect(await rec.until((s) => s.status === 'complete', 'complete')).toEqual({ data: { greetings: 'hi 0' }, error: undefined, status: 'complete', gap: false });
    expect(results).toEqual([{ data: { greetings: 'hi 0' } }]);
    expect(made[1]!.readyState).toBe(2);
    await upstream.until(() => upstream.sockets === 0 && gateway.stats().streams === 0, 'nothing left open');
  });

  it('ends in "complete" and closes the source, so EventSource does not run the operation again', async () => {
    const { upstream } = await setup();
    const { EventSource, made } = trackedEventSource();
    const rec = recorder();
    const results: unknown[] = [];
    mount(<Probe id="Greetings" variables={{ count: 2 }} options={{ EventSource, onResult: (r) => results.push(r) }} record={rec.record} />);
    const done = await rec.until((s) => s.status === 'complete', 'complete');
    expect(done).toEqual({ data: { greetings: 'hi 1' }, error: undefined, status: 'complete', gap: false });
    expect(results).toEqual([{ data: { greetings: 'hi 0' } }, { data: { greetings: 'hi 1' } }]);
    expect(made).toHaveLength(1);
    expect(made[0]!.readyState).toBe(2);
    expect(upstream.received.filter((m) => m.type === 'subscribe')).toHaveLength(1);
  });

  it.each([
    ['an unknown id', 'Nope', {}, 404, 'PERSISTED_QUERY_NOT_IN_LIST', 'No registered operation has the id "Nope".'],
    ['a missing variable', 'Ticks', {}, 400, 'BAD_USER_INPUT', 'Variable "$symbol" of required type "String!" was not provided.'],
  ])('surfaces the gateway refusal of %s with its message and code', async (_, id, variables, status, code, message) => {
    const { upstream } = await setup();
    const { EventSource, made } = trackedEventSource();
    const rec = recorder();
    mount(<Probe id={id} variables={variables} options={{ EventSource }} record={rec.record} />);
    const failed = await rec.until((s) => s.status === 'error', 'error');
    expect(failed.error).toMatchObject({ name: 'SubwayClientError', code, status, message });
    expect(made).toHaveLength(1);
    expect(upstream.connections).toBe(0);
  });

  it('sets `gap` and calls onGap when the gateway says events were missed, and goes on with live data', async () => {
    const upstream = await startUpstream();
    const gateway = await startGateway(upstream.url, { resumeWindowMs: 60_000 });
    (globalThis as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${gateway.url}/`);
    // A page continuing from an event this gateway does not have (it restarted meanwhile): a said gap.
    class Stale extends NodeEventSource {
      constructor(url: string | URL, init?: { withCredentials?: boolean }) {
        super(url, { ...init, fetch: (input, fetchInit) => fetch(input, { ...fetchInit, headers: { ...fetchInit?.headers, 'last-event-id': 'AAAAAAAAAAAAAAAAAAAAAA5' } }) });
      }
    }
    const rec = recorder();
    let gaps = 0;
    const options = { EventSource: Stale as unknown as EventSourceConstructor, onGap: () => gaps++ };
    const { unmount } = mount(<Probe id="Ticks" variables={{ symbol: 'P' }} options={options} record={rec.record} />);
    expect(await rec.until((s) => s.gap, 'the gap')).toEqual({ data: undefined, error: undefined, status: 'open', gap: true });
    expect(gaps).toBe(1);
    await upstream.until(() => upstream.listeners('P') === 1, 'subscribed');
    upstream.publish('P', { symbol: 'P', price: 7 });
    expect(await rec.until((s) => s.data !== undefined, 'data')).toEqual({ data: { ticks: { symbol: 'P', price: 7 } }, error: undefined, status: 'open', gap: true });
    unmount();
  });

  it('keeps the latest onResult without re-subscribing', async () => {
    const { upstream } = await setup();
    const { EventSource, made } = trackedEventSource();
    const seen: string[] = [];
    function Labelled() {
      const [label, setLabel] = useState('first');
      useSubscription('Ticks' as never, { symbol: 'L' } as never, {
                EventSource,
        onResult: () => {
          seen.push(label);
          setLabel('second');
        },
      });
      return null;
    }
    mount(<Labelled />);
    await upstream.until(() => upstream.listeners('L') === 1, 'subscribed');
    upstream.publish('L', { symbol: 'L', price: 1 });
    await expect.poll(() => seen.length, { interval: 5 }).toBe(1);
    upstream.publish('L', { symbol: 'L', price: 2 });
    await expect.poll(() => seen.length, { interval: 5 }).toBe(2);
    expect(seen).toEqual(['first', 'second']);
    expect(made).toHaveLength(1);
  });
});
