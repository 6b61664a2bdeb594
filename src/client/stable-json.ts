/**
 * JSON with object keys sorted at every level, so two objects with the same
 * value serialise to the same text whatever their key order: the React hook
 * compares variables by this text, and the client puts it in the URL (the
 * same subscription is the same URL, which caches and logs well).
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
