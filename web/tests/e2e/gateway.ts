// Starts the backend's local gateway for browser tests: a free 127.0.0.1 port, a fresh
// temporary data folder, the built client (dist/) as its web folder, and any extra flags
// (a short `--oidc-token-ttl` for the sign-in tests). `stop` ends it and removes the folder.
// Fails loudly when the gateway binary or the build is missing, rather than skipping.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface Gateway {
  baseUrl: string
  bin: string
  dataDir: string
  stop: () => Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

async function waitForHealth(url: string, child: ChildProcess, logs: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the local gateway exited with code ${child.exitCode} before it was ready:\n${logs()}`)
    }
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`the local gateway did not answer /healthz within ${timeoutMs} ms:\n${logs()}`)
}

/** Checks what every browser test needs before anything starts. */
export function checkPrerequisites(): string {
  const bin = path.resolve(webDir, process.env.GATEWAY_BIN ?? '../target/debug/local-gateway')
  if (!fs.existsSync(bin)) {
    throw new Error(
      `E2E: the local gateway binary is missing at ${bin}.\n` +
        'Build it first (`cargo build -p local-gateway` from the repository root) or set GATEWAY_BIN.',
    )
  }
  const dist = path.join(webDir, 'dist')
  if (!fs.existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`E2E: ${dist}/index.html is missing. Run \`npm run build\` before \`npm run test:e2e\`.`)
  }
  if (!fs.existsSync(process.env.CHROMIUM_BIN ?? '/usr/bin/chromium')) {
    throw new Error('E2E: Chromium is missing at /usr/bin/chromium (apt-get install -y chromium), or set CHROMIUM_BIN.')
  }
  return bin
}

export async function startGateway(extraArgs: string[] = []): Promise<Gateway> {
  const bin = checkPrerequisites()
  const port = await freePort()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'messaging-e2e-'))
  const output: string[] = []
  const logs = () => output.join('').split('\n').slice(-40).join('\n')
  const child = spawn(bin, ['--port', String(port), '--data-dir', dataDir, '--web-dir', path.join(webDir, 'dist'), ...extraArgs], {
    cwd: webDir,
    env: {
      ...process.env,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      // The tests seed through the API and reload pages far faster than people do, all
      // against one gateway; the per-user limits have their own tests (tests/tests/
      // rate_limits.rs). Typing keeps its real limit: the client's own pace is under it.
      RATE_LIMITS:
        'send=5000/10s,create-conversation=1000/60s,add-people=1000/60s,connect=1000/60s,uploads=1000/60s,reports=1000/60s',
      // A burst of messages notifies (push, then email digests into /dev/mail) 2 s after
      // its first message rather than 30 s, so that a test can follow an email's link.
      NOTIFY_PUSH_DELAY_SECS: process.env.NOTIFY_PUSH_DELAY_SECS ?? '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Never leave a gateway behind, even if the test runner itself dies.
  const orphanGuard = () => child.kill('SIGKILL')
  process.once('exit', orphanGuard)
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()))

  const stop = async () => {
    process.removeListener('exit', orphanGuard)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    fs.rmSync(dataDir, { recursive: true, force: true })
  }

  const baseUrl = `http://127.0.0.1:${port}`
  try {
    await waitForHealth(baseUrl, child, logs, 30_000)
  } catch (e) {
    await stop()
    throw e
  }
  return { baseUrl, bin, dataDir, stop }
}
