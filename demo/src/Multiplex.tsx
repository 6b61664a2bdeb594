import { memo, useEffect, useRef, useState } from 'react';
import { useSubscription } from '@subway-sse/client/react';

interface Tally {
  /** Events received per cell. */
  events: number[];
}

const Cell = memo(function Cell({ index, tally }: { index: number; tally: Tally }) {
  const [events, setEvents] = useState(0);
  const { data, status } = useSubscription(
    'Counter',
    { room: `mux-${index}` },
    {
      onResult: () => {
        tally.events[index] = (tally.events[index] ?? 0) + 1;
        setEvents((n) => n + 1);
      },
    },
  );
  return (
    <li className={`cell cell-${events > 0 ? 'live' : status}`} data-events={events} title={`Counter(room: "mux-${index}") · ${status} · ${events} events`}>
      {data?.counter ?? ''}
    </li>
  );
});

/** Opens N subscriptions at once: over HTTP/2 they all stream on one connection; over HTTP/1.1 the browser runs six. */
export function Multiplex({ protocol, initial, autoOpen }: { protocol: string; initial: number; autoOpen: boolean }) {
  const [count, setCount] = useState(initial);
  const [open, setOpen] = useState(autoOpen ? initial : 0);
  const tally = useRef<Tally>({ events: [] });
  const [summary, setSummary] = useState({ streaming: 0, events: 0 });
  useEffect(() => {
    if (open === 0) return;
    const refresh = () => {
      const live = tally.current.events.slice(0, open);
      setSummary({ streaming: live.filter((n) => n > 0).length, events: live.reduce((a, n) => a + (n ?? 0), 0) });
    };
    refresh();
    const timer = setInterval(refresh, 200);
    return () => clearInterval(timer);
  }, [open]);
  const toggle = () => {
    tally.current = { events: [] };
    setSummary({ streaming: 0, events: 0 });
    setOpen(open ? 0 : count);
  };
  const waiting = open - summary.streaming;
  return (
    <section className="card wide mux" data-testid="mux" data-open={open} data-streaming={summary.streaming}>
      <header>
        <div>
          <h2>HTTP/2 multiplexing</h2>
          <code>{open ? `${open} × Counter(room: "mux-i")` : 'N subscriptions at once'}</code>
        </div>
        <div className="mux-controls">
          <input type="range" min={1} max={200} value={count} disabled={open > 0} onChange={(e) => setCount(Number(e.target.value))} aria-label="subscriptions" />
          <b className="mux-n">{count}</b>
          <button className="primary" onClick={toggle}>
            {open ? 'Close all' : `Open ${count}`}
          </button>
        </div>
      </header>
      <div className="mux-stats">
        <div>
          <b>{open}</b>
          <span>requested</span>
        </div>
        <div className="good">
          <b>{summary.streaming}</b>
          <span>streaming</span>
        </div>
        <div className={waiting > 0 && open > 0 ? 'warn' : ''}>
          <b>{open ? waiting : 0}</b>
          <span>waiting</span>
        </div>
        <div>
          <b>{summary.events}</b>
          <span>events</span>
        </div>
        <div className={protocol === 'h2' ? 'good' : 'warn'}>
          <b>{protocol}</b>
          <span>{protocol === 'h2' ? 'one TCP connection' : 'six connections max'}</span>
        </div>
      </div>
      {open > 0 ? (
        <ul className="cells">
          {Array.from({ length: open }, (_, i) => (
            <Cell key={i} index={i} tally={tally.current} />
          ))}
        </ul>
      ) : (
        <p className="muted">
          Each cell is its own EventSource and its own upstream subscription. Over HTTP/2 they share one TCP connection and all stream at once; over
          HTTP/1.1 a browser opens at most six connections per host, so the seventh subscription waits for one of them to close.
        </p>
      )}
    </section>
  );
}
