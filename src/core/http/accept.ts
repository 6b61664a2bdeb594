/** Whether an `Accept` header allows `text/event-stream` (absent, `*\/*` and `text/*` do). */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return range === 'text/event-stream' || range === '*/*' || range === 'text/*';
  });
}
