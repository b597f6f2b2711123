// Text that cannot deceive: what older versions (or another deployment) may have stored
// is shown confined. The server now refuses bidi controls in file names and stacks of
// combining marks, so such data is injected into the history response with page.route;
// bodies may still hold bidi controls and long words, so those are sent for real.

import fs from 'node:fs'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { audit, createConversation, launchBrowser, messageByText, noHorizontalOverflow, openAs, openConversation, sendFromUi, sendViaApi, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')
const run = Date.now().toString(36)

const RLO = '\u202E'
const DISGUISED = `invoice_${RLO}fdp.exe`
const ZALGO = 'a' + '\u0301'.repeat(3000)
const LONG_WORD = 'x'.repeat(5000)

/** The parts of the history page (`MessagePage` in src/api/wire.ts) this test changes. */
interface HistoryPage {
  items: { body: string | null; files: { id: string; name: string; size: number; contentType: string }[] }[]
}

let browser: Browser
let ben: UserPage

/** The x position of each character of `text` inside `el`'s text, in logical order. */
function charLefts(el: Locator, text: string): Promise<number[]> {
  return el.evaluate((node, wanted) => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT)
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const at = t.textContent!.indexOf(wanted)
      if (at < 0) continue
      const range = document.createRange()
      return [...wanted].map((_, i) => {
        range.setStart(t!, at + i)
        range.setEnd(t!, at + i + 1)
        return range.getBoundingClientRect().left
      })
    }
    return []
  }, text)
}

function expectLeftToRight(lefts: number[], what: string) {
  expect(lefts.length, `${what}: text found`).toBeGreaterThan(1)
  for (let i = 1; i < lefts.length; i++) {
    expect(lefts[i], `${what}: character ${i} is right of character ${i - 1}`).toBeGreaterThan(lefts[i - 1]!)
  }
}

/**
 * How many pixels differ between two PNG pictures of the same size by more than `tolerance`
 * in some channel (0–255). Decoded in a blank page of the same browser: the test has no
 * image library, and the application's CSP has no business allowing what this needs.
 */
async function changedPixels(browser: Browser, a: Buffer, b: Buffer, tolerance = 48): Promise<number> {
  const scratch = await browser.newPage()
  try {
    return await scratch.evaluate(
      async ([first, second, tol]) => {
        const decode = async (base64: string) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
          const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }))
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
          const ctx = canvas.getContext('2d')!
          ctx.drawImage(bitmap, 0, 0)
          return ctx.getImageData(0, 0, bitmap.width, bitmap.height)
        }
        const [x, y] = [await decode(first as string), await decode(second as string)]
        if (x.width !== y.width || x.height !== y.height) return x.width * x.height
        let changed = 0
        for (let i = 0; i < x.data.length; i += 4) {
          for (let c = 0; c < 4; c++) {
            if (Math.abs(x.data[i + c]! - y.data[i + c]!) > (tol as number)) {
              changed++
              break
            }
          }
        }
        return changed
      },
      [a.toString('base64'), b.toString('base64'), tolerance] as const,
    )
  } finally {
    await scratch.close()
  }
}

function bubble(page: Page, text: string): Locator {
  return messageByText(page, text).locator('.msg__bubble')
}

describe('text that cannot deceive', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
  })

  afterAll(async () => {
    const errors = ben?.errors ?? []
    await browser?.close()
    expect(errors, 'no script errors in the page').toEqual([])
  })

  it('an old disguised file name shows its real extension and type; Zalgo, overrides and long words stay in their bubbles', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Hostile text ${run}`, ['u-client-ana'])
    for (const body of ['Neighbour above', 'ZALGO-PLACEHOLDER', 'Here is the invoice', `${RLO}an override that is never closed`, 'Neighbour below', LONG_WORD]) {
      await sendViaApi(baseUrl, 'u-client-ana', cid, body)
    }

    // The history answers as an older version's data would read.
    const history = new RegExp(`/api/messaging/conversations/${cid}/messages(\\?|$)`)
    let injected = 0
    await ben.page.route(history, async (route) => {
      if (route.request().method() !== 'GET') return route.continue()
      const response = await route.fetch()
      const page = (await response.json()) as HistoryPage
      for (const m of page.items) {
        if (m.body === 'ZALGO-PLACEHOLDER') {
          m.body = ZALGO
          injected++
        } else if (m.body === 'Here is the invoice') {
          m.files = [{ id: `f-${run}`, name: DISGUISED, size: 48_213, contentType: 'application/pdf' }]
          injected++
        }
      }
      await route.fulfill({ response, json: page })
    })
    await openConversation(ben, cid)
    await messageByText(ben.page, 'Neighbour below').waitFor()
    expect(injected, 'both old messages were injected').toBe(2)
    const page = ben.page

    // (1) The file: no override character, the true extension in logical order, the real type.
    const file = messageByText(page, 'Here is the invoice').locator('[data-testid=message-file]')
    const name = file.locator('[data-testid=file-name]')
    expect(await name.textContent()).toBe('invoice_fdp.exe')
    expect(await file.innerText()).not.toContain(RLO)
    expect(await file.innerText()).toContain('fdp.exe')
    expectLeftToRight(await charLefts(name, 'invoice_fdp.exe'), 'file name')
    expect(await file.locator('[data-testid=file-type]').innerText()).toBe('PDF')
    expect(await file.locator('[data-testid=file-type]').isVisible()).toBe(true)
    expect(await file.locator('[data-testid=file-mismatch]').innerText()).toContain('Named .exe, but its content is PDF: saved as .pdf')
    expect(await file.locator('.file-icon__label').textContent()).toBe('PDF')
    expect(await name.evaluate((el) => getComputedStyle(el).unicodeBidi)).toBe('isolate')
    expect(await file.locator('[data-testid=file-download]').getAttribute('aria-label')).toContain('invoice_fdp.exe (PDF')

    // (2) The Zalgo bubble: laid out below its neighbour, clipped, painting nothing outside.
    const above = bubble(page, 'Neighbour above')
    const zalgoMessage = page.locator('[data-testid=message]', { has: page.locator('[data-testid=message-body]', { hasText: /^a\u0301/ }) })
    const zalgo = zalgoMessage.locator('.msg__bubble')
    expect(await zalgoMessage.count()).toBe(1)
    const a = (await above.boundingBox())!
    const z = (await zalgo.boundingBox())!
    expect(z.y, 'the Zalgo bubble starts below its neighbour').toBeGreaterThanOrEqual(a.y + a.height)
    const style = await zalgo.evaluate((el) => {
      const s = getComputedStyle(el)
      return { overflow: s.overflowY, contain: s.contain, bidi: s.unicodeBidi, scroll: el.scrollHeight, client: el.clientHeight }
    })
    expect(['hidden', 'clip']).toContain(style.overflow)
    expect(style.contain).toMatch(/paint|strict|content/)
    expect(style.bidi).toBe('isolate')
    expect(style.scroll, 'nothing scrolls inside the bubble').toBeLessThanOrEqual(style.client + 1)
    expect(z.height, 'the 3,000 marks do not make the bubble tall').toBeLessThan(200)
    // The pixels of the neighbour are the same with and without the Zalgo text beside it.
    // A byte-for-byte comparison failed in a fresh-clone run where nothing was painted over
    // (a repaint may shift anti-aliasing by a level or two), so the pictures are decoded and
    // a pixel counts only if a channel moved by more than a glyph's anti-aliasing could;
    // marks painted over the neighbour are dark on a light bubble and move far more.
    // A transient repaint (a scroll settling) gets two more tries; marks painting over the
    // neighbour fail all three.
    const zalgoText = zalgo.locator('[data-testid=message-body]')
    const setZalgoVisible = (visible: boolean) => zalgoText.evaluate((el, v) => ((el as HTMLElement).style.visibility = v ? '' : 'hidden'), visible)
    let changed = -1
    for (let attempt = 0; attempt < 3 && changed !== 0; attempt++) {
      await setZalgoVisible(false)
      const withoutZalgo = await above.screenshot()
      await setZalgoVisible(true)
      const withZalgo = await above.screenshot()
      changed = await changedPixels(browser, withoutZalgo, withZalgo)
    }
    expect(changed, 'pixels of the neighbouring message the Zalgo marks paint over').toBe(0)

    // (3) An override that is never closed reorders nothing after its bubble.
    expectLeftToRight(await charLefts(bubble(page, 'Neighbour below').locator('[data-testid=message-body]'), 'Neighbour below'), 'next message')
    const overrideBubble = bubble(page, 'an override that is never closed')
    expect(await overrideBubble.locator('[data-testid=message-body]').textContent()).toBe(`${RLO}an override that is never closed`)

    // (4) A 5,000-character word wraps inside its bubble; nothing scrolls sideways.
    const long = bubble(page, LONG_WORD.slice(0, 50))
    const l = (await long.boundingBox())!
    const thread = (await page.locator('.thread__scroll').boundingBox())!
    expect(l.x + l.width).toBeLessThanOrEqual(thread.x + thread.width)
    expect(await page.locator('.thread__scroll').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true)
    await noHorizontalOverflow(page)

    // Titles and names are bidi islands too.
    for (const selector of ['[data-testid=thread-title]', `[data-testid=conversation-item][data-conversation-id="${cid}"] .conv__title`, '.msg__sender']) {
      expect(await page.locator(selector).first().evaluate((el) => getComputedStyle(el).unicodeBidi), selector).toBe('isolate')
    }
    // The type badge and the warning are legible (WCAG AA).
    await file.scrollIntoViewIfNeeded()
    await audit(page, 'hostile text')
    await page.unroute(history)
  })

  it('a file named for another type is saved with its real extension', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Disguised upload ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
    await ben.page.locator('[data-testid=file-input]').setInputFiles({ name: 'scan.exe', mimeType: 'application/pdf', buffer: pdf })
    await ben.page.locator('[data-testid=upload-item][data-status=done]').waitFor()
    await sendFromUi(ben.page, 'The scan, as a PDF')
    const file = messageByText(ben.page, 'The scan, as a PDF').and(ben.page.locator('[data-seq]')).locator('[data-testid=message-file]')
    await file.waitFor()
    expect(await file.locator('[data-testid=file-type]').innerText()).toBe('PDF')
    expect(await file.locator('[data-testid=file-mismatch]').innerText()).toContain('saved as .pdf')

    const [download] = await Promise.all([ben.page.waitForEvent('download', { timeout: 15_000 }), file.locator('[data-testid=file-download]').click()])
    expect(download.suggestedFilename()).toBe('scan.exe.pdf')
    const saved = await download.path()
    expect(Buffer.compare(fs.readFileSync(saved!), pdf)).toBe(0)
  })
})
