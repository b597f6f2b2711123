import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Unit tests: the store, the socket client, the messaging service and components, in happy-dom.
export default defineConfig({
  plugins: [vue()],
  // The web folder, and the server's domain sources: tests/unit/reactions.spec.ts compares
  // the reaction vocabulary of shared/core/src/reactions.rs with the client's.
  server: { fs: { allow: ['.', '../shared/core/src'] } },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.spec.ts'],
    testTimeout: 10_000,
    hookTimeout: 10_000,
    restoreMocks: true,
  },
})
