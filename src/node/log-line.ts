/**
 * One JSON line per unexpected error, for the Node server's logs: the error's
 * name and message, and the top of its stack in the same line (never sent to
 * clients). Anything that may carry the upstream URL's credentials goes
 * through `redact` first.
 */

const STACK_FRAMES = 5;

function describe(err: unknown): { error: string; stack?: string } {
  try {
    if (err instanceof Error) {
      const frames = err.stack?.split('\n').slice(1, 1 + STACK_FRAMES).map((l) => l.trim()).join(' | ');
      return { error: `${err.name}: ${err.message}`, ...(frames ? { stack: frames } : {}) };
    }
    return { error: String(err) };
  } catch {
    return { error: 'an error that cannot be described' };
  }
}

/** `{"time":…,"level":…,"msg":…,"error":"RangeError: …","stack":"at … | at …"}` on one line. */
export function logLine(level: 'error' | 'warn', msg: string, err?: unknown, redact: (text: string) => string = (t) => t): string {
  const fields: Record<string, string | undefined> = err === undefined ? {} : describe(err);
  const safe = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, redact(v ?? '')]));
  return JSON.stringify({ time: new Date().toISOString(), level, msg: redact(msg), ...safe });
}
