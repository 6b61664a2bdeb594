/**
 * `PERSISTED_OPERATIONS`: where the operations come from. One source, or a
 * comma-separated list of them (one per app), merged:
 *
 * - a folder (`persisted-operations`): the files `register` writes;
 * - `https://…` (or `http://…`, for development): a bundle, polled;
 * - `kv:<BINDING>` or `kv:<BINDING>/<key>` (Workers): a bundle in a KV
 *   namespace, read through its binding; the key defaults to `subway-bundle.json`.
 */
import { DEFAULTS } from '../defaults.ts';
import { BUNDLE_FILE } from './bundle.ts';

export type SourceSpec =
  | { readonly kind: 'folder'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'kv'; readonly binding: string; readonly key: string };

export const DEFAULT_SOURCE: SourceSpec = { kind: 'folder', path: DEFAULTS.persistedOperations };

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const BINDING = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One entry; a string says what is wrong with it. */
function parseEntry(entry: string): SourceSpec | string {
  if (SCHEME.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return `"${entry}" is not a URL`;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${entry}": a URL source must be https:// (or http:// for development)`;
    return { kind: 'url', url: entry };
  }
  if (entry.startsWith('kv:')) {
    const [binding = '', ...rest] = entry.slice(3).split('/');
    const key = rest.join('/') || BUNDLE_FILE;
    if (!BINDING.test(binding)) return `"${entry}": a KV source is kv:<BINDING> or kv:<BINDING>/<key>, with the binding's name from wrangler.toml`;
    return { kind: 'kv', binding, key };
  }
  return { kind: 'folder', path: entry };
}

/** The sources of a `PERSISTED_OPERATIONS` value, in order, without repeats; a string says what is wrong. */
export function parseSourceList(text: string | undefined): SourceSpec[] | string {
  const entries = [...new Set((text ?? '').split(',').map((e) => e.trim()).filter((e) => e !== ''))];
  if (entries.length === 0) return [DEFAULT_SOURCE];
  const specs: SourceSpec[] = [];
  for (const entry of entries) {
    const spec = parseEntry(entry);
    if (typeof spec === 'string') return spec;
    specs.push(spec);
  }
  return specs;
}

/** The first folder of the list (what `register` and a Worker's build use), or the default folder. */
export function firstFolder(specs: readonly SourceSpec[]): string {
  for (const spec of specs) if (spec.kind === 'folder') return spec.path;
  return DEFAULTS.persistedOperations;
}
