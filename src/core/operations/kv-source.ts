/**
 * A bundle in a Workers KV namespace, read through its binding
 * (`subway register --publish-kv` writes it). KV has no validators: the same
 * text again is no new version.
 */
import type { BundleVerifier } from './signature.ts';
import { sourceFailure, type OperationSource, type SourceVersion } from './source.ts';
import { registryFromBundleText } from './validate.ts';

/** The part of a KV namespace binding the source uses. */
export interface KvNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>;
}

export function createKvSource(namespace: KvNamespaceLike, binding: string, key: string, verifier: BundleVerifier): OperationSource {
  const name = `kv:${binding}/${key}`;
  return {
    name,
    polled: true,
    async load(served): Promise<SourceVersion | undefined> {
      let text: string | null;
      try {
        text = await namespace.get(key, 'text');
      } catch (err) {
        throw sourceFailure('unreachable', `${name}: cannot read (${(err as Error).message})`, err);
      }
      if (text === null) throw sourceFailure('unreachable', `${name}: no such key (publish it with \`subway register --publish-kv\`)`);
      if (served && served.text === text) return undefined;
      return { registry: await registryFromBundleText(text, name, verifier), text };
    },
  };
}
