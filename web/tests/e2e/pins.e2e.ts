// Pins against the real local gateway: Ben (team) pins and unpins messages from their menu
// and from the header's list; Ana (client) sees "Pinned (N)" and the list follow live, jumps
// from the list to a message far back, and has no pin actions (the server refuses her
// anyway). A deleted message leaves the pins; a closed conversation offers no pinning.

import path from 'node:path'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { api, audit, createConversation, eventually, launchBrowser, messageByText, openAs, openConversation, sendViaApi, waitOnline, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')
const screenshotsDir = inject('screenshotsDir')
const run = Date.now().toString(36)

let browser: Browser
let ana: UserPage
let ben: UserPage

function pinsButton(page: Page): Locator {
  return page.locator('[data-testid=pins-button]')
}

/** What "Pinned (N)" says: N, or 0 when it is not shown. */
async function pinCount(page: Page): Promise<number> {
  const button = pinsButton(page)
  if ((await button.count()) === 0) return 0
  return Number(await button.getAttribute('data-count'))
}

function waitPinCount(page: Page, n: number, what: string) {
  return eventually(() => pinCount(page), (c) => c === n, 10_000, what)
}

/** The pinned messages the open list shows, "sender: text", in order. */
function listed(page: Page): Promise<string[]> {
  return page.locator('[data-testid=pinned-item]').evaluateAll((els) =>
    els.map((el) => `${el.querySelector('.pins__sender')?.textContent ?? ''}: ${el.querySelector('[data-testid=pinned-text]')?.textContent ?? ''}`),
  )
}

function waitListed(page: Page, expected: string[], what: string) {
  return eventually(() => listed(page), (l) => JSON.stringify(l) === JSON.stringify(expected), 10_000, what)
}

async function openPins(page: Page): Promise<Locator> {
  await pinsButton(page).click()
  const list = page.locator('[data-testid=pins-list]')
  await list.waitFor()
  return list
}

async function menuItems(m: Locator): Promise<string[]> {
  await m.hover()
  await m.getByRole('button', { name: 'Message actions' }).click()
  const items = (await m.getByRole('menuitem').allInnerTexts()).map((t) => t.trim())
  await m.page().keyboard.press('Escape')
  return items
}

async function choose(m: Locator, item: string) {
  await m.hover()
  await m.getByRole('button', { name: 'Message actions' }).click()
  await m.getByRole('menuitem', { name: item }).click()
}

describe('pins in the browser', () => {
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

  it('pin: the team pins and unpins, the client sees the list live and jumps from it, has no pin actions; a deleted message leaves the pins', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Pins ${run}`, ['u-client-ana'])
    const decision = `Decision: we ship on Friday ${run}`
    const pinned = await sendViaApi(baseUrl, 'u-team-ben', cid, decision)
    for (let i = 1; i <= 70; i++) await sendViaApi(baseUrl, i % 3 === 0 ? 'u-client-ana' : 'u-team-ben', cid, `Chatter ${i}`)
    const agenda = `The agenda for Monday ${run}`
    const second = await sendViaApi(baseUrl, 'u-client-ana', cid, agenda)
    await openConversation(ana, cid)
    // Ben opens the conversation at the decision, far back.
    await ben.page.goto(`/messages/${cid}?seq=${pinned.seq}`)
    await waitOnline(ben.page)
    const benDecision = ben.page.locator(`[data-testid=message][data-seq="${pinned.seq}"]`)
    await benDecision.waitFor()
    expect(await pinCount(ana.page)).toBe(0)

    // Ana, a client, has no pin action.
    expect(await menuItems(messageByText(ana.page, agenda))).toEqual(['Copy text', 'Reply', 'Add reaction', 'Edit', 'Delete'])
    // Ben pins the decision from its menu: the pin marks it; Ana sees "Pinned (1)" live.
    expect(await menuItems(benDecision)).toEqual(['Copy text', 'Reply', 'Add reaction', 'Pin', 'Edit', 'Delete'])
    await choose(benDecision, 'Pin')
    await ben.page.locator('.toast', { hasText: 'Message pinned' }).waitFor()
    await benDecision.locator('[data-testid=pinned-marker]').waitFor()
    expect(await benDecision.locator('article').getAttribute('aria-label')).toMatch(/, pinned$/)
    await waitPinCount(ana.page, 1, '"Pinned (1)" for Ana')
    expect((await pinsButton(ana.page).innerText()).replace(/\s+/g, ' ').trim()).toBe('Pinned (1)')
    expect(await pinsButton(ben.page).getAttribute('data-count')).toBe('1')

    // Ana opens the list: the decision, by Ben; the focus is on it; no Unpin for her.
    const list = await openPins(ana.page)
    await waitListed(ana.page, [`Ben Carter: ${decision}`], 'the decision listed')
    expect(await pinsButton(ana.page).getAttribute('aria-expanded')).toBe('true')
    expect(await ana.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('pinned-open')
    expect(await list.locator('[data-testid=unpin]').count()).toBe(0)
    await ana.page.screenshot({ path: path.join(screenshotsDir, 'pins-desktop.png') })
    await audit(ana.page, 'a conversation with its pinned messages open')

    // Clicking it jumps to the message, 71 messages back: in view, marked, focused, pinned.
    await list.locator('[data-testid=pinned-open]').first().click()
    await list.waitFor({ state: 'detached' })
    const anaDecision = ana.page.locator(`[data-testid=message][data-seq="${pinned.seq}"]`)
    await ana.page.locator(`[data-testid=message][data-seq="${pinned.seq}"][data-found=true]`).waitFor()
    expect(await anaDecision.evaluate((el) => el === document.activeElement)).toBe(true)
    const inView = await anaDecision.evaluate((el) => {
      const box = el.closest('[data-testid=thread-scroll]')!.getBoundingClientRect()
      const own = el.getBoundingClientRect()
      return own.top >= box.top && own.bottom <= box.bottom
    })
    expect(inView, 'the pinned message is inside the thread view').toBe(true)
    await anaDecision.locator('[data-testid=pinned-marker]').waitFor()
    expect(await menuItems(anaDecision)).toEqual(['Copy text', 'Reply', 'Add reaction', 'Report'])

    // Forced anyway, the server refuses her.
    await expect(api(baseUrl, 'u-client-ana', 'PUT', `/api/messaging/conversations/${cid}/messages/${second.id}/pin`)).rejects.toThrow(/: 403 /)

    // Ben pins Ana's agenda through the API: Ana's open list follows, oldest first.
    await api(baseUrl, 'u-team-ben', 'PUT', `/api/messaging/conversations/${cid}/messages/${second.id}/pin`)
    await waitPinCount(ana.page, 2, '"Pinned (2)" for Ana')
    await openPins(ana.page)
    await waitListed(ana.page, [`Ben Carter: ${decision}`, `You: ${agenda}`], 'both pins, oldest first')

    // Ben unpins the decision from his list: Ana sees one left, live.
    const benList = await openPins(ben.page)
    await waitListed(ben.page, [`You: ${decision}`, `Ana Alvarez: ${agenda}`], 'Ben\'s list')
    await benList.locator(`[data-testid=pinned-item][data-seq="${pinned.seq}"] [data-testid=unpin]`).click()
    await waitListed(ben.page, [`Ana Alvarez: ${agenda}`], 'Ben\'s list after unpinning')
    await waitListed(ana.page, [`You: ${agenda}`], 'Ana\'s list after Ben unpinned')
    await waitPinCount(ana.page, 1, '"Pinned (1)" again')
    await benDecision.locator('[data-testid=pinned-marker]').waitFor({ state: 'detached' })
    await ben.page.keyboard.press('Escape')
    await benList.waitFor({ state: 'detached' })
    expect(await pinsButton(ben.page).evaluate((el) => el === document.activeElement)).toBe(true)

    // Ben unpins the agenda from its menu: Ana's open list is empty.
    await choose(messageByText(ben.page, agenda), 'Unpin')
    await ana.page.locator('[data-testid=pins-empty]').waitFor()
    expect(await ana.page.locator('[data-testid=pins-empty]').innerText()).toBe('No pinned messages.')
    expect(await listed(ana.page)).toEqual([])
    await ana.page.keyboard.press('Escape')
    await ana.page.locator('[data-testid=pins-list]').waitFor({ state: 'detached' })
    // Nothing pinned: no button; the focus went to the conversation's heading.
    expect(await pinCount(ana.page)).toBe(0)
    expect(await ana.page.evaluate(() => document.activeElement?.tagName)).toBe('H2')

    // A pinned message that is deleted leaves the pins, for everyone.
    const doomed = `Pinned, then deleted ${run}`
    const third = await sendViaApi(baseUrl, 'u-team-ben', cid, doomed)
    await messageByText(ben.page, doomed).waitFor()
    await choose(messageByText(ben.page, doomed), 'Pin')
    await waitPinCount(ana.page, 1, 'the third pin for Ana')
    await messageByText(ana.page, doomed).locator('[data-testid=pinned-marker]').waitFor()
    await openPins(ana.page)
    await waitListed(ana.page, [`Ben Carter: ${doomed}`], 'the doomed pin listed')
    await api(baseUrl, 'u-team-ben', 'DELETE', `/api/messaging/conversations/${cid}/messages/${third.id}`)
    await ana.page.locator('[data-testid=pins-empty]').waitFor()
    expect(await ana.page.locator(`[data-testid=message][data-seq="${third.seq}"] [data-testid=pinned-marker]`).count()).toBe(0)
    await ana.page.keyboard.press('Escape')
    await waitPinCount(ben.page, 0, 'no pins left for Ben')
    const pins = await api<{ items: unknown[] }>(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}/pins`)
    expect(pins.items).toEqual([])

    // Pins survive a reload; once the conversation is closed the team cannot pin any more.
    await api(baseUrl, 'u-team-ben', 'PUT', `/api/messaging/conversations/${cid}/messages/${second.id}/pin`)
    await ana.page.reload()
    await waitOnline(ana.page)
    await waitPinCount(ana.page, 1, 'the pin after a reload')
    await messageByText(ana.page, agenda).locator('[data-testid=pinned-marker]').waitFor()
    await api(baseUrl, 'u-admin-dana', 'PATCH', `/api/admin/messaging/conversations/${cid}/status`, { status: 'closed' })
    await ben.page.locator('[data-testid=composer-disabled]').waitFor()
    expect(await menuItems(messageByText(ben.page, agenda))).toEqual(['Copy text', 'Report'])
    await openPins(ben.page)
    await waitListed(ben.page, [`Ana Alvarez: ${agenda}`], 'the list in a closed conversation')
    expect(await ben.page.locator('[data-testid=pins-list] [data-testid=unpin]').count()).toBe(0)
  })
})
