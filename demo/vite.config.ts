/**
 * Builds the demo page into demo/dist (git-ignored): `npm run build:demo`,
 * which `npm start` runs first. The Node server serves it at `/` for the
 * embedded example only. `@subway-sse/client` is compiled from its source
 * here (as tsconfig.json's `paths` type it); test/package builds an app
 * against the packed package instead.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (file: string) => fileURLToPath(new URL(`../src/client/${file}`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: /^@subway-sse\/client\/react$/, replacement: source('react.ts') },
      { find: /^@subway-sse\/client$/, replacement: source('index.ts') },
    ],
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
