import { defineConfig } from 'vitest/config'

// Browser end-to-end tests: a real local gateway (started by the global setup on a free
// port with a fresh data folder) serving the built client (dist/), driven by Debian's
// Chromium through playwright-core. Every wait is bounded; the run stops by itself.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['tests/e2e/**/*.e2e.ts'],
    globalSetup: ['tests/e2e/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    retry: 0,
    bail: 0,
    reporters: ['default'],
  },
})
