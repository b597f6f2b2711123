// Automated accessibility audit (axe-core, WCAG 2.x A/AA rules) of every page, on
// desktop and at 360 px, plus keyboard-only use of the main flow.

import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DESKTOP, MOBILE, audit, createConversation, launchBrowser, makePng, messageByText, openAs, openConversation, sendViaApi, waitOnline, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')

let browser: Browser
let ben: UserPage
let cid: string

describe('accessibility', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    cid = await createConversation(baseUrl, 'u-team-ben', 'Accessibility review', ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-client-ana', cid, 'Can you check the contrast of the buttons?')
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Yes — all of them pass AA now.')
  })

  afterAll(async () => {
    await browser?.close()
  })

  it('the login page has no WCAG A/AA violations', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: baseUrl })
    const page = await context.newPage()
    await page.goto('/login')
    await page.locator('[data-testid=login-user]').first().waitFor()
    await audit(page, 'login')
    await context.close()
  })

  it('the messages page has no WCAG A/AA violations, on desktop and at 360 px', async () => {
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    await openConversation(ben, cid)
    await ben.page.locator('[data-testid=file-input]').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: makePng() })
    await ben.page.locator('[data-testid=upload-item][data-status=done]').waitFor()
    await audit(ben.page, 'messages desktop (with an upload in the composer)')
    await ben.page.setViewportSize(MOBILE)
    await audit(ben.page, 'messages mobile, thread')
    await ben.page.goto('/messages')
    await waitOnline(ben.page)
    await audit(ben.page, 'messages mobile, list')
    await ben.page.setViewportSize(DESKTOP)
  })

  it('the admin page has no WCAG A/AA violations', async () => {
    const dana = await openAs(browser, baseUrl, 'u-admin-dana')
    await dana.page.goto('/admin')
    await dana.page.locator(`[data-testid=admin-conversation][data-conversation-id="${cid}"]`).click()
    await dana.page.locator('[data-testid=admin-participants] li').first().waitFor()
    await audit(dana.page, 'admin conversations')
    await dana.page.locator('[data-testid=tab-reports]').click()
    await dana.page.getByRole('tabpanel').waitFor()
    await audit(dana.page, 'admin reports')
    await dana.context.close()
  })

  it('the main flow works with the keyboard alone', async () => {
    const page = ben.page
    await page.goto('/messages')
    await waitOnline(page)
    // Skip link first, then into the page.
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Skip to content')
    // Search box → type → Tab to the first conversation → Enter opens it.
    await page.locator('[data-testid=conversation-search]').focus()
    await page.keyboard.type('Accessibility')
    await page.locator('[data-testid=conversation-item]').filter({ hasText: 'Accessibility review' }).waitFor()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await page.waitForURL(new RegExp(`/messages/${cid}`))
    // Focus is visible: the focused element draws an outline.
    const composer = page.locator('[data-testid=composer-input]')
    await composer.focus()
    await page.keyboard.type('Typed and sent with the keyboard')
    await page.keyboard.press('Enter')
    await messageByText(page, 'Typed and sent with the keyboard').and(page.locator('[data-seq]')).waitFor()
    const link = page.locator('[data-testid=conversation-item]').first()
    await link.focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Tab')
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)
    expect(outline).not.toBe('none')
    await ben.context.close()
  })
})
