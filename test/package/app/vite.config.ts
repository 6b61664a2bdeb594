// The Vite proxy recipe of docs/client.md: the page and its streams share one origin.
import { defineConfig } from 'vite';

const gateway = process.env['SUBWAY_GATEWAY'] ?? 'http://localhost:4000';

export default defineConfig({
  server: { proxy: { '/graphql': gateway } },
  preview: { proxy: { '/graphql': gateway } },
  logLevel: 'warn',
});
