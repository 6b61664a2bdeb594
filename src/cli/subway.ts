#!/usr/bin/env node
/**
 * The `subway` command (the packages' `bin`; this repository's npm scripts run
 * it from source): `subway start | register | worker dev|build|deploy`.
 * Each command lives in its own module, loaded when asked for (register pulls
 * in GraphQL Code Generator, which `start` has no use for), and resolves with
 * its exit code: 0, 1 for a failure it explains, 2 for a usage error.
 */

export const HELP = `usage: subway <command> [options]

  start                     serve the gateway on Node (HTTP/2 over TLS, or HTTP/1.1)
  register                  validate a folder of .graphql operations against the schema and write
                            the allow-list and the typed operations.ts
  worker dev|build|deploy   run, build or deploy the gateway as a Cloudflare Worker (with wrangler)

  subway <command> --help   the command's options
  subway --version          the version

Settings are environment variables (UPSTREAM_URL, PERSISTED_OPERATIONS, PORT, ...).`;

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const manifest = JSON.parse(await readFile(new URL('../../' + (import.meta.url.endsWith('.ts') ? '' : '../') + 'package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** Runs one command; resolves with its exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return (await import('./start.ts')).runStart(rest, env);
    case 'register':
      return (await import('../register/cli.ts')).runRegister(rest, env, signal);
    case 'worker':
      return (await import('./worker.ts')).runWorker(rest, env);
    case '--version':
    case '-v':
      console.log(await version());
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(HELP);
      return 0;
    default:
      console.error(`subway: no command "${command}".\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  const [command] = process.argv.slice(2);
  // `start` and `worker` handle the signals themselves (a graceful shutdown, wrangler's own); `register --watch` stops on them.
  if (command === 'register') {
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
  }
  const code = await main(process.argv.slice(2), process.env, controller.signal);
  // A stopped server may leave handles (keep-alive sockets of an upstream) that would hold the process open.
  if (command === 'start') process.exit(code);
  process.exitCode = code;
}
