import { defineConfig } from 'vitest/config';

// The build lands inside the Go package that embeds it (internal/web),
// so `go build` after `npm run build` ships the dashboard in the binary.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../internal/web/dist/app',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` against a controller on :8080 (PATRONUS_URL overrides).
    proxy: {
      '/graphql': { target: process.env.PATRONUS_URL ?? 'http://127.0.0.1:8080', ws: true },
      '/api': process.env.PATRONUS_URL ?? 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
