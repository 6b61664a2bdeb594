/**
 * The instrumentation as the gateway calls it: every hook present and
 * guarded, so a throwing hook is reported and never breaks a stream.
 */
import type { Instrumentation } from '../observability/instrumentation.ts';

const HOOKS = ['onStreamStart', 'onStreamEnd', 'onFrame', 'onRejection', 'onUpstreamOpen', 'onUpstreamClose', 'onUpstreamError', 'onOperationSource'] as const;

export function guardHooks(instrumentation: Instrumentation | undefined, onError: (err: unknown) => void): Required<Instrumentation> {
  const guarded = {} as Record<string, unknown>;
  for (const key of HOOKS) {
    const fn = instrumentation?.[key] as ((...a: unknown[]) => void) | undefined;
    guarded[key] = fn
      ? (...args: unknown[]) => {
          try {
            fn.apply(instrumentation, args);
          } catch (err) {
            onError(err);
          }
        }
      : () => {};
  }
  return guarded as unknown as Required<Instrumentation>;
}
