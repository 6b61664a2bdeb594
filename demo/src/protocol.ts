/** The protocol the page was loaded over: `h2` or `http/1.1` (every EventSource of the page shares it). */
export function pageProtocol(): string {
  const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
  return navigation?.nextHopProtocol || 'unknown';
}
