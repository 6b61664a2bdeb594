/**
 * `subway start` (`npm start`): the gateway on Node, configured by the
 * environment (docs/configuration.md); `--dir`, `--upstream` and `--port`
 * stand for PERSISTED_OPERATIONS, UPSTREAM_URL and PORT.
 */
import { parseArgs } from 'node:util';
import { ConfigError, readConfig } from '../core/config.ts';
import { redactor, redactUrl } from '../core/redact.ts';
import { keepServing } from '../node/last-resort.ts';
import { logLine } from '../node/log-line.ts';
import { OperationsError } from '../node/operations/load.ts';
import { startServer } from '../node/server.ts';
import { tryItLines } from './try-it.ts';

export const START_HELP = `usage: subway start [--dir <folder>] [--upstream <ws(s) url>] [--port <n>]

Serves the gateway on Node: HTTP/2 over TLS with TLS_CERT/TLS_KEY (HTTP/1.1 as
the fallback), else plain HTTP/1.1. Without an upstream it starts the embedded
example upstream too, over HTTP/2 with a self-signed certificate.

  --dir <source>        the registered operations: a folder, a bundle URL, or a comma-separated list
                        (PERSISTED_OPERATIONS; default persisted-operations)
  --upstream <url>      the graphql-ws endpoint, ws:// or wss:// (UPSTREAM_URL)
  --port <n>            the TCP port, 0 for any free one (PORT; default 4000)
  -h, --help            this help

Every setting is an environment variable (HOST, TLS_CERT, TLS_KEY, CORS_ORIGINS,
FORWARD_HEADERS, MAX_SUBSCRIPTIONS, ...): see docs/configuration.md.
SIGTERM or SIGINT ends every stream with a reconnection hint and exits.`;

const FLAGS = {
  dir: { type: 'string' },
  upstream: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The environment the flags stand for, over `env`. */
function withFlags(argv: string[], env: Record<string, string | undefined>): Record<string, string | undefined> | 'help' {
  const { values } = parseArgs({ args: argv, options: FLAGS });
  if (values.help) return 'help';
  return {
    ...env,
    ...(values.dir !== undefined && { PERSISTED_OPERATIONS: values.dir }),
    ...(values.upstream !== undefined && { UPSTREAM_URL: values.upstream }),
    ...(values.port !== undefined && { PORT: values.port }),
  };
}

/** Serves until SIGTERM or SIGINT; resolves with the exit code. */
export async function runStart(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let settings;
  try {
    settings = withFlags(argv, env);
  } catch (err) {
    console.error(`subway start: ${(err as Error).message}\n\n${START_HELP}`);
    return 2;
  }
  if (settings === 'help') {
    console.log(START_HELP);
    return 0;
  }
  try {
    const config = readConfig(settings);
    const server = await startServer(config);
    const redact = redactor(config.upstreamUrl);
    // Only once serving: an error while starting still ends the process with its message.
    const stopKeeping = keepServing((line) => process.stderr.write(`${line}\n`), redact);
    const base = server.url.replace('://0.0.0.0:', '://localhost:').replace('://[::]:', '://localhost:');
    const tls = base.startsWith('https');
    console.log(`subway listening on ${base} (${tls ? 'HTTP/2 over TLS, HTTP/1.1 fallback' : 'HTTP/1.1'})`);
    if (server.demo) console.log(`  demo page: ${base}/`);
    // The demo page is this repository's (`npm run build:demo`); the package does not ship it.
    else if (server.example && import.meta.url.endsWith('.ts')) console.log('  demo page: not built (run `npm run build:demo`, or start with `npm start`)');
    console.log(`  upstream: ${config.upstreamUrl ? redactUrl(config.upstreamUrl) : `${server.example!.url} (embedded example)`}`);
    if (config.upstreamSharing !== 'off') console.log(`  upstream sharing: ${config.upstreamSharing} (UPSTREAM_SHARING; docs/sharing.md)`);
    if (config.resumeWindowMs > 0) {
      const cut = server.demo ? '; try "Cut network" on the demo page' : '';
      console.log(`  resume: a dropped stream gets what it missed for ${config.resumeWindowMs / 1000} s (RESUME_WINDOW_MS; docs/resume.md${cut})`);
    }
    if (server.devCert) {
      const { certPath, created } = server.devCert;
      console.log(`  certificate: self-signed for localhost, ${created ? 'made now' : 'reused'}: ${certPath}`);
      console.log(`    browsers warn about it once: proceed, or trust ${certPath} (e.g. import it in chrome://certificate-manager or your OS keychain);`);
      console.log('    replace it with TLS_CERT/TLS_KEY (e.g. made by mkcert), or serve plain HTTP/1.1 with TLS=off');
    }
    const from = server.sources.status().map((s) => (s.ok ? s.source : `${s.source} (failing: ${s.reason})`)).join(', ');
    console.log(`  ${server.registry.operations.length} persisted operations from ${from}: ${server.registry.operations.map((o) => o.name).join(', ')}`);
    console.log(`\n${tryItLines(server.registry, base, { insecure: tls }).join('\n')}\n`);
    const code = await new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: closing streams and shutting down`);
        // Bounded: streams get SHUTDOWN_GRACE_MS to flush, then connections are
        // destroyed; if closing still hangs (it should not), exit with 1 anyway.
        const timer = setTimeout(() => {
          console.error(`subway: shutdown did not finish within ${config.shutdownGraceMs + 5000} ms; exiting`);
          resolve(1);
        }, config.shutdownGraceMs + 5000);
        timer.unref();
        const streams = server.gateway.stats().streams;
        server.close().then(() => {
          console.log(`shut down: ${streams} streams ended with a reconnection hint`);
          resolve(0);
        }, (err) => {
          process.stderr.write(`${logLine('error', 'shutdown failed', err, redact)}\n`);
          resolve(1);
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    stopKeeping();
    return code;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof OperationsError) {
      console.error(`subway: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
