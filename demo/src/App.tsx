import { useMemo, useState } from 'react';
import { useSubscription, type SubscriptionStatus } from '@subway-sse/client/react';
import type { ResultOf } from '@subway-sse/client';
import type { Symbol as StockSymbol } from '../../persisted-operations/operations.ts';
import { Multiplex } from './Multiplex.tsx';
import { pageProtocol } from './protocol.ts';
import { Sharing } from './Sharing.tsx';

const ROOMS = ['lobby', 'dev', 'ops'];
type Tick = ResultOf<'Ticks'>['ticks'];
type ChatMessage = ResultOf<'Chat'>['chat'];

const SYMBOLS: StockSymbol[] = ['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA'];

export function StatusPill({ status }: { status: SubscriptionStatus }) {
  return (
    <span className={`pill pill-${status}`} data-status={status}>
      <i />
      {status}
    </span>
  );
}

function Card(props: { title: string; op: string; status: SubscriptionStatus; children: React.ReactNode; wide?: boolean; testId?: string }) {
  return (
    <section className={`card${props.wide ? ' wide' : ''}`} data-testid={props.testId}>
      <header>
        <div>
          <h2>{props.title}</h2>
          <code>{props.op}</code>
        </div>
        <StatusPill status={props.status} />
      </header>
      {props.children}
    </section>
  );
}

function Segmented<T extends string | number>(props: { value: T; options: readonly T[]; onChange: (v: T) => void; label?: (v: T) => string }) {
  return (
    <div className="segmented" role="group">
      {props.options.map((o) => (
        <button key={o} className={o === props.value ? 'on' : ''} onClick={() => props.onChange(o)}>
          {props.label ? props.label(o) : o}
        </button>
      ))}
    </div>
  );
}

function ClockCard() {
  const [intervalMs, setIntervalMs] = useState(1000);
  const { data, status, error } = useSubscription('Clock', { intervalMs });
  const time = data ? new Date(data.clock.epochMs) : undefined;
  return (
    <Card title="Clock" op={`Clock(intervalMs: ${intervalMs})`} status={status} testId="clock">
      <div className="clock" data-iso={data?.clock.iso ?? ''}>
        {time ? time.toLocaleTimeString([], { hour12: false }) : '--:--:--'}
        {intervalMs < 1000 && <small>.{time ? String(time.getMilliseconds()).padStart(3, '0').slice(0, 1) : '-'}</small>}
      </div>
      <p className="muted">{time ? time.toDateString() : 'waiting for the first event'}</p>
      {error && <p className="error">{error.message}</p>}
      <Segmented value={intervalMs} options={[250, 1000, 5000] as const} onChange={setIntervalMs} label={(v) => (v < 1000 ? `${v} ms` : `${v / 1000} s`)} />
    </Card>
  );
}

/**
 * Resets the page's connections to the gateway (the demo server's own route, never a configured gateway's), as a
 * dropped network would: EventSource reconnects, and with RESUME_WINDOW_MS set the gateway replays what it missed.
 */
async function cutNetwork(): Promise<void> {
  try {
    await fetch('/demo/cut-network', { method: 'POST' });
  } catch {
    // The request's own connection is among those reset: a network error is the expected answer.
  }
}

function CounterCard() {
  const [room, setRoom] = useState('lobby');
  // Numbers the room counted that this page never saw: every one is shown once, in order, unless a stream lost some.
  const [seen, setSeen] = useState({ room, last: 0, missed: 0 });
  const [cuts, setCuts] = useState(0);
  const { data, status, gap } = useSubscription(
    'Counter',
    { room },
    {
      onResult: ({ data }) => {
        if (!data) return;
        const n = data.counter;
        setSeen((s) => (s.room !== room ? { room, last: n, missed: 0 } : { room, last: n, missed: s.missed + (s.last > 0 && n > s.last + 1 ? n - s.last - 1 : 0) }));
      },
    },
  );
  const missed = seen.room === room ? seen.missed : 0;
  return (
    <Card title="Counter per room" op={`Counter(room: "${room}")`} status={status} testId="counter">
      <div className="counter" key={`${room}-${data?.counter}`}>
        {data?.counter ?? '·'}
      </div>
      <p className="muted" data-missed={missed} data-gap={gap ? 'true' : 'false'} data-cuts={cuts}>
        {missed === 0 ? 'No number missed' : `${missed} missed`}
        {gap ? ' (the gateway said so: a gap)' : ''}
        {cuts > 0 ? ` across ${cuts} network cut${cuts > 1 ? 's' : ''}.` : '.'} Shared by everyone in the room.
      </p>
      <div className="row">
        <Segmented value={room} options={ROOMS} onChange={setRoom} />
        <button
          className="chip"
          title="Resets this page's connections to the gateway, as a dropped network would (demo server only)"
          onClick={() => {
            setCuts((c) => c + 1);
            void cutNetwork();
          }}
        >
          Cut network
        </button>
      </div>
    </Card>
  );
}

function Sparkline({ points }: { points: number[] }) {
  if (points.length < 2) return <svg className="spark" />;
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min || 1;
  const d = points.map((p, i) => `${(i / (points.length - 1)) * 100},${28 - ((p - min) / span) * 26}`).join(' ');
  const up = points[points.length - 1]! >= points[0]!;
  return (
    <svg className="spark" viewBox="0 0 100 30" preserveAspectRatio="none">
      <polyline points={d} className={up ? 'up' : 'down'} />
    </svg>
  );
}

function TicksCard() {
  const [symbols, setSymbols] = useState<StockSymbol[]>(['ACME', 'GLOBEX']);
  const [history, setHistory] = useState<Record<string, Tick[]>>({});
  const { status } = useSubscription(
    'Ticks',
    { filter: { symbols, everyMs: 700 } },
    {
      onResult: ({ data }) => {
        if (!data) return;
        const tick = data.ticks;
        setHistory((h) => ({ ...h, [tick.symbol]: [...(h[tick.symbol] ?? []).slice(-39), tick] }));
      },
    },
  );
  const toggle = (s: StockSymbol) => setSymbols((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : SYMBOLS.filter((x) => x === s || cur.includes(x))));
  return (
    <Card title="Ticker" op={`Ticks(filter: {symbols: [${symbols.join(', ')}]})`} status={status} testId="ticks">
      <table className="ticks">
        <tbody>
          {symbols.map((s) => {
            const ticks = history[s] ?? [];
            const last = ticks[ticks.length - 1];
            return (
              <tr key={s}>
                <th>{s}</th>
                <td className="price">{last ? last.price.toFixed(2) : '—'}</td>
                <td className={last && last.change < 0 ? 'down' : 'up'}>{last ? `${last.change >= 0 ? '▲' : '▼'} ${Math.abs(last.change).toFixed(2)}` : ''}</td>
                <td className="sparkcell">
                  <Sparkline points={ticks.map((t) => t.price)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {symbols.length === 0 && <p className="muted">Pick a symbol: an empty list is still a valid subscription, it just never ticks.</p>}
      <div className="chips">
        {SYMBOLS.map((s) => (
          <button key={s} className={symbols.includes(s) ? 'chip on' : 'chip'} onClick={() => toggle(s)}>
            {s}
          </button>
        ))}
      </div>
    </Card>
  );
}

function ChatCard() {
  const [room, setRoom] = useState('lobby');
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const { status } = useSubscription('Chat', { room }, { onResult: ({ data }) => data && setMessages((m) => [...m.slice(-5), data.chat]) });
  return (
    <Card title="Chat" op={`Chat(room: "${room}")`} status={status} testId="chat">
      <ul className="chat">
        {messages.length === 0 && <li className="muted">The room's bot speaks every four seconds…</li>}
        {messages.map((m) => (
          <li key={m.id}>
            <span className="avatar">{m.author.slice(0, 2)}</span>
            <div>
              <b>{m.author}</b> <time>{new Date(m.at).toLocaleTimeString([], { hour12: false })}</time>
              <p>{m.text}</p>
            </div>
          </li>
        ))}
      </ul>
      <Segmented
        value={room}
        options={ROOMS}
        onChange={(r) => {
          setMessages([]);
          setRoom(r);
        }}
      />
    </Card>
  );
}

export function App() {
  const protocol = useMemo(pageProtocol, []);
  const params = new URLSearchParams(location.search);
  const muxOnly = params.has('mux');
  const muxCount = Math.min(500, Math.max(1, Number(params.get('mux')) || 50));
  return (
    <div className="page">
      <header className="top">
        <div className="brand">
          <span className="logo">◉</span>
          <div>
            <h1>subway</h1>
            <p>GraphQL subscriptions as server-sent events, one <code>EventSource</code> each</p>
          </div>
        </div>
        <Sharing />
        <div className={`protocol ${protocol === 'h2' ? 'good' : 'warn'}`} data-protocol={protocol} title="performance.getEntriesByType('navigation')[0].nextHopProtocol">
          <span>protocol</span>
          <b>{protocol}</b>
        </div>
      </header>
      {!muxOnly && (
        <main className="grid">
          <ClockCard />
          <CounterCard />
          <TicksCard />
          <ChatCard />
        </main>
      )}
      <Multiplex protocol={protocol} initial={muxOnly ? muxCount : 24} autoOpen={muxOnly} />
      <footer>
        Each card is <code>useSubscription(id, variables)</code> from <code>@subway-sse/client/react</code>: one stream per subscription. Upstream, a
        socket per stream by default; started with <code>UPSTREAM_SHARING=subscription</code>, identical cards in every tab share one upstream
        subscription (the figures at the top, from <code>/metrics</code>). Open DevTools → Network → a <code>graphql?id=…</code> request → EventStream.
      </footer>
    </div>
  );
}
