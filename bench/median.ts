/**
 * The median of several runs' results, field by field: numbers by their
 * median (the mean of the middle two for an even count), arrays element by
 * element, objects key by key; anything else (text, flags) as the first run
 * has it. A figure missing from some runs is the median of the runs that have it.
 */
export function median(values: unknown[]): unknown {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length === 0) return values[0];
  if (present.every((v) => typeof v === 'number')) {
    const sorted = (present as number[]).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  if (present.every(Array.isArray)) {
    const arrays = present as unknown[][];
    const length = Math.max(...arrays.map((a) => a.length));
    return Array.from({ length }, (_, i) => median(arrays.map((a) => a[i])));
  }
  if (present.every((v) => typeof v === 'object')) {
    const objects = present as Record<string, unknown>[];
    const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
    return Object.fromEntries(keys.map((k) => [k, median(objects.map((o) => o[k]))]));
  }
  return present[0];
}
