/**
 * `npm run deploy` (and `build:worker`) with sharing or resume configured:
 * the Durable Object binding `SUBWAY_HUB` and the migration that creates its
 * class are checked in the wrangler config before wrangler runs, with a
 * message that says what to add (docs/workers.md, "Sharing and resuming").
 * Through the real command, without a network deploy (`--dry-run`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubNeed, hubProblem } from '../../src/cli/worker.ts';
import { HUB_BINDING_TOML } from '../../src/worker/binding.ts';
import { onTeardown } from '../fixtures/leftovers.ts';

function npmRun(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', ...args], { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'subway-hub-config-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A wrangler.toml like this repository's, with `hub` (the binding and migration blocks) or not. */
async function configWith(hub: string): Promise<string> {
  const file = join(await tempDir(), 'wrangler.toml');
  await writeFile(file, `name = "subway-test"\nmain = "src/worker/entry.ts"\ncompatibility_date = "2026-11-17"\n\n${hub}\n`);
  return file;
}

const UPSTREAM = { UPSTREAM_URL: 'wss://upstream.example/graphql' };

describe('npm run deploy with sharing or resume: the Durable Object binding', () => {
  it('refuses, before wrangler runs, a config without the binding, and says what to add', async () => {
    const config = await configWith('');
    const result = await npmRun(['deploy', '--', '--dry-run', '--config', config], { ...UPSTREAM, UPSTREAM_SHARING: 'subscription' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `subway: UPSTREAM_SHARING=subscription needs the Durable Object binding SUBWAY_HUB (class SubwayHub), and ${config} has none; add to ${config}:\n\n${HUB_BINDING_TOML}\n`,
    );
    expect(result.stdout).not.toContain('Total Upload');
  }, 90_000);

  it('refuses a binding without the migration that creates its class (RESUME_WINDOW_MS read from the config\'s [vars])', async () => {
    const config = await configWith('[vars]\nRESUME_WINDOW_MS = 120000\n\n[[durable_objects.bindings]]\nname = "SUBWAY_HUB"\nclass_name = "SubwayHub"');
    const result = await npmRun(['deploy', '--', '--dry-run', '--config', config], UPSTREAM);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`subway: ${config} binds SUBWAY_HUB but no [[migrations]] entry creates the class SubwayHub; add to ${config}:`);
  }, 90_000);

  it("deploys (--dry-run) with this repository's wrangler.toml, saying what it checked", async () => {
    const out = await tempDir();
    const result = await npmRun(['deploy', '--', '--dry-run', '--outdir', out], { ...UPSTREAM, UPSTREAM_SHARING: 'subscription', RESUME_WINDOW_MS: '120000' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('subway: UPSTREAM_SHARING=subscription and RESUME_WINDOW_MS=120000: Durable Object SUBWAY_HUB (class SubwayHub) bound in wrangler.toml, with its migration');
    // wrangler saw the binding, and the bundle exports the class.
    expect(result.stdout).toMatch(/env\.SUBWAY_HUB \(SubwayHub\)\s+Durable Object/);
    expect(await readFile(join(out, 'entry.js'), 'utf8')).toMatch(/export\s*\{[^}]*\bSubwayHub\b/);
  }, 90_000);

  it('needs nothing with sharing and resume off', () => {
    expect(hubNeed({ UPSTREAM_SHARING: 'off' }, { RESUME_WINDOW_MS: 0 })).toBeUndefined();
    expect(hubNeed({}, {})).toBeUndefined();
    expect(hubNeed({ UPSTREAM_SHARING: 'connection' }, {})).toBe('UPSTREAM_SHARING=connection');
    // The environment wins over the config's [vars], as `--var` does.
    expect(hubNeed({ UPSTREAM_SHARING: 'off' }, { UPSTREAM_SHARING: 'subscription' })).toBeUndefined();
  });

  it('names a binding to another class or Worker, and a class deleted by a later migration', () => {
    const bound = (b: object, migrations: object[] = [{ new_sqlite_classes: ['SubwayHub'] }]) => hubProblem('UPSTREAM_SHARING=subscription', 'wrangler.toml', { durable_objects: { bindings: [{ name: 'SUBWAY_HUB', ...b }] as never }, migrations });
    expect(bound({ class_name: 'SubwayHub' })).toBeUndefined();
    expect(bound({ class_name: 'Other' })).toMatch(/^wrangler.toml binds SUBWAY_HUB to class Other; UPSTREAM_SHARING=subscription needs this Worker's own class SubwayHub;/);
    expect(bound({ class_name: 'SubwayHub', script_name: 'elsewhere' })).toMatch(/^wrangler.toml binds SUBWAY_HUB to elsewhere's class SubwayHub;/);
    expect(bound({ class_name: 'SubwayHub' }, [{ new_classes: ['SubwayHub'] }])).toBeUndefined();
    expect(bound({ class_name: 'SubwayHub' }, [{ new_sqlite_classes: ['SubwayHub'] }, { deleted_classes: ['SubwayHub'] }])).toMatch(/no \[\[migrations\]\] entry creates/);
    expect(hubProblem('RESUME_WINDOW_MS=1000', undefined, undefined)).toMatch(/^RESUME_WINDOW_MS=1000 needs the Durable Object binding SUBWAY_HUB \(class SubwayHub\) and its migration, which need a wrangler config; add to a wrangler.toml:/);
  });
});
