// Emoji reactions against the real local gateway: two users in two browser contexts react
// through the picker (mouse and keyboard) and the chips, each sees the other's reactions
// live, the chips keep the vocabulary's order and survive a reload, and a refused reaction
// says so and takes the chip back.

import path from 'node:path'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  MOBILE,
  DESKTOP,
  api,
  audit,
  createConversation,
  eventually,
  launchBrowser,
  messageByText,
  noHorizontalOverflow,
  openAs,
  openConversation,
  sendViaApi,
  type UserPage,
} from './helpers'

const baseUrl = inject('baseUrl')
const screenshotsDir = inject('screenshotsDir')
const run = Date.now().toString(36)

/** shared/core/src/reactions.rs `VOCABULARY`, in its order. */
const VOCABULARY = ['👍', '👎', '❤️', '😂', '😮', '😢', '🎉', '🙏', '👀', '✅', '🔥', '🚀']

let browser: Browser
let ana: UserPage
let ben: UserPage

function chip(page: Page, text: string, emoji: string): Locator {
  return messageByText(page, text).locator(`[data-testid=reaction][data-emoji="${emoji}"]`)
}

/** The chips under a message, in order: "👍 2 mine" (mine: pressed). */
function chips(page: Page, text: string): Promise<string[]> {
  return messageByText(page, text)
    .locator('[data-testid=reaction]')
    .evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.emoji} ${(e as HTMLElement).dataset.count}${e.getAttribute('aria-pressed') === 'true' ? ' mine' : ''}`))
}

function waitChips(page: Page, text: string, expected: string[], what: string) {
  return eventually(() => chips(page, text), (c) => JSON.stringify(c) === JSON.stringify(expected), 10_000, what)
}

/** Opens a message's picker with its smiley button (shown on hover). */
async function openPicker(page: Page, text: string): Promise<Locator> {
  const message = messageByText(page, text)
  await message.hover()
  await message.locator('[data-testid=add-reaction]').click()
  const picker = message.locator('[data-testid=reaction-picker]')
  await picker.waitFor()
  return picker
}

function focusedEmoji(page: Page): Promise<string | null> {
  return page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.emoji ?? null)
}

describe('reactions in the browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ana = await openAs(browser, baseUrl, 'u-client-ana')
    ben = await openAs(browser, baseUrl, 'u-team-ben')
  })

  afterAll(async () => {
    const errors = [...(ana?.errors ?? []), ...(ben?.errors ?? [])]
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(1) a reaction through the picker shows live to the other; chips toggle, keep the vocabulary\'s order, and survive a reload', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Reactions ${run}`, ['u-client-ana'])
    const text = 'The mockups v2 are up'
    await sendViaApi(baseUrl, 'u-team-ben', cid, text)
    await openConversation(ana, cid)
    await openConversation(ben, cid)
    await messageByText(ana.page, text).waitFor()
    await messageByText(ben.page, text).waitFor()

    // Ana picks 👍: the twelve emoji, labelled, in the vocabulary's order.
    const picker = await openPicker(ana.page, text)
    expect(await picker.getAttribute('aria-label')).toBe('Add a reaction')
    const options = picker.locator('[data-testid=reaction-option]')
    expect(await options.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.emoji))).toEqual(VOCABULARY)
    expect(await options.first().getAttribute('aria-label')).toBe('Thumbs up')
    await picker.locator('[data-emoji="👍"]').click()
    await picker.waitFor({ state: 'detached' })
    await waitChips(ana.page, text, ['👍 1 mine'], 'Ana\'s own chip')

    // Ben sees it without reloading, not his, naming Ana.
    await waitChips(ben.page, text, ['👍 1'], 'Ana\'s reaction live for Ben')
    const benThumb = chip(ben.page, text, '👍')
    expect(await benThumb.getAttribute('title')).toBe('Thumbs up: Ana Alvarez')
    expect(await benThumb.getAttribute('aria-label')).toBe('Thumbs up, 1 reaction: Ana Alvarez')

    // Ben's click adds his: 2, pressed for him; Ana's tooltip names "You and Ben Carter".
    await benThumb.click()
    await waitChips(ben.page, text, ['👍 2 mine'], 'Ben\'s reaction added')
    expect(await benThumb.getAttribute('class')).toContain('reaction--mine')
    expect(await benThumb.getAttribute('title')).toBe('Thumbs up: You and Ana Alvarez')
    await waitChips(ana.page, text, ['👍 2 mine'], 'Ben\'s reaction live for Ana')
    expect(await chip(ana.page, text, '👍').getAttribute('title')).toBe('Thumbs up: You and Ben Carter')

    // Clicked again: his goes, for both.
    await benThumb.click()
    await waitChips(ben.page, text, ['👍 1'], 'Ben\'s reaction taken away')
    await waitChips(ana.page, text, ['👍 1 mine'], 'Ben\'s reaction gone for Ana')

    // The keyboard: Enter opens the picker on its first emoji, End goes to the last, Enter picks
    // it and the focus is back on the button; Escape closes without picking.
    const anaMessage = messageByText(ana.page, text)
    const button = anaMessage.locator('[data-testid=add-reaction]')
    await button.focus()
    await ana.page.keyboard.press('Enter')
    await anaMessage.locator('[data-testid=reaction-picker]').waitFor()
    expect(await focusedEmoji(ana.page)).toBe('👍')
    await ana.page.keyboard.press('End')
    expect(await focusedEmoji(ana.page)).toBe('🚀')
    await ana.page.keyboard.press('Enter')
    await anaMessage.locator('[data-testid=reaction-picker]').waitFor({ state: 'detached' })
    expect(await button.evaluate((el) => el === document.activeElement)).toBe(true)
    await ana.page.keyboard.press('Enter')
    await anaMessage.locator('[data-testid=reaction-picker]').waitFor()
    await ana.page.keyboard.press('ArrowRight')
    await ana.page.keyboard.press('ArrowRight')
    expect(await focusedEmoji(ana.page)).toBe('❤️')
    await ana.page.keyboard.press('Escape')
    await anaMessage.locator('[data-testid=reaction-picker]').waitFor({ state: 'detached' })
    expect(await button.evaluate((el) => el === document.activeElement)).toBe(true)
    await waitChips(ana.page, text, ['👍 1 mine', '🚀 1 mine'], 'Ana\'s rocket')
    // ❤️ with the mouse after all, and Ben's 🎉 through the message's menu.
    await (await openPicker(ana.page, text)).locator('[data-emoji="❤️"]').click()
    const benMessage = messageByText(ben.page, text)
    await benMessage.getByRole('button', { name: 'Message actions' }).click()
    await benMessage.getByRole('menuitem', { name: 'Add reaction' }).click()
    await benMessage.locator('[data-testid=reaction-picker] [data-emoji="🎉"]').click()

    // Both see every chip in the vocabulary's order, whatever order they came in.
    const anaSees = ['👍 1 mine', '❤️ 1 mine', '🎉 1', '🚀 1 mine']
    const benSees = ['👍 1', '❤️ 1', '🎉 1 mine', '🚀 1']
    await waitChips(ana.page, text, anaSees, 'four chips for Ana')
    await waitChips(ben.page, text, benSees, 'four chips for Ben')

    // The server holds the same (the next page load is the truth).
    const page = await api<{ items: { reactions: { emoji: string; userIds: string[] }[] }[] }>(baseUrl, 'u-team-ben', 'GET', `/api/messaging/conversations/${cid}/messages`)
    expect(page.items[0]!.reactions).toEqual([
      { emoji: '👍', userIds: ['u-client-ana'] },
      { emoji: '❤️', userIds: ['u-client-ana'] },
      { emoji: '🎉', userIds: ['u-team-ben'] },
      { emoji: '🚀', userIds: ['u-client-ana'] },
    ])
    for (const [user, expected] of [[ana, anaSees], [ben, benSees]] as const) {
      await user.page.reload()
      await user.page.locator('[data-testid=thread]').waitFor()
      await messageByText(user.page, text).waitFor()
      await waitChips(user.page, text, expected, `the chips after ${user.userId} reloaded`)
    }
    // The picker marks what I have; the page with it open passes the audit.
    const again = await openPicker(ben.page, text)
    await ben.page.screenshot({ path: path.join(screenshotsDir, 'reactions-desktop.png') })
    expect(await again.locator('[aria-pressed=true]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.emoji))).toEqual(['🎉'])
    await audit(ben.page, 'a thread with reactions, the picker open')
    await ben.page.keyboard.press('Escape')
    await again.waitFor({ state: 'detached' })

    // At 360 px: the chips and the picker stay on screen, nothing scrolls sideways.
    await ana.page.setViewportSize(MOBILE)
    const small = await openPicker(ana.page, text)
    const box = (await small.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(MOBILE.width)
    await noHorizontalOverflow(ana.page)
    expect(await ana.page.locator('.thread__scroll').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true)
    await ana.page.screenshot({ path: path.join(screenshotsDir, 'reactions-mobile.png') })
    await audit(ana.page, 'reactions at 360 px, the picker open')
    await ana.page.keyboard.press('Escape')
    await ana.page.setViewportSize(DESKTOP)
  })

  it('(2) a reaction the server refuses says so and the chip goes back to what it was', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Refused reactions ${run}`, ['u-client-ana'])
    const full = 'A message with all the reactions it can take'
    const doomed = 'A message about to be deleted'
    const first = await sendViaApi(baseUrl, 'u-team-ben', cid, full)
    const second = await sendViaApi(baseUrl, 'u-team-ben', cid, doomed)
    await api(baseUrl, 'u-team-ben', 'PUT', `/api/messaging/conversations/${cid}/messages/${first.id}/reactions`, { emoji: '🔥' })
    await openConversation(ana, cid)
    await messageByText(ana.page, doomed).waitFor()
    await waitChips(ana.page, full, ['🔥 1'], 'Ben\'s fire')

    // (a) The message is full (faked: 150 reactions are many requests): 409 limit_reached.
    const reactions = `**/api/messaging/conversations/${cid}/messages/*/reactions`
    await ana.page.route(reactions, async (route) => {
      // The chip shows at once, before any answer.
      await waitChips(ana.page, full, ['🔥 2 mine'], 'the optimistic chip')
      await route.fulfill({ status: 409, json: { error: { code: 'limit_reached', message: 'reactions on a message: at most 120', field: null } } })
    })
    await chip(ana.page, full, '🔥').click()
    const toast = ana.page.locator('.toast--error', { hasText: 'Could not add the reaction: reactions on a message: at most 120' })
    await toast.waitFor()
    expect(await toast.getAttribute('role')).toBe('alert')
    await waitChips(ana.page, full, ['🔥 1'], 'the chip back as it was')
    await ana.page.unroute(reactions)

    // (b) Deleted while the request was on its way: the server's own 409 message_deleted.
    await ana.page.route(reactions, async (route) => {
      await waitChips(ana.page, doomed, ['👀 1 mine'], 'the optimistic chip')
      await api(baseUrl, 'u-team-ben', 'DELETE', `/api/messaging/conversations/${cid}/messages/${second.id}`)
      await route.continue()
    })
    await (await openPicker(ana.page, doomed)).locator('[data-emoji="👀"]').click()
    await ana.page.locator('.toast--error', { hasText: 'Could not add the reaction: the message was deleted' }).waitFor()
    const gone = ana.page.locator(`[data-testid=message][data-seq="${second.seq}"]`)
    await gone.locator('.msg__body--deleted').waitFor()
    expect(await gone.locator('[data-testid=reaction]').count()).toBe(0)
    expect(await gone.locator('[data-testid=add-reaction]').count()).toBe(0)
    await ana.page.unroute(reactions)

    // Nothing was stored; the full message takes a reaction again once the server allows it.
    await chip(ana.page, full, '🔥').click()
    await waitChips(ana.page, full, ['🔥 2 mine'], 'Ana\'s fire, stored')
    // The chip shows at once; the server has it once the PUT is answered.
    const stored = [[{ emoji: '🔥', userIds: ['u-client-ana', 'u-team-ben'] }], []]
    const page = await eventually(
      () => api<{ items: { reactions: unknown[] }[] }>(baseUrl, 'u-team-ben', 'GET', `/api/messaging/conversations/${cid}/messages`),
      (p) => JSON.stringify(p.items.map((m) => m.reactions)) === JSON.stringify(stored),
      15_000,
      'the reaction stored on the server',
    )
    expect(page.items.map((m) => m.reactions)).toEqual(stored)
  })

  it('(3) once a conversation is closed, its reactions still show but nobody can react', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Closed reactions ${run}`, ['u-client-ana'])
    const text = 'Thanks all, closing this one'
    const sent = await sendViaApi(baseUrl, 'u-team-ben', cid, text)
    await api(baseUrl, 'u-client-ana', 'PUT', `/api/messaging/conversations/${cid}/messages/${sent.id}/reactions`, { emoji: '🙏' })
    await openConversation(ana, cid)
    await waitChips(ana.page, text, ['🙏 1 mine'], 'Ana\'s thanks')
    const message = messageByText(ana.page, text)
    await message.locator('[data-testid=add-reaction]').waitFor()

    await api(baseUrl, 'u-admin-dana', 'PATCH', `/api/admin/messaging/conversations/${cid}/status`, { status: 'closed' })
    await ana.page.locator('[data-testid=composer-disabled]').waitFor()
    await message.locator('[data-testid=add-reaction]').waitFor({ state: 'detached' })
    await message.getByRole('button', { name: 'Message actions' }).click()
    expect(await message.getByRole('menuitem').allInnerTexts()).toEqual(['Copy text', 'Report'])
    await ana.page.keyboard.press('Escape')
    const thanks = chip(ana.page, text, '🙏')
    expect(await thanks.getAttribute('aria-disabled')).toBe('true')
    // Playwright does not click what says it is disabled; a person still can.
    await thanks.click({ force: true })
    await ana.page.waitForTimeout(300)
    expect(await chips(ana.page, text)).toEqual(['🙏 1 mine'])
    expect(await ana.page.locator('.toast--error').count()).toBe(0)
  })
})
