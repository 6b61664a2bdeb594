import { useState } from 'react';
import { useSubscription } from '@subway-sse/client/react';

function Ticker({ symbol }: { symbol: string }) {
  const { data, error, status } = useSubscription('Ticks', { symbol });
  const price: number | undefined = data?.ticks.price;
  return (
    <p id={`ticker-${symbol}`} data-status={status}>
      {symbol}: {status === 'error' ? `${error?.code}: ${error?.message}` : price === undefined ? status : price.toFixed(2)}
    </p>
  );
}

export function App() {
  const [symbols] = useState(() => new URLSearchParams(location.search).getAll('symbol'));
  return (
    <main>
      {symbols.map((symbol) => (
        <Ticker key={symbol} symbol={symbol} />
      ))}
    </main>
  );
}
