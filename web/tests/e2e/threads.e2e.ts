// Replies and threads against the real local gateway: Ana (client) replies to Ben's message
// through the composer, both see the quote and the root's count live, the quote jumps to an
// original far back in the history, the thread panel lists the root and its replies and
// replies within the thread (to the root, or to a reply), and after a reload and after a
// catch-up everything is still there, the timeline gapless. A deleted original says so in
// its quotes.

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
  noHorizontalOverflow,
  openAs,
  openConversation,
  sendViaApi,
  waitOnline,
  type UserPage,
} from './helpers'

const baseUrl = inject('baseUrl')
const screenshotsDir = inject('screenshotsDir')
const run = Date.now().toString(36)

let browser: Browser
let ana: UserPage
let ben: UserPage

/** The conversation's timeline (not the thread panel). */
function timeline(page: Page): Locator {
  return page.locator('[data-testid=thread]')
}

function panel(page: Page): Locator {
  return page.locator('[data-testid=thread-panel]')
}

/** A message by its text, inside `scope`. */
function message(scope: Locator, text: string): Locator {
  return scope.locator('[data-testid=message]', { has: scope.page().locator('[data-testid=message-body]', { hasText: text }) })
}

/** The seqs of the timeline's stored messages, in DOM order (the panel's left out). */
function timelineSeqs(page: Page): Promise<number[]> {
  return page.$$eval('[data-testid=thread] [data-testid=message][data-seq]', (els) => els.map((e) => Number((e as HTMLElement).dataset.seq)))
}

function bySeq(scope: Locator, seq: number): Locator {
  return scope.locator(`[data-testid=message][data-seq="${seq}"]`)
}

/** "sender: text" of a message's quote. */
async function quoteOf(m: Locator): Promise<string> {
  const q = m.locator('[data-testid=message-quote]')
  return `${await q.locator('[data-testid=message-quote-sender]').innerText()}: ${await q.locator('[data-testid=message-quote-text]').innerText()}`
}

function waitQuote(m: Locator, expected: string, what: string) {
  return eventually(() => quoteOf(m).catch(() => ''), (q) => q === expected, 10_000, what)
}

/** The count "N replies" of a thread's root, as the button says it (0: no button). */
async function replyCount(m: Locator): Promise<number> {
  const button = m.locator('[data-testid=reply-count]')
  if ((await button.count()) === 0) return 0
  return Number(await button.getAttribute('data-count'))
}

function waitCount(m: Locator, n: number, what: string) {
  return eventually(() => replyCount(m), (c) => c === n, 10_000, what)
}

/** The bodies the thread panel lists, in order. */
function panelBodies(page: Page): Promise<string[]> {
  return panel(page).locator('[data-testid=message-body]').allInnerTexts()
}

async function sendIn(scope: Locator, text: string) {
  const input = scope.locator('[data-testid=composer-input]')
  await input.click()
  await input.fill(text)
  await input.press('Enter')
}

function expectGapless(shown: number[], last: number) {
  expect(shown[shown.length - 1]).toBe(last)
  expect(shown).toEqual(Array.from({ length: shown.length }, (_, i) => shown[0]! + i))
}

describe('replies and threads in the browser', () => {
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

  it('reply and open the thread: quotes and counts live, a jump far back, replies within the thread, a reload and a catch-up, a deleted original', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Threads ${run}`, ['u-client-ana'])
    const original = `The launch plan ${run}`
    const root = await sendViaApi(baseUrl, 'u-team-ben', cid, original)
    for (let i = 1; i <= 120; i++) await sendViaApi(baseUrl, i % 4 === 0 ? 'u-client-ana' : 'u-team-ben', cid, `Filler ${i}`)
    await openConversation(ben, cid)
    // Ana opens the conversation at the original, as a search result or a link would.
    await ana.page.goto(`/messages/${cid}?seq=${root.seq}`)
    await waitOnline(ana.page)
    const anaRoot = bySeq(timeline(ana.page), root.seq)
    await anaRoot.waitFor()

    // (1) Ana replies with the arrow beside the bubble: the composer says to what; Escape
    // takes it back, the menu's "Reply" chooses it again.
    await anaRoot.hover()
    await anaRoot.locator('[data-testid=reply]').click()
    const composer = timeline(ana.page).locator('form.composer')
    const replying = composer.locator('[data-testid=composer-reply]')
    await replying.waitFor()
    expect(await replying.innerText()).toContain(`Replying to Ben Carter: ${original}`)
    expect(await composer.locator('[data-testid=composer-input]').evaluate((el) => el === document.activeElement)).toBe(true)
    await ana.page.keyboard.press('Escape')
    await replying.waitFor({ state: 'detached' })
    await anaRoot.getByRole('button', { name: 'Message actions' }).click()
    await anaRoot.getByRole('menuitem', { name: 'Reply' }).click()
    await replying.waitFor()
    const first = `Count me in ${run}`
    await sendIn(timeline(ana.page), first)
    await replying.waitFor({ state: 'detached' })

    // Both see the reply with its quote, live; the root says "1 reply" for Ana.
    const anaReply = message(timeline(ana.page), first)
    const benReply = message(timeline(ben.page), first)
    await anaReply.and(ana.page.locator('[data-seq]')).waitFor()
    await waitQuote(anaReply, `Ben Carter: ${original}`, 'the quote for Ana')
    // Ben's own message, quoted: "You".
    await waitQuote(benReply, `You: ${original}`, 'the quote for Ben, live')
    await waitCount(anaRoot, 1, '"1 reply" for Ana')
    expect(await anaRoot.locator('[data-testid=reply-count]').innerText()).toContain('1 reply')

    // (2) Ben clicks the quote: the original, 121 messages back, is brought into view and marked.
    await benReply.locator('[data-testid=message-quote]').click()
    const benRoot = bySeq(timeline(ben.page), root.seq)
    await ben.page.locator(`[data-testid=message][data-seq="${root.seq}"][data-found=true]`).waitFor()
    const inView = await ben.page.evaluate((seq) => {
      const box = document.querySelector('[data-testid=thread-scroll]')!.getBoundingClientRect()
      const el = document.querySelector(`[data-testid=thread] [data-testid=message][data-seq="${seq}"]`)!.getBoundingClientRect()
      return el.top >= box.top && el.bottom <= box.bottom
    }, root.seq)
    expect(inView, 'the original is inside the timeline view').toBe(true)
    expect(await benRoot.evaluate((el) => el === document.activeElement)).toBe(true)
    await waitCount(benRoot, 1, '"1 reply" for Ben')
    expectGapless(await timelineSeqs(ben.page), 122)

    // (3) Ana opens the thread: the root and its reply; the panel has the focus.
    const opener = anaRoot.locator('[data-testid=reply-count]')
    await opener.click()
    await panel(ana.page).waitFor()
    await eventually(() => panelBodies(ana.page), (b) => b.length === 2, 10_000, 'the thread listed')
    expect(await panelBodies(ana.page)).toEqual([original, first])
    expect(await ana.page.evaluate(() => document.activeElement?.textContent)).toBe('Thread')
    expect(await panel(ana.page).locator('[data-testid=thread-panel-count]').innerText()).toBe('1 reply')
    await ana.page.screenshot({ path: path.join(screenshotsDir, 'threads-desktop.png') })
    await audit(ana.page, 'a conversation with its thread panel open')

    // (4) A reply within the thread (to its root): 2 replies, for both, and in the timeline too.
    const second = `Within the thread ${run}`
    await sendIn(panel(ana.page), second)
    await eventually(() => panelBodies(ana.page), (b) => b.length === 3, 10_000, 'the reply in the panel')
    expect(await panelBodies(ana.page)).toEqual([original, first, second])
    await panel(ana.page).locator('[data-testid=thread-panel-count][data-count="2"]').waitFor()
    await waitCount(anaRoot, 2, 'Ana\'s root says 2')
    await waitCount(benRoot, 2, 'Ben\'s root says 2, live')
    await message(timeline(ana.page), second).waitFor()
    await waitQuote(message(timeline(ben.page), second), `You: ${original}`, 'the thread reply in Ben\'s timeline')

    // (5) Ben opens the thread and answers Ana's first reply: it quotes that reply, Ana's panel gets it live.
    await benRoot.locator('[data-testid=reply-count]').click()
    await eventually(() => panelBodies(ben.page), (b) => b.length === 3, 10_000, 'Ben\'s panel')
    const benFirst = message(panel(ben.page), first)
    await benFirst.hover()
    await benFirst.locator('[data-testid=reply]').click()
    await panel(ben.page).locator('[data-testid=composer-reply]').waitFor()
    expect(await panel(ben.page).locator('[data-testid=composer-reply]').innerText()).toContain(`Replying to Ana Alvarez: ${first}`)
    const third = `Answering Ana ${run}`
    await sendIn(panel(ben.page), third)
    await eventually(() => panelBodies(ana.page), (b) => b.length === 4, 10_000, 'Ben\'s answer live in Ana\'s panel')
    expect(await panelBodies(ana.page)).toEqual([original, first, second, third])
    await waitQuote(message(panel(ana.page), third), `You: ${first}`, 'the answer quotes Ana\'s reply')
    await panel(ana.page).locator('[data-testid=thread-panel-count][data-count="3"]').waitFor()
    await waitCount(anaRoot, 3, 'Ana\'s root says 3')

    // Escape closes the panel; the focus is back on "N replies".
    await panel(ana.page).locator('[data-testid=thread-panel-close]').focus()
    await ana.page.keyboard.press('Escape')
    await panel(ana.page).waitFor({ state: 'detached' })
    expect(await opener.evaluate((el) => el === document.activeElement)).toBe(true)

    // (6) A reload: the newest page, gapless; the quotes are there; the root, far back, says 3.
    await ana.page.goto(`/messages/${cid}`)
    await waitOnline(ana.page)
    await message(timeline(ana.page), third).waitFor()
    expectGapless(await timelineSeqs(ana.page), 124)
    expect(await quoteOf(message(timeline(ana.page), first))).toBe(`Ben Carter: ${original}`)
    expect(await quoteOf(message(timeline(ana.page), third))).toBe(`You: ${first}`)
    await message(timeline(ana.page), first).locator('[data-testid=message-quote]').click()
    await waitCount(anaRoot, 3, 'the root says 3 after the reload')
    expectGapless(await timelineSeqs(ana.page), 124)

    // (7) Offline while Ben replies in the thread: the catch-up brings the reply, the root's
    // count and the open panel along.
    await opener.click()
    await eventually(() => panelBodies(ana.page), (b) => b.length === 4, 10_000, 'the thread after the reload')
    await ana.context.setOffline(true)
    await ana.page.locator('[data-testid=connection-status]:not([data-state=online])').waitFor()
    const fourth = `While you were away ${run}`
    await sendIn(panel(ben.page), fourth)
    await message(panel(ben.page), fourth).and(ben.page.locator('[data-seq]')).waitFor()
    await ana.page.waitForTimeout(500)
    expect(await panelBodies(ana.page)).not.toContain(fourth)
    await ana.context.setOffline(false)
    await waitOnline(ana.page, 20_000)
    await message(timeline(ana.page), fourth).waitFor()
    await eventually(() => panelBodies(ana.page), (b) => b.length === 5, 10_000, 'the caught-up reply in the panel')
    await waitCount(anaRoot, 4, 'the root counts the caught-up reply')
    await panel(ana.page).locator('[data-testid=thread-panel-count][data-count="4"]').waitFor()
    const held = await timelineSeqs(ana.page)
    expect(new Set(held).size).toBe(held.length)
    expect(held.filter((s) => s >= root.seq)).toEqual(Array.from({ length: 125 - root.seq + 1 }, (_, i) => root.seq + i))

    // (8) Ben deletes the original: every quote of it says so, live.
    await api(baseUrl, 'u-team-ben', 'DELETE', `/api/messaging/conversations/${cid}/messages/${root.id}`)
    await waitQuote(message(timeline(ana.page), first), 'Ben Carter: Message deleted', 'the deleted original in Ana\'s quote')
    await waitQuote(message(timeline(ben.page), second), 'You: Message deleted', 'the deleted original in Ben\'s quote')
    expect(await message(timeline(ana.page), first).locator('[data-testid=message-quote]').getAttribute('data-deleted')).toBe('true')
    await panel(ana.page).locator('.replies__root.msg--deleted').waitFor()
    // The server agrees, and a reply to it is refused.
    const page = await api<{ items: { seq: number; quote: { seq: number; deleted: boolean; excerpt: string } | null }[] }>(
      baseUrl,
      'u-client-ana',
      'GET',
      `/api/messaging/conversations/${cid}/messages?after=121&limit=100`,
    )
    // The three replies to it (Ana's first, hers in the thread, Ben's while she was away).
    const quotes = page.items.filter((m) => m.quote?.seq === root.seq).map((m) => m.quote)
    expect(quotes).toHaveLength(3)
    expect(quotes.every((q) => q?.deleted === true && q.excerpt === '')).toBe(true)
    await expect(
      api(baseUrl, 'u-client-ana', 'POST', `/api/messaging/conversations/${cid}/messages`, { body: 'Too late', clientMessageId: `late-${run}`, replyToId: root.id }),
    ).rejects.toThrow(/409.*message_deleted/)

    // At 360 px the panel takes the conversation's place; a quote there shows the message in the conversation.
    await ana.page.setViewportSize(MOBILE)
    await timeline(ana.page).waitFor({ state: 'hidden' })
    await noHorizontalOverflow(ana.page)
    await ana.page.screenshot({ path: path.join(screenshotsDir, 'threads-mobile.png') })
    await audit(ana.page, 'the thread panel at 360 px')
    await message(panel(ana.page), third).locator('[data-testid=message-quote]').click()
    await panel(ana.page).waitFor({ state: 'detached' })
    await ana.page.locator(`[data-testid=thread] [data-testid=message][data-found=true]`).waitFor()
    expect(await ana.page.locator('[data-testid=thread] [data-found=true] [data-testid=message-body]').innerText()).toBe(first)
    await ana.page.setViewportSize(DESKTOP)
  })
})
