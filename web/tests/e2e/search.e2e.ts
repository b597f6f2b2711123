// Message search in the browser, against the real local gateway and its search index:
// Ben (team) and Ana (client) search their conversations from the list's search panel;
// Dana (admin) searches every conversation from the admin screens. Every test writes its
// own words (a token of this run), so that no test finds another's messages. The search
// keeps its real rate limit (30 per 10 s): the client's debounce has to stay under it.

import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { api, audit, createConversation, eventually, launchBrowser, makePng, openAs, openConversation, seqs, sendViaApi, waitOnline, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')

let browser: Browser
let ben: UserPage
let ana: UserPage
let dana: UserPage | null = null
const run = Date.now().toString(36)

/** A word of this test run only: `kumquat` + the run's token. */
function word(stem: string): string {
  return `${stem}${run}`
}

interface Shown {
  conversationId: string
  seq: number
  title: string
  sender: string
  snippet: string
  marks: string[]
}

/** The results listed, in order. */
function results(page: Page): Promise<Shown[]> {
  return page.$$eval('[data-testid=search-result]', (els) =>
    els.map((el) => ({
      conversationId: (el as HTMLElement).dataset.conversationId ?? '',
      seq: Number((el as HTMLElement).dataset.seq),
      title: el.querySelector('[data-testid=search-result-conversation]')?.textContent ?? '',
      sender: el.querySelector('[data-testid=search-result-sender]')?.textContent ?? '',
      snippet: el.querySelector('[data-testid=search-snippet]')?.textContent ?? '',
      marks: [...el.querySelectorAll('[data-testid=search-snippet] mark')].map((m) => m.textContent ?? ''),
    })),
  )
}

/** Waits until the results listed pass `check` (the debounce and the request take a moment). */
function resultsUntil(page: Page, check: (shown: Shown[]) => boolean, what: string): Promise<Shown[]> {
  return eventually(() => results(page), check, 10_000, what)
}

async function openSearch(page: Page) {
  await page.locator('[data-testid=open-message-search]').click()
  await page.locator('[data-testid=message-search]').waitFor()
}

async function moreFilters(page: Page) {
  const details = page.locator('[data-testid=search-more-filters]')
  if (!(await details.evaluate((el) => (el as HTMLDetailsElement).open))) await details.locator('summary').click()
}

/** Today in the browser's own time zone, `plusDays` later, as a date input holds it. */
function day(page: Page, plusDays = 0): Promise<string> {
  return page.evaluate((plus) => {
    const d = new Date()
    d.setDate(d.getDate() + plus)
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  }, plusDays)
}

/** A message with one attachment, uploaded through its signed URL, as the composer does it. */
async function sendWithFile(userId: string, conversationId: string, body: string) {
  const png = makePng(8, 8)
  const grant = await api<{ files: { id: string; upload: { method: string; url: string; headers: [string, string][] } }[] }>(
    baseUrl,
    userId,
    'POST',
    `/api/messaging/conversations/${conversationId}/attachments`,
    { files: [{ name: 'chart.png', size: png.length, contentType: 'image/png' }] },
  )
  const slot = grant.files[0]!
  const headers = slot.upload.headers.filter(([name]) => !['content-length', 'host', 'connection'].includes(name.toLowerCase()))
  const put = await fetch(new URL(slot.upload.url, baseUrl), { method: slot.upload.method, headers, body: new Uint8Array(png) })
  expect(put.ok, `upload: ${put.status} ${await put.text()}`).toBe(true)
  return api<{ id: string; seq: number }>(baseUrl, userId, 'POST', `/api/messaging/conversations/${conversationId}/messages`, {
    body,
    clientMessageId: `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
    fileIds: [slot.id],
  })
}

describe('message search in the browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    ana = await openAs(browser, baseUrl, 'u-client-ana')
  })

  afterAll(async () => {
    const errors = [...(ben?.errors ?? []), ...(ana?.errors ?? []), ...(dana?.errors ?? [])]
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(1) finds messages in two conversations with the matched words highlighted; narrows by conversation, sender, attachments and days; orders by best match', async () => {
    const w = word('kumquat')
    const first = await createConversation(baseUrl, 'u-team-ben', `Search orchard ${run}`, ['u-client-ana'])
    const second = await createConversation(baseUrl, 'u-team-ben', `Search market ${run}`, ['u-client-ana'])
    const fromAna = await sendViaApi(baseUrl, 'u-client-ana', first, `The ${w} budget is approved`)
    await sendViaApi(baseUrl, 'u-team-ben', first, 'Nothing to find in this one')
    const repeated = await sendViaApi(baseUrl, 'u-team-ben', first, `${w} ${w} ${w}, said Ben`)
    const withFile = await sendWithFile('u-team-ben', first, `The ${w} chart is attached`)
    const elsewhere = await sendViaApi(baseUrl, 'u-client-ana', second, `Another ${w.toUpperCase()} note, at the market`)

    await openConversation(ben, first)
    await openSearch(ben.page)
    const page = ben.page
    // The box has the focus: typing goes straight in (one request, after the pause).
    expect(await page.locator('[data-testid=message-search-input]').evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.type(w)

    // Newest first, across both conversations, the matched words marked.
    let shown = await resultsUntil(page, (r) => r.length === 4, 'four results')
    expect(shown.map((r) => r.seq)).toEqual([elsewhere.seq, withFile.seq, repeated.seq, fromAna.seq])
    expect(shown[0]).toMatchObject({ conversationId: second, title: `Search market ${run}`, sender: 'Ana Alvarez', snippet: `Another ${w.toUpperCase()} note, at the market` })
    expect(shown[0]!.marks).toEqual([w.toUpperCase()])
    expect(shown[3]).toMatchObject({ conversationId: first, sender: 'Ana Alvarez', snippet: `The ${w} budget is approved`, marks: [w] })
    expect(shown[2]!.marks.join(' ')).toBe(`${w} ${w} ${w}`)
    expect(await page.locator('[data-testid=search-result]').nth(1).locator('[data-testid=search-result-files]').innerText()).toBe('1 attachment')

    // Best match first: the message that says it three times leads.
    await page.locator('[data-testid=search-order]').selectOption('relevance')
    shown = await resultsUntil(page, (r) => r.length === 4 && r[0]!.seq === repeated.seq && r[0]!.conversationId === first, 'best match first')

    // Only this conversation.
    await page.locator('[data-testid=search-order]').selectOption('newest')
    await page.locator('[data-testid=search-scope]').selectOption(first)
    shown = await resultsUntil(page, (r) => r.length === 3 && r.every((x) => x.conversationId === first), 'this conversation only')
    expect(shown.map((r) => r.seq)).toEqual([withFile.seq, repeated.seq, fromAna.seq])

    // Sent by Ana.
    await moreFilters(page)
    await page.locator('[data-testid=search-sender]').selectOption('u-client-ana')
    await resultsUntil(page, (r) => r.length === 1 && r[0]!.seq === fromAna.seq, 'only Ana')
    await page.locator('[data-testid=search-sender]').selectOption('')
    await resultsUntil(page, (r) => r.length === 3, 'anyone again')

    // With attachments, then without.
    await page.locator('[data-testid=search-files]').selectOption('with')
    await resultsUntil(page, (r) => r.length === 1 && r[0]!.seq === withFile.seq, 'only with attachments')
    await page.locator('[data-testid=search-files]').selectOption('without')
    await resultsUntil(page, (r) => r.length === 2 && !r.some((x) => x.seq === withFile.seq), 'only without attachments')
    await page.locator('[data-testid=search-files]').selectOption('any')
    await resultsUntil(page, (r) => r.length === 3, 'with or without')

    // Days: from tomorrow, nothing; from today, everything again.
    await page.locator('[data-testid=search-from]').fill(await day(page, 1))
    await page.locator('[data-testid=search-empty]').waitFor()
    expect(await page.locator('[data-testid=search-empty]').innerText()).toBe('No messages match.')
    await page.locator('[data-testid=search-from]').fill(await day(page))
    await page.locator('[data-testid=search-to]').fill(await day(page))
    await resultsUntil(page, (r) => r.length === 3, 'today')
    expect(await page.locator('[data-testid=search-filters-set]').innerText()).toContain('2 set')

    // Days the wrong way round are said, not sent.
    await page.locator('[data-testid=search-from]').fill(await day(page, 2))
    expect(await page.locator('[data-testid=search-problem]').innerText()).toBe('The last day is before the first day.')
    await audit(page, 'the message search, its filters open')
  })

  it('(2) "Load more" follows the cursor past the first 20 results, without duplicates', async () => {
    const w = word('pomelo')
    const cid = await createConversation(baseUrl, 'u-team-ben', `Search pages ${run}`, ['u-client-ana'])
    for (let i = 1; i <= 26; i++) await sendViaApi(baseUrl, i % 2 ? 'u-team-ben' : 'u-client-ana', cid, `${w} number ${i}`)

    const page = ana.page
    await page.goto('/messages')
    await waitOnline(page)
    await openSearch(page)
    await page.locator('[data-testid=message-search-input]').fill(w)
    let shown = await resultsUntil(page, (r) => r.length === 20, 'the first page')
    expect(shown[0]!.snippet).toBe(`${w} number 26`)
    await page.locator('[data-testid=search-more]').click()
    shown = await resultsUntil(page, (r) => r.length === 26, 'the second page')
    expect(shown.map((r) => r.seq)).toEqual(Array.from({ length: 26 }, (_, i) => 26 - i))
    expect(new Set(shown.map((r) => r.seq)).size).toBe(26)
    await page.locator('[data-testid=search-more]').waitFor({ state: 'detached' })
  })

  it('(3) a result far back in the history opens its conversation at the message, in view and marked; the keyboard does it too', async () => {
    const w = word('tamarind')
    const cid = await createConversation(baseUrl, 'u-team-ben', `Search history ${run}`, ['u-client-ana'])
    for (let i = 1; i <= 120; i++) {
      await sendViaApi(baseUrl, i % 3 === 0 ? 'u-client-ana' : 'u-team-ben', cid, i === 3 ? `The ${w} contract, message ${i}` : `Filler message ${i}`)
    }

    const page = ana.page
    await page.goto('/messages')
    await waitOnline(page)
    await openSearch(page)
    await page.locator('[data-testid=message-search-input]').fill(w)
    await resultsUntil(page, (r) => r.length === 1 && r[0]!.seq === 3, 'the one result')
    // By keyboard: the result is a button.
    await page.locator('[data-testid=search-result]').focus()
    await page.keyboard.press('Enter')

    await page.waitForURL((url) => url.pathname === `/messages/${cid}` && url.searchParams.get('seq') === '3')
    const target = page.locator('[data-testid=message][data-seq="3"]')
    await page.locator('[data-testid=message][data-seq="3"][data-found=true]').waitFor()
    expect(await target.getAttribute('class')).toContain('msg--found')
    expect(await target.innerText()).toContain(`The ${w} contract, message 3`)
    const inView = await page.evaluate(() => {
      const box = document.querySelector('[data-testid=thread-scroll]')!.getBoundingClientRect()
      const el = document.querySelector('[data-testid=message][data-seq="3"]')!.getBoundingClientRect()
      return el.top >= box.top && el.bottom <= box.bottom
    })
    expect(inView, 'the message is inside the thread view').toBe(true)
    expect(await target.evaluate((el) => el === document.activeElement)).toBe(true)
    // The thread is one unbroken run from there to the newest message.
    const held = await seqs(page)
    expect(held[held.length - 1]).toBe(120)
    expect(held[0]).toBeLessThanOrEqual(3)
    expect(held).toEqual(Array.from({ length: held.length }, (_, i) => held[0]! + i))
    // The result stays current in the search; the mark goes after a moment.
    expect(await page.locator('[data-testid=search-result]').getAttribute('aria-current')).toBe('true')
    await page.locator('[data-testid=message][data-seq="3"][data-found=true]').waitFor({ state: 'detached', timeout: 6000 })

    // Opened again after scrolling away: back at the message.
    await page.locator('[data-testid=thread-scroll]').evaluate((el) => (el.scrollTop = el.scrollHeight))
    await page.locator('[data-testid=search-result]').click()
    await page.locator('[data-testid=message][data-seq="3"][data-found=true]').waitFor()

    // Closing the search brings the conversations back.
    await page.locator('[data-testid=message-search-close]').click()
    await page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`).waitFor()
  })

  it('(4) a deleted message is not found; a hostile message shows as text in its snippet', async () => {
    const w = word('durian')
    const cid = await createConversation(baseUrl, 'u-team-ben', `Search deleted ${run}`, ['u-client-ana'])
    const gone = await sendViaApi(baseUrl, 'u-team-ben', cid, `${w} to be deleted`)
    const kept = await sendViaApi(baseUrl, 'u-team-ben', cid, `${w} <img src=x onerror="window.__pwned=1"> <b>kept</b>`)
    await api(baseUrl, 'u-team-ben', 'DELETE', `/api/messaging/conversations/${cid}/messages/${gone.id}`)

    const page = ben.page
    await page.goto('/messages')
    await waitOnline(page)
    await openSearch(page)
    await page.locator('[data-testid=message-search-input]').fill(w)
    const shown = await resultsUntil(page, (r) => r.length === 1, 'only the kept message')
    expect(shown[0]!.seq).toBe(kept.seq)
    expect(shown[0]!.snippet).toContain(`${w} <img src=x onerror="window.__pwned=1"> <b>kept`)
    expect(await page.locator('[data-testid=search-results] img, [data-testid=search-results] b').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
  })

  it('(5) the server\'s words when search is unavailable (503), and the results again once it is back', async () => {
    const w = word('quince')
    const cid = await createConversation(baseUrl, 'u-team-ben', `Search down ${run}`, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-client-ana', cid, `${w} while the index is down`)
    const page = ben.page
    await page.goto('/messages')
    await waitOnline(page)
    const down = (url: URL) => url.pathname === '/api/messaging/search'
    await page.route(down, (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unavailable', message: 'the service is temporarily unavailable; retry shortly', field: null } }),
      }),
    )
    await openSearch(page)
    await page.locator('[data-testid=message-search-input]').fill(w)
    await page.locator('[data-testid=search-error]').waitFor()
    expect(await page.locator('[data-testid=search-error]').innerText()).toContain(
      'Search is unavailable right now: the service is temporarily unavailable; retry shortly',
    )
    await page.unroute(down)
    await page.locator('[data-testid=search-error] button').click()
    await resultsUntil(page, (r) => r.length === 1, 'found once search is back')
  })

  it('(6) an admin finds messages in a conversation they are not in, and opens it at the message', async () => {
    const w = word('lychee')
    const cid = await createConversation(baseUrl, 'u-team-ben', `Search oversight ${run}`, ['u-client-ana'])
    const target = await sendViaApi(baseUrl, 'u-client-ana', cid, `The ${w} plan, for admins' eyes`)
    await sendViaApi(baseUrl, 'u-team-ben', cid, `Ben also says ${w}`)
    for (let i = 1; i <= 70; i++) await sendViaApi(baseUrl, 'u-team-ben', cid, `Later message ${i}`)

    // Dana is not a member: her own search finds nothing there; the admin one does.
    const mine = await api<{ items: unknown[] }>(baseUrl, 'u-admin-dana', 'GET', `/api/messaging/search?q=${w}`)
    expect(mine.items).toEqual([])

    dana = await openAs(browser, baseUrl, 'u-admin-dana')
    const page = dana.page
    await page.goto('/admin')
    await page.locator('[data-testid=tab-search]').click()
    const panel = page.locator('[data-testid=admin-message-search]')
    await panel.locator('[data-testid=message-search-input]').fill(w)
    let shown = await resultsUntil(page, (r) => r.length === 2, 'both messages')
    expect(shown.every((r) => r.conversationId === cid && r.title === `Search oversight ${run}`)).toBe(true)

    // Sent by Ana, picked from the directory.
    await panel.locator('[data-testid=search-more-filters] summary').click()
    await panel.locator('[data-testid=people-search]').fill('Ana')
    await panel.locator('[data-testid=people-option][data-user-id=u-client-ana]').click()
    await panel.locator('[data-testid=picked-person][data-user-id=u-client-ana]').waitFor()
    shown = await resultsUntil(page, (r) => r.length === 1, 'only Ana')
    expect(shown[0]).toMatchObject({ seq: target.seq, sender: 'Ana Alvarez', marks: [w] })

    // Opened at the message, though it is older than the first page of the history.
    await page.locator('[data-testid=search-result]').click()
    await page.locator(`[data-testid=admin-detail][data-conversation-id="${cid}"]`).waitFor()
    const message = page.locator(`[data-testid=admin-message][data-seq="${target.seq}"]`)
    await page.locator(`[data-testid=admin-message][data-seq="${target.seq}"][data-found=true]`).waitFor()
    expect(await message.innerText()).toContain(`The ${w} plan`)
    const inView = await message.evaluate((el) => {
      const box = el.closest('.admin-messages')!.getBoundingClientRect()
      const own = el.getBoundingClientRect()
      return own.top >= box.top && own.bottom <= box.bottom
    })
    expect(inView, 'the message is inside the list of messages').toBe(true)
    expect(await page.locator('[data-testid=admin-message]').count()).toBeGreaterThan(70)
    await audit(page, 'the admin message search, a result open')
  })
})
