import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql 16's CommonJS build (it has no "exports" map); Vite
    // would pick its ".mjs" build for test files, and graphql-js refuses
    // schemas from "another module or realm". Resolve it the way Node does.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // Installs Debian's chromium for test/browser when it is missing (CI starts clean).
    globalSetup: ['test/browser/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and child processes: two workers fit a 2-core machine.
    maxWorkers: 2,
  },
});
