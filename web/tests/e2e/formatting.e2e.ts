// Formatting in message bodies, in the browser against the real gateway: links that open
// a new tab safely, bold / italic / code / lists / quotes as their elements, an XSS corpus
// sent as real messages that stays text (no script runs, no dialog, no stray element),
// the "New messages" divider, and "Jump to latest". The machine has no internet: the link
// points at the gateway's own /config.json.

import type { Browser, Dialog, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { api, audit, bodies, createConversation, eventually, launchBrowser, messageByText, noHorizontalOverflow, openAs, openConversation, sendFromUi, sendViaApi, waitOnline, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')
const run = Date.now().toString(36)

let browser: Browser
let ben: UserPage
let ana: UserPage
/** Dialogs (alert, confirm, prompt) any page of Ana's opened: none may. */
const dialogs: string[] = []

/** Elements a bubble's text may hold, and the attributes of each. */
const ALLOWED: Record<string, string[]> = {
  DIV: ['class', 'data-testid'],
  A: ['href', 'target', 'rel', 'data-testid'],
  STRONG: [],
  EM: [],
  CODE: [],
  PRE: [],
  UL: [],
  OL: ['start'],
  LI: [],
  BLOCKQUOTE: [],
  SPAN: ['class', 'data-user-id', 'data-testid'],
}

interface Shape {
  text: string
  elements: { tag: string; attrs: string[] }[]
  links: { href: string; target: string | null; rel: string | null }[]
}

/** Every shown body: its text, its elements (the body's own div first) and its links. */
function shapes(page: Page): Promise<Shape[]> {
  return page.$$eval('[data-testid=message-body]', (els) =>
    els.map((el) => ({
      text: el.textContent ?? '',
      elements: [el, ...el.querySelectorAll('*')].map((e) => ({ tag: e.tagName, attrs: e.getAttributeNames() })),
      links: [...el.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href') ?? '', target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
    })),
  )
}

function expectSafe(shape: Shape, what: string) {
  shape.elements.forEach(({ tag, attrs }, i) => {
    expect(Object.keys(ALLOWED), `${what}: <${tag.toLowerCase()}>`).toContain(tag)
    if (tag === 'DIV') expect(i, `${what}: only the body itself is a div`).toBe(0)
    for (const attr of attrs) expect(ALLOWED[tag], `${what}: ${tag.toLowerCase()}[${attr}]`).toContain(attr)
  })
  for (const link of shape.links) {
    expect(['http:', 'https:'], `${what}: ${link.href}`).toContain(new URL(link.href).protocol)
    expect(link.target).toBe('_blank')
    expect(link.rel?.split(/\s+/).sort()).toEqual(['nofollow', 'noopener', 'noreferrer'])
  }
}

/** Whether the element `selector` is entirely inside the thread's visible area. */
function inView(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const box = document.querySelector('[data-testid=thread-scroll]')!.getBoundingClientRect()
    const el = document.querySelector(sel)?.getBoundingClientRect()
    return !!el && el.top >= box.top - 1 && el.bottom <= box.bottom + 1
  }, selector)
}

/** My watermark in a conversation, as the server has it. */
async function readSeqOf(userId: string, cid: string): Promise<number> {
  return (await api<{ lastReadSeq: number }>(baseUrl, userId, 'GET', `/api/messaging/conversations/${cid}`)).lastReadSeq
}

describe('formatting, links, "New messages" and "Jump to latest"', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    ana = await openAs(browser, baseUrl, 'u-client-ana')
    const onDialog = (d: Dialog) => {
      dialogs.push(`${d.type()}: ${d.message()}`)
      void d.dismiss()
    }
    ana.page.on('dialog', onDialog)
    ana.context.on('page', (p) => p.on('dialog', onDialog))
  })

  afterAll(async () => {
    const errors = [...(ben?.errors ?? []), ...(ana?.errors ?? [])]
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
    expect(dialogs, 'no dialog opened').toEqual([])
  })

  it('(a) a link opens in a new tab, which gets neither an opener nor a referrer', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Links ${run}`, ['u-client-ana'])
    const url = `${baseUrl}/config.json`
    await sendViaApi(baseUrl, 'u-team-ben', cid, `The settings: ${url}.`)
    await openConversation(ana, cid)
    const link = messageByText(ana.page, 'The settings:').locator('a')
    await link.waitFor()
    expect(await link.count()).toBe(1)
    // The URL as written, without the full stop after it.
    expect(await link.textContent()).toBe(url)
    expect(await link.getAttribute('href')).toBe(url)
    expect(await link.getAttribute('target')).toBe('_blank')
    expect((await link.getAttribute('rel'))!.split(/\s+/)).toEqual(expect.arrayContaining(['noopener', 'noreferrer', 'nofollow']))
    expect(await messageByText(ana.page, 'The settings:').locator('[data-testid=message-body]').textContent()).toBe(`The settings: ${url}.`)

    const [tab] = await Promise.all([ana.context.waitForEvent('page', { timeout: 10_000 }), link.click()])
    await tab.waitForLoadState('load')
    expect(tab.url()).toBe(url)
    expect(await tab.evaluate(() => [window.opener === null, document.referrer])).toEqual([true, ''])
    expect(await tab.evaluate(() => document.body.textContent ?? '')).toContain('"auth"')
    await tab.close()
    // The conversation stays where it was.
    expect(ana.page.url()).toContain(`/messages/${cid}`)
  })

  it('(b) bold, italic, code, code blocks, lists and quotes render as their elements', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Formatting ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    const body = [
      'Plan for **Friday** with *Ana* and _Cleo_: run `npm ci` first',
      '- mockups',
      '- **copy** review',
      '1. build',
      '2. ship',
      '> the client said: *yes*',
      '```',
      'const x = **1** // https://not.a.link',
      '```',
    ].join('\n')
    // Sent from the composer (Shift+Enter makes the new lines), as a person would.
    const input = ben.page.locator('[data-testid=composer-input]')
    await input.fill(body)
    await input.press('Enter')

    const message = messageByText(ana.page, 'Plan for')
    await message.waitFor()
    const text = message.locator('[data-testid=message-body]')
    expect(await text.locator('strong').allTextContents()).toEqual(['Friday', 'copy'])
    expect(await text.locator('em').allTextContents()).toEqual(['Ana', 'Cleo', 'yes'])
    expect(await text.locator(':scope > code').allTextContents()).toEqual(['npm ci'])
    expect(await text.locator('ul > li').allTextContents()).toEqual(['mockups', 'copy review'])
    expect(await text.locator('ol > li').allTextContents()).toEqual(['build', 'ship'])
    expect(await text.locator('blockquote').textContent()).toBe('the client said: yes')
    expect(await text.locator('pre > code').textContent()).toBe('const x = **1** // https://not.a.link')
    expect(await text.locator('pre a, pre strong').count()).toBe(0)
    const [shape] = (await shapes(ana.page)).filter((s) => s.text.startsWith('Plan for'))
    expectSafe(shape!, 'formatted message')
    // On my own (blue) bubble too, and all of it legible (axe: contrast, links told apart).
    const mine = messageByText(ben.page, 'Plan for')
    await mine.locator('ul').waitFor()
    expect(await mine.locator('strong').count()).toBe(2)
    // Still a bidi island, clipped to its bubble, nothing scrolling sideways.
    expect(await text.evaluate((el) => getComputedStyle(el).unicodeBidi)).toBe('isolate')
    expect(await message.locator('.msg__bubble').evaluate((el) => getComputedStyle(el).contain)).toMatch(/paint|strict|content/)
    await noHorizontalOverflow(ana.page)
    await audit(ana.page, 'formatted message (received)')
    await audit(ben.page, 'formatted message (sent)')
  })

  it('(c) an XSS corpus sent as real messages shows as text: nothing runs, no stray element', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `XSS ${run}`, ['u-client-ana'])
    // Each payload would set window.__xss (or open a dialog) if it ever became markup.
    const corpus: { body: string; text?: string }[] = [
      { body: `<script>window.__xss='script'</script>` },
      { body: `<img src=x onerror="window.__xss='img'">` },
      { body: `<img src=x onerror=alert(1)>` },
      { body: `"><svg onload="window.__xss='svg'">` },
      { body: `<svg><script>window.__xss='svg-script'</script></svg>` },
      { body: `<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>` },
      { body: `<details open ontoggle="window.__xss='details'">x</details>` },
      { body: `<a href="javascript:window.__xss='a'">click</a>` },
      { body: `[x](javascript:window.__xss='md')` },
      { body: `javascript:window.__xss='js'` },
      { body: 'data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==' },
      { body: `**<b onmouseover="window.__xss='bold'">bold</b>**`, text: `<b onmouseover="window.__xss='bold'">bold</b>` },
      { body: `\`<img src=x onerror="window.__xss='code'">\``, text: `<img src=x onerror="window.__xss='code'">` },
      { body: "```\n<script>window.__xss='fence'</script>\n```", text: "<script>window.__xss='fence'</script>" },
      { body: `> <img src=x onerror="window.__xss='quote'">`, text: `<img src=x onerror="window.__xss='quote'">` },
      { body: `- <svg onload="window.__xss='list'">`, text: `<svg onload="window.__xss='list'">` },
      { body: `&lt;script&gt;window.__xss='entity'&lt;/script&gt;` },
      { body: `\\u003cimg src=x onerror=window.__xss='escaped'\\u003e` },
      { body: `＜script＞window.__xss='fullwidth'＜/script＞` },
      { body: `https://x.test/"onmouseover="window.__xss='quote-in-url'` },
      { body: `www.x.test/" onmouseover="window.__xss='www'` },
      { body: `https://x.test/?q=<img src=x onerror="window.__xss='query'">` },
      { body: `<style>body{display:none}</style>` },
    ]
    for (const { body } of corpus) await sendViaApi(baseUrl, 'u-team-ben', cid, body)
    await openConversation(ana, cid)
    await eventually(() => bodies(ana.page), (b) => b.length === corpus.length, 15_000, 'the whole corpus')

    const shown = await shapes(ana.page)
    expect(shown.map((s) => s.text)).toEqual(corpus.map((c) => c.text ?? c.body))
    shown.forEach((shape, i) => expectSafe(shape, corpus[i]!.body))
    // Only the three http(s) URLs became links, each going where its text says.
    expect(shown.flatMap((s) => s.links.map((l) => l.href))).toEqual(['https://x.test/', 'https://www.x.test/', 'https://x.test/?q='])
    // Hovering the links (an injected onmouseover would fire) and waiting for images that never exist.
    const links = ana.page.locator('[data-testid=message-body] a')
    for (let i = 0; i < (await links.count()); i++) await links.nth(i).hover()
    await ana.page.waitForTimeout(500)
    expect(await ana.page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined()
    expect(await ana.page.locator('[data-testid=thread] :is(script, iframe, svg[onload], img[onerror], details, style)').count()).toBe(0)
    expect(dialogs).toEqual([])
    // The <style> payload hid nothing.
    expect(await ana.page.locator('[data-testid=thread]').isVisible()).toBe(true)
  })

  it('(d) "New messages" shows above the first unread message, stays while reading, and is gone once all is read', async () => {
    const title = `Divider ${run}`
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Read before')
    await openConversation(ana, cid)
    await messageByText(ana.page, 'Read before').waitFor()
    await eventually(() => readSeqOf('u-client-ana', cid), (s) => s === 1, 10_000, 'Ana read the first message')
    // All of it was new then: the divider is above the first message.
    const divider = ana.page.locator('[data-testid=unread-divider]')
    const below = () => divider.evaluate((el) => (el.nextElementSibling as HTMLElement | null)?.textContent ?? '')
    expect(await below()).toContain('Read before')

    // Ana is elsewhere while Ben writes three messages.
    await ana.page.goto('/messages')
    await waitOnline(ana.page)
    for (const text of ['Unread one', 'Unread two', 'Unread three']) await sendViaApi(baseUrl, 'u-team-ben', cid, text)
    const item = ana.page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`)
    await eventually(() => item.locator('[data-testid=unread-badge]').innerText().catch(() => ''), (t) => /^3\b/.test(t.trim()), 10_000, 'three unread')

    await item.click()
    await messageByText(ana.page, 'Unread three').waitFor()
    await divider.waitFor()
    expect((await divider.innerText()).trim()).toBe('New messages')
    expect(await below()).toContain('Unread one')
    expect(await divider.evaluate((el) => (el.previousElementSibling as HTMLElement | null)?.textContent ?? '')).toContain('Read before')
    expect(await inView(ana.page, '[data-testid=unread-divider]')).toBe(true)

    // Reading (at the bottom) moves the watermark; the divider stays, above the same message.
    await eventually(() => readSeqOf('u-client-ana', cid), (s) => s === 4, 10_000, 'Ana read all four')
    await item.locator('[data-testid=unread-badge]').waitFor({ state: 'detached' })
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Arrived while open')
    await messageByText(ana.page, 'Arrived while open').waitFor()
    expect(await divider.count()).toBe(1)
    expect(await below()).toContain('Unread one')
    await audit(ana.page, 'the "New messages" divider')

    // Opened again (a fresh load) with nothing unread: no divider.
    await eventually(() => readSeqOf('u-client-ana', cid), (s) => s === 5, 10_000, 'Ana read the fifth')
    await openConversation(ana, cid)
    await messageByText(ana.page, 'Arrived while open').waitFor()
    await item.waitFor()
    await ana.page.waitForTimeout(300)
    expect(await divider.count()).toBe(0)
  })

  it('(e) "Jump to latest" appears once scrolled up, counts new messages, and brings the newest into view', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Jump ${run}`, ['u-client-ana'])
    for (let i = 1; i <= 40; i++) await sendViaApi(baseUrl, 'u-team-ben', cid, `Long conversation ${String(i).padStart(2, '0')}`)
    // Ana wrote last (so nothing is unread and the thread opens at the bottom).
    await sendViaApi(baseUrl, 'u-client-ana', cid, 'Caught up')
    await openConversation(ana, cid)
    const page = ana.page
    await messageByText(page, 'Caught up').waitFor()
    const jump = page.locator('[data-testid=jump-latest]')
    const newest = (text: string) => `[data-testid=message][data-message-id="${text}"]`
    await eventually(() => inView(page, '[data-testid=message]:last-child'), (v) => v, 5_000, 'opened at the bottom')
    expect(await jump.count()).toBe(0)

    // Scrolling up with the wheel.
    const scroller = page.locator('[data-testid=thread-scroll]')
    await scroller.hover()
    await page.mouse.wheel(0, -1500)
    await jump.waitFor()
    expect(await jump.getAttribute('aria-label')).toBe('Jump to latest')
    expect(await jump.evaluate((el) => el.tagName)).toBe('BUTTON')

    // A message arrives meanwhile: counted, not scrolled to.
    const sent = await sendViaApi(baseUrl, 'u-team-ben', cid, 'Newest of all')
    await messageByText(page, 'Newest of all').waitFor()
    await eventually(() => jump.getAttribute('aria-label'), (l) => l === 'Jump to latest, 1 new message', 10_000, 'the count')
    expect((await page.locator('[data-testid=jump-latest-count]').innerText()).trim()).toBe('1')
    expect(await inView(page, newest(sent.id))).toBe(false)
    await audit(page, '"Jump to latest"')

    // With the keyboard: focus it, Enter.
    await jump.focus()
    await page.keyboard.press('Enter')
    await eventually(() => inView(page, newest(sent.id)), (v) => v, 5_000, 'the newest message in view')
    await jump.waitFor({ state: 'detached' })
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('composer-input')
    await eventually(() => readSeqOf('u-client-ana', cid), (s) => s === sent.seq, 10_000, 'read once at the bottom')

    // And with the mouse.
    await scroller.hover()
    await page.mouse.wheel(0, -1500)
    await jump.click()
    await eventually(() => inView(page, newest(sent.id)), (v) => v, 5_000, 'the newest message in view again')
    await sendFromUi(page, 'Thanks, all read')
    await messageByText(page, 'Thanks, all read').waitFor()
  })
})
