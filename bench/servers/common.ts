/**
 * What every server process of the benchmark shares: its arguments
 * (`--upstream <ws url>`, optional `--cert <pem> --key <pem>` for HTTP/2 over
 * TLS with HTTP/1.1 as the ALPN fallback) and the IPC hand-shake that tells
 * the orchestrator the port. CPU time and RSS are read from /proc by the
 * orchestrator, so nothing runs inside the measured process for them.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';

export interface ServerArgs {
  upstream: string;
  tls?: { cert: Buffer; key: Buffer };
  /** The certificate's and key's paths, for a server that reads them itself (subway: TLS_CERT, TLS_KEY). */
  tlsFiles?: { cert: string; key: string };
  /** Another checkout's src/ folder (subway only). */
  src?: string;
  /** Yoga only: one graphql-ws client (one multiplexed socket) for every subscription, instead of one each. */
  pooled: boolean;
}

export function serverArgs(): ServerArgs {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, src: { type: 'string' }, pooled: { type: 'boolean', default: false } } });
  if (!values.upstream) throw new Error('--upstream is required');
  const tls = values.cert && values.key ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined;
  const tlsFiles = values.cert && values.key ? { cert: values.cert, key: values.key } : undefined;
  return { upstream: values.upstream, tls, tlsFiles, src: values.src, pooled: values.pooled! };
}

export function ready(port: number): void {
  process.send?.({ ready: true, port });
  // Between measurements only: the orchestrator asks for a full GC and the heap after it (leak check).
  process.on('message', (m: { cmd?: string; id?: number }) => {
    if (m?.cmd !== 'gc') return;
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, heapTotal, external, arrayBuffers, rss } = process.memoryUsage();
    // The committed size of each V8 space: where RSS goes that live objects do not explain (e.g. a grown young generation).
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
    process.send?.({ reply: m.id, result: { heapUsed, heapTotal, external, arrayBuffers, rss, spaces } });
  });
  // The orchestrator owns this process: when it goes, so do we.
  process.on('disconnect', () => process.exit(0));
}
