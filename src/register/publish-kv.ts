/**
 * `register --publish-kv <namespace>[/<key>]`: writes the bundle to a Workers
 * KV namespace with wrangler (`wrangler kv key put`), so a Worker whose
 * `PERSISTED_OPERATIONS` names that key serves it within its poll interval,
 * with no deploy. Node-only (runs wrangler).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { BUNDLE_FILE } from '../core/operations/bundle.ts';

export interface KvTarget {
  /** A namespace id (32 hex digits) or a binding name from the wrangler.toml in the working folder. */
  namespace: string;
  key: string;
}

/** Reads `<namespace>[/<key>]`; a string says what is wrong. */
export function parseKvTarget(text: string): KvTarget | string {
  const [namespace = '', ...rest] = text.split('/');
  if (!/^[0-9a-f]{32}$/.test(namespace) && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(namespace)) {
    return `--publish-kv takes a namespace id (32 hex digits) or a binding name, then optionally /<key>; got "${text}"`;
  }
  return { namespace, key: rest.join('/') || BUNDLE_FILE };
}

export interface PublishOptions {
  /** Write wrangler dev's local KV instead of Cloudflare's (`--local`). @default false */
  local?: boolean;
  /** Where the local KV lives (`--persist-to`). @default wrangler's `.wrangler/state` */
  persistTo?: string;
}

/** The `wrangler` arguments that write `file` to the target. */
export function wranglerKvArgs(target: KvTarget, file: string, options: PublishOptions = {}): string[] {
  const namespace = /^[0-9a-f]{32}$/.test(target.namespace) ? ['--namespace-id', target.namespace] : ['--binding', target.namespace];
  const where = options.local ? ['--local', ...(options.persistTo ? ['--persist-to', options.persistTo] : [])] : ['--remote'];
  return ['kv', 'key', 'put', target.key, '--path', file, ...namespace, ...where];
}

/** Runs wrangler; resolves with its exit code and what it printed. */
export function publishToKv(target: KvTarget, file: string, options: PublishOptions = {}): Promise<{ code: number; output: string }> {
  let bin: string;
  try {
    bin = createRequire(import.meta.url).resolve('wrangler/package.json').replace(/package\.json$/, 'bin/wrangler.js');
  } catch {
    return Promise.resolve({ code: 1, output: '--publish-kv runs wrangler, which is not installed here: `npm install --save-dev wrangler`.' });
  }
  const child = spawn(process.execPath, [bin, ...wranglerKvArgs(target, file, options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { WRANGLER_SEND_METRICS: 'false', ...process.env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  return new Promise((resolve) => {
    child.once('error', (err) => resolve({ code: 1, output: `cannot run wrangler: ${err.message}` }));
    child.once('close', (code) => resolve({ code: code ?? 1, output: output.trim() }));
  });
}
