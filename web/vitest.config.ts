import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Unit tests: the store, the socket client, the messaging service and components, in happy-dom.
export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.spec.ts'],
    testTimeout: 10_000,
    hookTimeout: 10_000,
    restoreMocks: true,
  },
})
