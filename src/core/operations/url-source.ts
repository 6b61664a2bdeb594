/**
 * A bundle served over HTTP(S): fetched with `If-None-Match` /
 * `If-Modified-Since`, so an unchanged bundle costs a 304; read up to a size
 * bound; validated whole. The fetch function is injected (Node's and
 * workerd's are the same Web `fetch`).
 */
import { DEFAULTS } from '../defaults.ts';
import { SubwayError } from '../errors.ts';
import { readBounded } from '../http/read-bounded.ts';
import type { BundleVerifier } from './signature.ts';
import { displayUrl, sourceFailure, type OperationSource, type SourceVersion } from './source.ts';
import { registryFromBundleText } from './validate.ts';

export interface UrlSourceOptions {
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Checks signatures when keys are configured. */
  verifier: BundleVerifier;
  /**
   * Largest bundle read, in bytes; a larger one fails as `invalid`.
   * @default 16777216
   */
  maxBytes?: number;
}

/** The body as UTF-8 text, refusing more than `maxBytes` without reading it all. */
async function readText(response: Response, maxBytes: number, source: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw sourceFailure('invalid', `${source}: the bundle is ${declared} bytes, more than the ${maxBytes} read`);
  }
  const bytes = await readBounded(response.body, maxBytes);
  if (!bytes) throw sourceFailure('invalid', `${source}: the bundle is more than the ${maxBytes} bytes read`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw sourceFailure('invalid', `${source}: the bundle is not UTF-8`);
  }
}

/** Why a fetch failed, briefly: Node's `fetch failed` hides the reason in its cause. */
function fetchProblem(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export function createUrlSource(url: string, options: UrlSourceOptions): OperationSource {
  const name = displayUrl(url);
  const doFetch = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBundleBytes;
  return {
    name,
    polled: true,
    async load(served, signal): Promise<SourceVersion | undefined> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (served?.etag) headers['if-none-match'] = served.etag;
      if (served?.lastModified) headers['if-modified-since'] = served.lastModified;
      let response: Response;
      try {
        response = await doFetch(url, { headers, signal, redirect: 'follow' });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw sourceFailure('unreachable', `${name}: cannot fetch (${fetchProblem(err)})`, err);
      }
      if (response.status === 304 && served) {
        await response.body?.cancel();
        return undefined;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw sourceFailure('unreachable', `${name}: answered HTTP ${response.status}`);
      }
      let text: string;
      try {
        text = await readText(response, maxBytes, name);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw err instanceof SubwayError ? err : sourceFailure('unreachable', `${name}: the body broke off (${fetchProblem(err)})`, err);
      }
      const validators = { etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined };
      // The same bytes again (a server without validators): the served version, with the new validators.
      if (served && served.text === text) return { ...served, ...validators };
      return { registry: await registryFromBundleText(text, name, options.verifier), text, ...validators };
    },
  };
}
