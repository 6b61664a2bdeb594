/**
 * Structured logs: one JSON line per stream start and end (operation,
 * duration, events, end reason), and one per operation list loaded or
 * refused. Variables are left out unless asked for; tokens never reach a log
 * line, since headers are never logged (and URLs are shown without their
 * query string).
 */
import { DEFAULTS } from '../defaults.ts';
import type { Instrumentation } from './instrumentation.ts';

export interface JsonLogOptions {
  /** Where each line goes (without its newline). */
  write(line: string): void;
  /**
   * Log each stream's start and end (`LOG_STREAMS`). The operation sources' lines are written either way.
   * @default true
   */
  logStreams?: boolean;
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
  const sources: Instrumentation = {
    onOperationSource(event) {
      if (event.outcome === 'loaded') line({ msg: 'operations loaded', source: event.source, operations: event.operations, total: event.total });
      // One line per failed attempt: the last good list stays in service.
      if (event.outcome === 'failed') line({ level: 'warn', msg: 'operations source failed', source: event.source, reason: event.reason, error: event.error, total: event.total });
    },
  };
  if (!(options.logStreams ?? DEFAULTS.logStreams)) return sources;
  return {
    ...sources,
    onStreamStart({ id, operation, client, variables, resume }) {
      line({ msg: 'stream start', stream: id, operation, client, ...(resume ? { resume } : {}), ...(options.logVariables ? { variables } : {}) });
    },
    onStreamEnd({ id, operation, client, reason, durationMs, events, bytes }) {
      line({ msg: 'stream end', stream: id, operation, client, reason, durationMs, events, bytes });
    },
  };
}
