/**
 * Builds the demo page into demo/dist (git-ignored): `npm run build:demo`,
 * which `npm start` runs first. The Node server serves it at `/` for the
 * embedded example only.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
