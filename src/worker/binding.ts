/**
 * The Durable Object binding the shared modes need, as wrangler.toml declares
 * it (docs/workers.md, "Sharing and resuming"): what the Worker looks for,
 * what `subway worker deploy` checks, and what the error tells an operator
 * to add.
 */
import { ConfigError } from '../core/config.ts';

/** The binding's name in `[[durable_objects.bindings]]`. */
export const HUB_BINDING = 'SUBWAY_HUB';
/** The class the entry module exports (`export { SubwayHub } from '@subway-sse/gateway/worker'`). */
export const HUB_CLASS = 'SubwayHub';

/** What wrangler.toml needs, as text to paste. */
export const HUB_BINDING_TOML = `[[durable_objects.bindings]]
name = "${HUB_BINDING}"
class_name = "${HUB_CLASS}"

[[migrations]]
tag = "subway-hub-v1"
new_sqlite_classes = ["${HUB_CLASS}"]`;

/** A Durable Object stub, as the Worker uses it. */
export interface HubStub {
  fetch(request: Request): Promise<Response>;
}

/** A Durable Object namespace binding, as the Worker uses it. */
export interface HubNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): HubStub;
}

export const isHubNamespace = (value: unknown): value is HubNamespace =>
  typeof (value as HubNamespace | undefined)?.idFromName === 'function' && typeof (value as HubNamespace | undefined)?.get === 'function';

/** The object named `name` (a digest or a fixed role name, never a credential). */
export function hubStub(namespace: HubNamespace, name: string): HubStub {
  return namespace.get(namespace.idFromName(name));
}

/** The namespace bound as `SUBWAY_HUB`; a `ConfigError` naming what to add when `why` needs it and it is not there. */
export function hubNamespace(env: Record<string, unknown>, why: string): HubNamespace {
  const namespace = env[HUB_BINDING];
  if (isHubNamespace(namespace)) return namespace;
  throw new ConfigError(
    `${why} needs the Durable Object binding ${HUB_BINDING} (class ${HUB_CLASS}, exported by the Worker's entry module); add to wrangler.toml:\n${HUB_BINDING_TOML}`,
  );
}
