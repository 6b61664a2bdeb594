/**
 * A page for the browser tests: mounts one `useSubscription` on command
 * (`window.harness.mount(...)`), shows its state in the DOM, and counts the
 * EventSources the page made, so a test can see closes and reconnections.
 */
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { useSubscription, type SubscriptionState } from '../../../src/client/react.ts';

const sources: EventSource[] = [];
const Native = window.EventSource;
class Counted extends Native {
  constructor(url: string | URL, init?: EventSourceInit) {
    super(url, init);
    sources.push(this);
  }
}

const results: unknown[] = [];
let gaps = 0;
let last: SubscriptionState<unknown> | undefined;

function Probe({ id, variables }: { id: string; variables: unknown }) {
  const state = useSubscription(id as never, variables as never, { EventSource: Counted, onResult: (r) => results.push(r), onGap: () => gaps++ });
  last = state;
  return (
    <pre id="state" data-status={state.status}>
      {JSON.stringify({ status: state.status, data: state.data, error: state.error && { name: state.error.name, code: state.error.code, status: state.error.status, message: state.error.message } })}
    </pre>
  );
}

let root: Root | undefined;
const harness = {
  mount(id: string, variables: unknown, strict = true) {
    root = createRoot(document.getElementById('root')!);
    root.render(strict ? <StrictMode><Probe id={id} variables={variables} /></StrictMode> : <Probe id={id} variables={variables} />);
  },
  unmount() {
    root?.unmount();
    root = undefined;
  },
  state: () => last && { status: last.status, data: last.data, error: last.error && { name: last.error.name, code: last.error.code, status: last.error.status, message: last.error.message } },
  results: () => results,
  /** How many times the gateway said events were missed (onGap), and whether the state shows it. */
  gaps: () => ({ calls: gaps, flag: last?.gap ?? false }),
  /** readyState of every EventSource the page made, in order. */
  sources: () => sources.map((s) => s.readyState),
};
(window as unknown as { harness: typeof harness }).harness = harness;
document.title = 'ready';
