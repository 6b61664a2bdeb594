/**
 * The last resort of `npm start`: an error nothing caught (a rejected promise
 * no one awaited, an exception thrown from a callback) logs one line and the
 * server keeps serving. Node's default, exiting, would let one request that
 * finds such a bug end every other client's streams; the gateway holds no
 * state a stray error could leave half-written that matters more than that.
 * Every known source is caught where it arises (the upstream client, the
 * streams, the request handlers); this is for the ones not known yet.
 */
import { logLine } from './log-line.ts';

/** Installs the handlers; returns their removal. */
export function keepServing(write: (line: string) => void, redact?: (text: string) => string): () => void {
  const onRejection = (reason: unknown) => write(logLine('error', 'unhandled rejection; still serving', reason, redact));
  const onException = (err: unknown) => write(logLine('error', 'uncaught exception; still serving', err, redact));
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
