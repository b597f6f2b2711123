// Rate limits in the browser, against the real local gateway. The gateway of these tests
// has generous REST allowances (global-setup.ts), so the 429 of a send is injected with
// page.route; the later POSTs reach the real gateway. Typing keeps its real allowance,
// so its `rate_limited` error frames are real.

import type { Browser, ConsoleMessage } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { api, bodies, createConversation, launchBrowser, messageByText, openAs, openConversation, sendFromUi, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')
const run = Date.now().toString(36)

let browser: Browser
let ben: UserPage

describe('rate limits', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
  })

  afterAll(async () => {
    const errors = [...(ben?.errors ?? [])]
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('a send answered 429 + Retry-After stays pending, says so, and goes again by itself with the same clientMessageId', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Rate limited ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    const page = ben.page

    const posts: { clientMessageId: string; at: number }[] = []
    const pattern = `**/api/messaging/conversations/${cid}/messages`
    await page.route(pattern, async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      posts.push({ clientMessageId: (route.request().postDataJSON() as { clientMessageId: string }).clientMessageId, at: Date.now() })
      if (posts.length === 1) {
        return route.fulfill({
          status: 429,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
          body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many send requests; retry in 1 s', field: null } }),
        })
      }
      return route.continue()
    })
    // Remembers whether a failed bubble (or any alert) ever showed, however briefly.
    await page.evaluate(() => {
      const w = window as unknown as { __sawFailed: boolean }
      w.__sawFailed = false
      const check = () => {
        if (document.querySelector('.msg--failed, [data-testid=retry-send], .toast--error')) w.__sawFailed = true
      }
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] })
    })

    const text = 'Sent after a short pause'
    await sendFromUi(page, text)

    // Pending, with a short, polite status, and said once to screen readers.
    const paused = messageByText(page, text).locator('[data-testid=send-paused]')
    await paused.waitFor({ timeout: 5_000 })
    expect(await paused.innerText()).toMatch(/^Sending paused — retrying (in 1 s|now)$/)
    expect(await messageByText(page, text).getAttribute('class')).toContain('msg--pending')
    expect(await page.locator('[data-testid=announcer]').innerText()).toContain('Sending paused')

    // Then stored, without any user action.
    const stored = messageByText(page, text).and(page.locator('[data-seq]'))
    await stored.waitFor({ timeout: 10_000 })
    await page.waitForTimeout(300) // the new-message event lands too: still one bubble
    expect(await bodies(page)).toEqual([text])
    expect(await stored.locator('[data-testid=receipt]').getAttribute('data-receipt')).toMatch(/^(sent|read)$/)
    expect(await page.locator('[data-testid=send-paused]').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __sawFailed: boolean }).__sawFailed), 'never shown as failed').toBe(false)

    // Retried once, with the same clientMessageId, after Retry-After.
    expect(posts).toHaveLength(2)
    expect(posts[1]!.clientMessageId).toBe(posts[0]!.clientMessageId)
    expect(posts[1]!.at - posts[0]!.at, 'waited for Retry-After').toBeGreaterThanOrEqual(900)
    expect(await stored.getAttribute('data-client-message-id')).toBe(posts[0]!.clientMessageId)
    const history = await api<{ items: { body: string; clientMessageId: string }[] }>(baseUrl, 'u-team-ben', 'GET', `/api/messaging/conversations/${cid}/messages`)
    expect(history.items.map((m) => [m.body, m.clientMessageId])).toEqual([[text, posts[0]!.clientMessageId]])
    await page.unroute(pattern)
  })

  it('typing too often: the socket\'s rate_limited error frames are ignored quietly', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Typing limit ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    const page = ben.page
    const logged: ConsoleMessage[] = []
    const onConsole = (m: ConsoleMessage) => logged.push(m)
    page.on('console', onConsole)

    // Far more `typing` frames than the allowance (20 per 10 s), straight on the socket.
    await page.evaluate((conversationId) => {
      const sockets = (window as unknown as { __e2eSockets: WebSocket[] }).__e2eSockets
      const ws = sockets.filter((s) => s.readyState === WebSocket.OPEN).pop()!
      for (let i = 0; i < 40; i++) ws.send(JSON.stringify({ action: 'typing', conversationId }))
    }, cid)

    const quiet = () => logged.filter((m) => m.type() === 'debug' && m.text().includes('rate limited'))
    for (let i = 0; i < 50 && quiet().length === 0; i++) await page.waitForTimeout(100)
    expect(quiet().length, 'rate_limited frames arrived (logged at debug level)').toBeGreaterThan(0)
    expect(logged.filter((m) => m.type() === 'warning' || m.type() === 'error').map((m) => m.text())).toEqual([])
    expect(await page.locator('.toast, [role=alert]').count()).toBe(0)
    expect(await page.locator('[data-testid=connection-status][data-state=online]').count()).toBeGreaterThan(0)
    page.off('console', onConsole)
  })
})
