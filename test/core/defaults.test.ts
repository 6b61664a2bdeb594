/**
 * Each default is stated once, in `DEFAULTS` (src/core/defaults.ts); the
 * options' TSDoc repeats it for readers. This test reads every `@default`
 * with a literal value (a number, a quoted string, true or false) in the
 * interfaces of src/ and checks it against `DEFAULTS`, so the two cannot
 * drift, and so that no option states a literal default `DEFAULTS` lacks.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/core/config.ts';
import { DEFAULTS } from '../../src/core/defaults.ts';

const SRC = resolve(import.meta.dirname, '../../src');
const ROOMS = ['core', 'node', 'worker'];

/** `Interface.property` → its key in DEFAULTS, where the names differ. */
const KEY_OF: Record<string, keyof typeof DEFAULTS> = {
  'UpstreamOptions.protocol': 'upstreamProtocol',
  'UpstreamOptions.connectTimeoutMs': 'upstreamConnectTimeoutMs',
  'UpstreamOptions.connectionAckWaitTimeoutMs': 'upstreamAckTimeoutMs',
  'UpstreamOptions.keepAliveMs': 'upstreamKeepAliveMs',
  'UpstreamOptions.pongTimeoutMs': 'upstreamPongTimeoutMs',
  'UpstreamOptions.maxMessageBytes': 'upstreamMaxMessageBytes',
  'CorsOptions.maxAgeS': 'corsMaxAgeS',
  'EventStreamOptions.maxQueuedEvents': 'maxQueuedEvents',
  'EventStreamOptions.maxQueuedBytes': 'maxQueuedBytes',
  'ReloadOptions.settleMs': 'reloadSettleMs',
  'NodeSourcesOptions.settleMs': 'reloadSettleMs',
  'LiveOperationsOptions.pollMs': 'operationsPollMs',
  'LiveOperationsOptions.timeoutMs': 'operationsTimeoutMs',
  'UrlSourceOptions.maxBytes': 'maxBundleBytes',
};

/** A Worker var (`WorkerEnv.HEARTBEAT_MS`) states its default as the text a var holds. */
function varDefault(env: string): unknown {
  const setting = SETTINGS.find((s) => s.env === env);
  if (!setting || !(setting.key in DEFAULTS)) return undefined;
  const value = DEFAULTS[setting.key as keyof typeof DEFAULTS];
  return typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The literal at the start of a `@default` comment, or undefined when it is prose ("the global setTimeout"). */
function literal(comment: string): unknown {
  const text = comment.trim();
  const number = /^-?[\d_]+(\.\d+)?(?=\s|$)/.exec(text);
  if (number) return Number(number[0].replaceAll('_', ''));
  const quoted = /^"([^"]*)"/.exec(text);
  if (quoted) return quoted[1];
  if (/^(true|false)\b/.test(text)) return text.startsWith('true');
  return undefined;
}

interface Stated {
  where: string;
  name: string;
  value: unknown;
}

async function statedDefaults(): Promise<Stated[]> {
  const stated: Stated[] = [];
  for (const room of ROOMS) {
    for (const file of await files(join(SRC, room))) {
      const source = ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (ts.isInterfaceDeclaration(node)) {
          for (const member of node.members) {
            if (!member.name || !ts.isIdentifier(member.name)) continue;
            for (const tag of ts.getJSDocTags(member)) {
              if (tag.tagName.text !== 'default') continue;
              const value = literal(ts.getTextOfJSDocComment(tag.comment) ?? '');
              if (value !== undefined) stated.push({ where: relative(SRC, file), name: `${node.name.text}.${member.name.text}`, value });
            }
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  return stated;
}

describe('defaults', () => {
  it('every literal @default in the options of src/ is the value DEFAULTS holds', async () => {
    const stated = await statedDefaults();
    expect(stated.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const { where, name, value } of stated) {
      const property = name.split('.')[1]!;
      if (/^[A-Z_]+$/.test(property)) {
        const expected = varDefault(property);
        if (expected !== value) problems.push(`${where}: ${name} states @default ${JSON.stringify(value)}, the setting's default is ${JSON.stringify(expected)}`);
        continue;
      }
      const key = KEY_OF[name] ?? (property as keyof typeof DEFAULTS);
      if (!(key in DEFAULTS)) problems.push(`${where}: ${name} states @default ${JSON.stringify(value)}, which DEFAULTS (src/core/defaults.ts) lacks`);
      else if (DEFAULTS[key] !== value) problems.push(`${where}: ${name} states @default ${JSON.stringify(value)}, DEFAULTS.${key} is ${JSON.stringify(DEFAULTS[key])}`);
    }
    expect(problems).toEqual([]);
  });
});
