/**
 * `npm start`'s entry (`subway start`) with a way to force a full GC from outside (SIGUSR2),
 * for benchmarks that compare memory before and after: run it with
 * `node --expose-gc bench/gateway-with-gc.ts`. Not for production.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
process.on('SIGUSR2', () => {
  gc();
  process.stdout.write('gc done\n');
});
const { main } = await import('../src/cli/subway.ts');
process.exit(await main(['start'], process.env));
