/**
 * What every server process of the benchmark shares: its arguments
 * (`--upstream <ws url>`, optional `--cert <pem> --key <pem>` for HTTP/2 over
 * TLS with HTTP/1.1 as the ALPN fallback) and the IPC hand-shake that tells
 * the orchestrator the port. CPU time and RSS are read from /proc by the
 * orchestrator, so nothing runs inside the measured process for them.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface ServerArgs {
  upstream: string;
  tls?: { cert: Buffer; key: Buffer };
  /** Another checkout's src/ folder (subway only). */
  src?: string;
}

export function serverArgs(): ServerArgs {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, src: { type: 'string' } } });
  if (!values.upstream) throw new Error('--upstream is required');
  const tls = values.cert && values.key ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined;
  return { upstream: values.upstream, tls, src: values.src };
}

export function ready(port: number): void {
  process.send?.({ ready: true, port });
  // Between measurements only: the orchestrator asks for a full GC and the heap after it (leak check).
  process.on('message', (m: { cmd?: string; id?: number }) => {
    if (m?.cmd !== 'gc') return;
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
    process.send?.({ reply: m.id, result: { heapUsed, external, arrayBuffers, rss } });
  });
  // The orchestrator owns this process: when it goes, so do we.
  process.on('disconnect', () => process.exit(0));
}
