// Shared pieces of the browser tests: Debian's Chromium through playwright-core, signing
// in through the provider, the REST API for setting up data, and a few bounded waits.

import fs from 'node:fs'
import { createRequire } from 'node:module'
import zlib from 'node:zlib'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { expect } from 'vitest'

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

/** Headless Chromium; Playwright gives every launch a fresh, empty temporary profile. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  })
}

export const DESKTOP = { width: 1280, height: 800 }
export const MOBILE = { width: 360, height: 740 }

/** Keeps every WebSocket a page opens in `window.__e2eSockets`, so a test can drop them. */
const RECORD_SOCKETS = `
  (() => {
    const Native = window.WebSocket;
    window.__e2eSockets = [];
    class Recorded extends Native {
      constructor(url, protocols) {
        super(url, protocols);
        window.__e2eSockets.push(this);
      }
    }
    window.WebSocket = Recorded;
  })();
`

export interface UserPage {
  context: BrowserContext
  page: Page
  userId: string
  /** Console errors and page errors, checked at the end of the tests. */
  errors: string[]
}

/**
 * Signs in as `userId` the way a person does: the login sends the browser to the
 * provider's sign-in (the local gateway's picker), whose answer comes back through the
 * callback to the messages (or the admin screens).
 */
export async function signIn(page: Page, userId: string) {
  await page.goto('/login')
  await page.locator(`[data-testid=login-user][data-user-id="${userId}"]`).click()
  await page.waitForURL((url) => /^\/(messages|admin)/.test(url.pathname))
}

/** A new browser context signed in as `userId` through the login screen. */
export async function openAs(
  browser: Browser,
  baseUrl: string,
  userId: string,
  viewport = DESKTOP,
): Promise<UserPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, baseURL: baseUrl })
  context.setDefaultTimeout(15_000)
  await context.addInitScript(RECORD_SOCKETS)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(m.text())) {
      errors.push(`console: ${m.text()}`)
    }
  })
  await signIn(page, userId)
  return { context, page, userId, errors }
}

/** Opens a conversation by URL and waits for the socket to be online. */
export async function openConversation(user: UserPage, conversationId: string) {
  await user.page.goto(`/messages/${conversationId}`)
  await user.page.locator('[data-testid=thread]').waitFor()
  await waitOnline(user.page)
}

export async function waitOnline(page: Page, timeout = 15_000) {
  await page.locator('[data-testid=connection-status][data-state=online]').first().waitFor({ timeout })
}

// --- REST, for setting up data -------------------------------------------------------------

const tokens = new Map<string, string>()

export async function token(baseUrl: string, userId: string): Promise<string> {
  const cached = tokens.get(`${baseUrl}|${userId}`)
  if (cached) return cached
  const r = await fetch(`${baseUrl}/dev/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  })
  if (!r.ok) throw new Error(`dev login of ${userId} failed: ${r.status} ${await r.text()}`)
  const t = ((await r.json()) as { token: string }).token
  tokens.set(`${baseUrl}|${userId}`, t)
  return t
}

export async function api<T>(baseUrl: string, userId: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${await token(baseUrl, userId)}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`${method} ${path} as ${userId}: ${r.status} ${text}`)
  return (text ? JSON.parse(text) : undefined) as T
}

/** A fresh conversation, so that tests do not see each other's messages. */
export async function createConversation(baseUrl: string, creator: string, title: string, others: string[]): Promise<string> {
  const created = await api<{ id: string }>(baseUrl, creator, 'POST', '/api/messaging/conversations', {
    title,
    participantIds: others,
  })
  return created.id
}

/**
 * A new person in the gateway's directory (`POST /dev/users`, as the demo admin), for a
 * test that changes someone: the demo users stay as the other tests expect them.
 */
export async function addPerson(baseUrl: string, person: { userId: string; name: string; role: 'client' | 'team' | 'admin'; organisation?: string }) {
  await api(baseUrl, 'u-admin-dana', 'POST', '/dev/users', person)
}

export async function sendViaApi(baseUrl: string, userId: string, conversationId: string, body: string) {
  return api<{ id: string; seq: number }>(baseUrl, userId, 'POST', `/api/messaging/conversations/${conversationId}/messages`, {
    body,
    clientMessageId: `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
  })
}

// --- page helpers ---------------------------------------------------------------------------

/** Types into the composer and sends with Enter. */
export async function sendFromUi(page: Page, text: string) {
  const input = page.locator('[data-testid=composer-input]')
  await input.click()
  await input.fill(text)
  await input.press('Enter')
}

/** The bodies of the messages shown, in DOM order. */
export function bodies(page: Page): Promise<string[]> {
  return page.locator('[data-testid=message-body]').allTextContents()
}

/** The seqs of the stored messages shown, in DOM order. */
export function seqs(page: Page): Promise<number[]> {
  return page.$$eval('[data-testid=message][data-seq]', (els) => els.map((e) => Number((e as HTMLElement).dataset.seq)))
}

export function messageByText(page: Page, text: string) {
  return page.locator('[data-testid=message]', { has: page.locator('[data-testid=message-body]', { hasText: text }) })
}

/** Polls until `fn` passes (bounded). */
export async function eventually<T>(fn: () => Promise<T>, check: (value: T) => boolean, timeout = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeout
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await fn()
    if (check(last)) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}; last value: ${JSON.stringify(last)}`)
}

// --- accessibility --------------------------------------------------------------------------

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
let axeSource: string | null = null

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[]; html: string }[]
}

/** Runs axe-core (WCAG 2.x A/AA rules) on the page as it is; fails naming every violation. */
export async function audit(page: Page, label: string): Promise<void> {
  // Evaluated through the DevTools protocol, not added as a <script>: the page's Content
  // Security Policy (script-src 'self') refuses inline scripts, and it must stay on.
  axeSource ??= fs.readFileSync(axePath, 'utf8')
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 160) })) }))
  })
  expect(violations, `${label}: ${JSON.stringify(violations, null, 2)}`).toEqual([])
}

export async function noHorizontalOverflow(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }))
  expect(scroll, 'the page must not scroll horizontally').toBeLessThanOrEqual(client)
}

// --- a small, valid PNG ---------------------------------------------------------------------

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(body) >>> 0)
  return Buffer.concat([len, body, crc])
}

/** A width × height RGB PNG with a diagonal gradient (real pixels, so previews show). */
export function makePng(width = 96, height = 64): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1)
    raw[row] = 0
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3
      raw[i] = Math.round((x / width) * 255)
      raw[i + 1] = Math.round((y / height) * 200) + 30
      raw[i + 2] = 220
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

export function readFile(path: string): Buffer {
  return fs.readFileSync(path)
}
