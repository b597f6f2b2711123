// Starts the local gateway every browser test file shares (tests/e2e/gateway.ts) and
// stops it at the end. The screenshots' folder is decided here too.

import fs from 'node:fs'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startGateway, webDir } from './gateway'

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
    screenshotsDir: string
  }
}

export default async function setup(project: TestProject) {
  const gateway = await startGateway()

  // Test runs write screenshots beside the other test output, so `make test` leaves the
  // tree clean; `make screenshots` points this at docs/screenshots to refresh the committed ones.
  const screenshotsDir = path.resolve(webDir, process.env.E2E_SCREENSHOTS_DIR ?? path.join('test-results', 'screenshots'))
  fs.mkdirSync(screenshotsDir, { recursive: true })
  project.provide('baseUrl', gateway.baseUrl)
  project.provide('screenshotsDir', screenshotsDir)
  console.log(`[e2e] local gateway ${gateway.bin} on ${gateway.baseUrl}, data in ${gateway.dataDir}`)
  return gateway.stop
}
