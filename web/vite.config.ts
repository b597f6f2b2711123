import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` serves the client with hot reload and forwards the runtime configuration,
// the API, the WebSocket and the dev routes to a local gateway (`make dev`, or GATEWAY_URL).
// The sign-in goes to the gateway's provider directly (its authority in /config.json): it
// accepts redirect URIs on any loopback port, and its token endpoint answers CORS.
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/config.json': gateway,
      '/api': gateway,
      '/dev': gateway,
      '/blobs': gateway,
      '/ws': { target: gateway.replace(/^http/, 'ws'), ws: true },
    },
  },
})
