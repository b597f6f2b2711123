// Content Security Policy: the gateway sends a strict policy with the web client's
// documents, and nothing the client does in its main flows breaks it: no inline script
// or style, no eval, images and requests from its own origin (plus blob: and data:
// images). Every `securitypolicyviolation` event and every console error or warning of
// the flows fails the test.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DESKTOP, createConversation, launchBrowser, makePng, messageByText, sendFromUi, sendViaApi, waitOnline } from './helpers'

const baseUrl = inject('baseUrl')
const run = Date.now().toString(36)
const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Records violations in `window.__cspViolations` and reports them to the test (navigations reset the page's list). */
const RECORD_VIOLATIONS = `
  (() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      const v = { directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile + ':' + e.lineNumber, sample: e.sample, page: location.pathname };
      window.__cspViolations.push(v);
      window.__e2eCspViolation?.(v);
    });
  })();
`

interface Watched {
  context: BrowserContext
  page: Page
  violations: unknown[]
  console: string[]
}

let browser: Browser
const watched: Watched[] = []

/** A browser context that records CSP violations and console errors and warnings. */
async function watchedContext(): Promise<Watched> {
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: baseUrl, acceptDownloads: true })
  context.setDefaultTimeout(15_000)
  const violations: unknown[] = []
  await context.exposeBinding('__e2eCspViolation', (_source, v: unknown) => {
    violations.push(v)
  })
  await context.addInitScript(RECORD_VIOLATIONS)
  const page = await context.newPage()
  const messages: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') messages.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`))
  const w = { context, page, violations, console: messages }
  watched.push(w)
  return w
}

/** Signs in through the login screen, whose document must come with the policy (else nothing below is enforced). */
async function signIn(page: Page, userId: string) {
  const response = await page.goto('/login')
  expect(response?.headers()['content-security-policy'] ?? '', 'the login page is served with a policy').toContain("default-src 'self'")
  await page.locator(`[data-testid=login-user][data-user-id="${userId}"]`).click()
  await page.waitForURL(/\/(messages|admin)/)
}

async function expectClean(w: Watched, label: string) {
  const inPage = await w.page.evaluate(() => (window as unknown as { __cspViolations?: unknown[] }).__cspViolations ?? null)
  expect(inPage, `${label}: the violation recorder is installed`).not.toBeNull()
  expect(w.violations, `${label}: CSP violations`).toEqual([])
  expect(inPage, `${label}: CSP violations of the current page`).toEqual([])
  expect(w.console, `${label}: console errors and warnings`).toEqual([])
}

describe('content security policy', () => {
  let cid: string

  beforeAll(async () => {
    browser = await launchBrowser()
    cid = await createConversation(baseUrl, 'u-team-ben', `CSP ${run}`, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-client-ana', cid, 'Is the policy strict enough?')
  })

  afterAll(async () => {
    await browser?.close()
  })

  it("the gateway sends a strict policy with the client's documents", async () => {
    for (const p of ['/', '/login', `/messages/${cid}`, '/admin']) {
      const r = await fetch(`${baseUrl}${p}`)
      expect(r.status, p).toBe(200)
      expect(r.headers.get('content-type') ?? '', p).toContain('text/html')
      const policy = r.headers.get('content-security-policy')
      expect(policy, `${p}: a Content-Security-Policy header`).toBeTruthy()
      expect(policy, p).toContain("default-src 'self'")
      expect(policy, p).toContain("frame-ancestors 'none'")
      expect(policy, p).not.toContain('unsafe-inline')
      expect(policy, p).not.toContain('unsafe-eval')
    }
  })

  it('the built client has no inline script or style and no eval', () => {
    for (const file of [path.join(webDir, 'index.html'), path.join(webDir, 'dist', 'index.html')]) {
      const html = fs.readFileSync(file, 'utf8')
      const scripts = html.match(/<script\b[^>]*>/gi) ?? []
      expect(scripts.length, file).toBeGreaterThan(0)
      for (const tag of scripts) expect(tag, `${file}: every script is a file`).toMatch(/\ssrc=/)
      expect(html, `${file}: inline script`).not.toMatch(/<script\b[^>]*>[^<\s]/i)
      expect(html, `${file}: <style>`).not.toMatch(/<style\b/i)
      expect(html, `${file}: style attributes`).not.toMatch(/\sstyle\s*=/i)
      expect(html, `${file}: event handler attributes`).not.toMatch(/\son[a-z]+\s*=/i)
      expect(html, `${file}: javascript: URLs`).not.toMatch(/javascript:/i)
    }
    const assets = path.join(webDir, 'dist', 'assets')
    for (const name of fs.readdirSync(assets).filter((n) => n.endsWith('.js'))) {
      const js = fs.readFileSync(path.join(assets, name), 'utf8')
      expect(js, `${name}: eval`).not.toMatch(/\beval\s*\(|new Function\s*\(/)
    }
  })

  it('signing in, reading, sending, uploading, downloading and dialogs raise no violation or console error', async () => {
    const ben = await watchedContext()
    const page = ben.page
    await signIn(page, 'u-team-ben')
    await waitOnline(page)
    await expectClean(ben, 'after signing in')

    await page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`).click()
    await page.locator('[data-testid=thread]').waitFor()
    await messageByText(page, 'Is the policy strict enough?').waitFor()

    await sendFromUi(page, `Sent under the policy ${run}`)
    await messageByText(page, `Sent under the policy ${run}`).and(page.locator('[data-seq]')).waitFor()

    // An image (a blob: preview in the composer, then a signed-URL preview) and a PDF
    // named .exe (downloaded through fetch, to save it under its real extension).
    await page.locator('[data-testid=file-input]').setInputFiles([
      { name: 'chart.png', mimeType: 'image/png', buffer: makePng() },
      { name: 'scan.exe', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') },
    ])
    await page.locator('[data-testid=upload-item][data-status=done]').nth(1).waitFor()
    await sendFromUi(page, 'Two files')
    const files = messageByText(page, 'Two files').and(page.locator('[data-seq]')).locator('[data-testid=message-file]')
    await files.nth(1).waitFor()
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=message-file] img')].some((i) => (i as HTMLImageElement).naturalWidth > 0))
    for (const [i, expected] of [[0, 'chart.png'], [1, 'scan.exe.pdf']] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), files.nth(i).locator('[data-testid=file-download]').click()])
      expect(download.suggestedFilename()).toBe(expected)
    }

    // The members dialog, the message actions menu and the report dialog.
    await page.locator('[data-testid=members-button]').click()
    const members = page.getByRole('dialog', { name: 'Members' })
    await members.locator('[data-testid=member]').first().waitFor()
    await page.keyboard.press('Escape')
    await members.waitFor({ state: 'detached' })
    await messageByText(page, 'Is the policy strict enough?').getByRole('button', { name: 'Message actions' }).click()
    await page.getByRole('menuitem', { name: 'Report' }).click()
    const report = page.getByRole('dialog', { name: 'Report this message' })
    await report.waitFor()
    await page.keyboard.press('Escape')
    await report.waitFor({ state: 'detached' })

    // A full load of a deep link.
    await page.goto(`/messages/${cid}`)
    await page.locator('[data-testid=thread]').waitFor()
    await waitOnline(page)
    await expectClean(ben, 'messages')
    await ben.context.close()
  })

  it('the admin screens raise no violation or console error', async () => {
    const dana = await watchedContext()
    const page = dana.page
    await signIn(page, 'u-admin-dana')
    await page.goto('/admin')
    await page.locator(`[data-testid=admin-conversation][data-conversation-id="${cid}"]`).click()
    await page.locator('[data-testid=admin-participants] li').first().waitFor()
    await page.locator('[data-testid=tab-reports]').click()
    await page.getByRole('tabpanel').waitFor()
    await page.locator('[data-testid=tab-people]').click()
    await page.locator('[data-testid=admin-person]').first().waitFor()
    await expectClean(dana, 'admin')
    await dana.context.close()
  })
})
