/**
 * Structured logs: one JSON line per stream start and end (operation,
 * duration, events, end reason). Variables are left out unless asked for;
 * tokens never reach a log line, since headers are never logged.
 */
import type { Instrumentation } from './instrumentation.ts';

export interface JsonLogOptions {
  /** Where each line goes (without its newline). */
  write(line: string): void;
  /**
   * Log each stream's variables on its start line. They may hold personal data or secrets.
   * @default false
   */
  logVariables?: boolean;
  /** The clock, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

export function createJsonLog(options: JsonLogOptions): Instrumentation {
  const now = options.now ?? Date.now;
  const line = (fields: Record<string, unknown>) => options.write(JSON.stringify({ time: new Date(now()).toISOString(), level: 'info', ...fields }));
  return {
    onStreamStart({ id, operation, client, variables }) {
      line({ msg: 'stream start', stream: id, operation, client, ...(options.logVariables ? { variables } : {}) });
    },
    onStreamEnd({ id, operation, client, reason, durationMs, events, bytes }) {
      line({ msg: 'stream end', stream: id, operation, client, reason, durationMs, events, bytes });
    },
  };
}
