/**
 * `npm run build`: the packages' JavaScript, declarations and source maps,
 * which is what `npm pack` ships (each package's `prepack` runs this).
 *
 *   node scripts/build.ts [client] [gateway]      (both when none is named)
 *
 * - @subway-sse/client: src/client/ → src/client/dist/ (src/client/tsconfig.json)
 * - @subway-sse/gateway: src/ (but the client) → dist/lib/ (scripts/tsconfig.gateway.json),
 *   plus the example's schema file, which is read at run time.
 *
 * Each output folder is emptied first, so a renamed source never leaves a
 * stale module in a tarball. Build output is git-ignored.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile(project: string, outDir: string): void {
  rmSync(root + outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', root + project], { stdio: ['ignore', process.stderr, process.stderr], cwd: root });
}

const targets = {
  client() {
    compile('src/client/tsconfig.json', 'src/client/dist');
  },
  gateway() {
    compile('scripts/tsconfig.gateway.json', 'dist/lib');
    copyFileSync(root + 'src/example/schema.graphql', root + 'dist/lib/example/schema.graphql');
    chmodSync(root + 'dist/lib/cli/subway.js', 0o755);
  },
};

const asked = process.argv.slice(2);
for (const name of asked.length > 0 ? asked : Object.keys(targets)) {
  if (!(name in targets)) throw new Error(`build: no target "${name}" (client, gateway)`);
  targets[name as keyof typeof targets]();
  // stderr: `npm pack --json` prints its JSON on stdout after the prepack scripts ran.
  console.error(`built ${name === 'client' ? '@subway-sse/client → src/client/dist' : '@subway-sse/gateway → dist/lib'}`);
}
