/** `npm start`: the gateway on Node, configured by the environment (see README). */
import { ConfigError, readConfig } from '../core/config.ts';
import { redactor, redactUrl } from '../core/redact.ts';
import { keepServing } from '../node/last-resort.ts';
import { logLine } from '../node/log-line.ts';
import { OperationsError } from '../node/operations/load.ts';
import { startServer } from '../node/server.ts';

try {
  const config = readConfig(process.env);
  const server = await startServer(config);
  // Only once serving: an error while starting still ends the process with its message.
  keepServing((line) => process.stderr.write(`${line}\n`), redactor(config.upstreamUrl));
  const base = server.url.replace('://0.0.0.0:', '://localhost:').replace('://[::]:', '://localhost:');
  const tls = base.startsWith('https');
  console.log(`subway listening on ${base} (${tls ? 'HTTP/2 over TLS, HTTP/1.1 fallback' : 'HTTP/1.1'})`);
  if (server.demo) console.log(`  demo page: ${base}/`);
  else if (server.example) console.log('  demo page: not built (run `npm run build:demo`, or start with `npm start`)');
  console.log(`  upstream: ${config.upstreamUrl ? redactUrl(config.upstreamUrl) : `${server.example!.url} (embedded example)`}`);
  if (server.devCert) {
    const { certPath, created } = server.devCert;
    console.log(`  certificate: self-signed for localhost, ${created ? 'made now' : 'reused'}: ${certPath}`);
    console.log(`    browsers warn about it once: proceed, or trust ${certPath} (e.g. import it in chrome://certificate-manager or your OS keychain);`);
    console.log('    replace it with TLS_CERT/TLS_KEY (e.g. made by mkcert), or serve plain HTTP/1.1 with TLS=off');
  }
  console.log(`  ${server.registry.operations.length} persisted operations from ${config.persistedOperations}: ${server.registry.operations.map((o) => o.name).join(', ')}`);
  if (server.example) {
    const vars = encodeURIComponent(JSON.stringify({ intervalMs: 1000 }));
    console.log(`\nTry it:\n  curl -N${tls ? ' -k' : ''} '${base}/graphql?id=Clock&variables=${vars}'\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing streams and shutting down`);
    // Bounded: streams get SHUTDOWN_GRACE_MS to flush, then connections are
    // destroyed; if closing still hangs (it should not), exit with 1 anyway.
    const timer = setTimeout(() => {
      console.error(`subway: shutdown did not finish within ${config.shutdownGraceMs + 5000} ms; exiting`);
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    timer.unref();
    const streams = server.gateway.stats().streams;
    server.close().then(() => {
      console.log(`shut down: ${streams} streams ended with a reconnection hint`);
      process.exit(0);
    }, (err) => {
      process.stderr.write(`${logLine('error', 'shutdown failed', err, redactor(config.upstreamUrl))}\n`);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  if (err instanceof ConfigError || err instanceof OperationsError) {
    console.error(`subway: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
