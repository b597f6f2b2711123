// Browser end-to-end tests against the real local gateway (see global-setup.ts): two
// users in two browser contexts, an admin in a third. Every test creates its own
// conversation through the REST API so that tests do not depend on each other's data.

import fs from 'node:fs'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  DESKTOP,
  MOBILE,
  api,
  bodies,
  createConversation,
  eventually,
  launchBrowser,
  makePng,
  messageByText,
  noHorizontalOverflow,
  openAs,
  openConversation,
  sendFromUi,
  sendViaApi,
  seqs,
  waitOnline,
  type UserPage,
} from './helpers'

const baseUrl = inject('baseUrl')
const screenshotsDir = inject('screenshotsDir')

let browser: Browser
let ben: UserPage
let ana: UserPage
let dana: UserPage | null = null
const run = Date.now().toString(36)

function expectStrictlyAscending(values: number[]) {
  for (let i = 1; i < values.length; i++) {
    expect(values[i], `seq at position ${i} after ${values[i - 1]}`).toBeGreaterThan(values[i - 1]!)
  }
}

function countOf(list: string[], text: string): number {
  return list.filter((b) => b === text).length
}

describe('messaging in the browser', () => {
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

  it('(1) two users exchange messages in real time, without reloading', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Realtime ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)

    await sendFromUi(ben.page, 'Hello Ana, the mockups are ready.')
    await messageByText(ana.page, 'Hello Ana, the mockups are ready.').waitFor()
    await sendFromUi(ana.page, 'Great, sending feedback tonight.')
    await messageByText(ben.page, 'Great, sending feedback tonight.').waitFor()
    await sendFromUi(ben.page, 'Line one\nstill Enter-sent')

    // Each message exactly once on both sides, in order, and confirmed (it has a seq).
    const expected = ['Hello Ana, the mockups are ready.', 'Great, sending feedback tonight.', 'Line one\nstill Enter-sent']
    for (const user of [ben, ana]) {
      await eventually(() => bodies(user.page), (b) => b.length === 3, 10_000, `three messages for ${user.userId}`)
      expect(await bodies(user.page)).toEqual(expected)
      await eventually(() => seqs(user.page), (s) => s.join(',') === '1,2,3', 10_000, 'seqs 1..3')
    }
    // Own messages on the right, others' on the left.
    expect(await messageByText(ben.page, 'Hello Ana').getAttribute('class')).toContain('msg--mine')
    expect(await messageByText(ana.page, 'Hello Ana').getAttribute('class')).not.toContain('msg--mine')
  })

  it('(2) the typing indicator appears for the other user and disappears', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Typing ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    const indicator = ana.page.locator('[data-testid=typing-indicator]')

    const input = ben.page.locator('[data-testid=composer-input]')
    await input.click()
    await input.pressSequentially('Drafting an answ', { delay: 30 })
    await eventually(() => indicator.innerText(), (t) => t.includes('Ben Carter is typing'), 10_000, 'typing shown')

    // Clearing the draft sends stop-typing: the indicator goes away well before its TTL.
    await input.fill('')
    await eventually(() => indicator.innerText(), (t) => t.trim() === '', 5_000, 'typing hidden')

    // Typing then sending: the message arrives and the indicator is gone.
    await input.pressSequentially('Done', { delay: 30 })
    await eventually(() => indicator.innerText(), (t) => t.includes('typing'), 10_000, 'typing shown again')
    await input.press('Enter')
    await messageByText(ana.page, 'Done').waitFor()
    await eventually(() => indicator.innerText(), (t) => t.trim() === '', 5_000, 'typing hidden after send')
  })

  it('(3) read receipts turn to read when the other opens the conversation', async () => {
    const title = `Receipts ${run}`
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana'])
    await ana.page.goto('/messages')
    await waitOnline(ana.page)
    await openConversation(ben, cid)

    await sendFromUi(ben.page, 'Could you confirm the budget?')
    const receipt = messageByText(ben.page, 'Could you confirm the budget?').locator('[data-testid=receipt]')
    await eventually(() => receipt.getAttribute('data-receipt'), (r) => r === 'sent', 10_000, 'sent tick')
    expect(await receipt.innerText()).toBe('✓')

    // Ana sees it unread in her list (the conversation appeared live), then opens it.
    const item = ana.page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`)
    await item.locator('[data-testid=unread-badge]').waitFor()
    expect((await item.locator('[data-testid=unread-badge]').innerText()).trim()).toMatch(/^1\b/)
    // Still only "sent" while Ana has not opened it.
    await ben.page.waitForTimeout(500)
    expect(await receipt.getAttribute('data-receipt')).toBe('sent')

    await item.click()
    await messageByText(ana.page, 'Could you confirm the budget?').waitFor()
    await eventually(() => receipt.getAttribute('data-receipt'), (r) => r === 'read', 10_000, 'read ticks')
    expect(await receipt.innerText()).toBe('✓✓')
    await item.locator('[data-testid=unread-badge]').waitFor({ state: 'detached' })
  })

  it('(4) a file is uploaded by one user and downloaded, byte for byte, by the other', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Files ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    const png = makePng(120, 80)

    // The limits are shown before anything is uploaded.
    expect(await ben.page.locator('.composer__hint').innerText()).toContain('Up to 5 files, 10 MB each')

    await ben.page.locator('[data-testid=file-input]').setInputFiles({ name: 'wireframe.png', mimeType: 'image/png', buffer: png })
    await ben.page.locator('[data-testid=upload-item][data-status=done]').waitFor()
    expect(await ben.page.locator('[data-testid=upload-item] progress').getAttribute('value')).toBe('100')
    await sendFromUi(ben.page, 'Here is the wireframe.')

    const message = messageByText(ana.page, 'Here is the wireframe.')
    await message.waitFor()
    const file = message.locator('[data-testid=message-file]')
    expect(await file.innerText()).toContain('wireframe.png')
    // The preview is an image from a fresh signed URL.
    await eventually(
      () => message.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth).catch(() => 0),
      (w) => w === 120,
      10_000,
      'image preview loaded',
    )

    const [download] = await Promise.all([
      ana.page.waitForEvent('download', { timeout: 15_000 }),
      file.locator('[data-testid=file-download]').click(),
    ])
    expect(download.suggestedFilename()).toBe('wireframe.png')
    const saved = await download.path()
    expect(saved).toBeTruthy()
    const bytes = fs.readFileSync(saved!)
    expect(bytes.length).toBe(png.length)
    expect(Buffer.compare(bytes, png)).toBe(0)

    // A file of a type the server refuses is stopped before any upload.
    await ben.page.locator('[data-testid=file-input]').setInputFiles({ name: 'evil.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg/>') })
    expect(await ben.page.locator('.rejected').innerText()).toContain('evil.svg: this type of file is not allowed')
    expect(await ben.page.locator('[data-testid=upload-item]').count()).toBe(0)
  })

  it('(5) pages back through 120 messages with upward scrolling, in order, without duplicates', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `History ${run}`, ['u-client-ana'])
    for (let i = 1; i <= 120; i++) {
      const who = i % 3 === 0 ? 'u-client-ana' : 'u-team-ben'
      await sendViaApi(baseUrl, who, cid, `History message ${String(i).padStart(3, '0')}`)
    }
    await openConversation(ana, cid)
    await eventually(() => seqs(ana.page), (s) => s.length >= 50 && s[s.length - 1] === 120, 10_000, 'the newest page')
    expect((await seqs(ana.page))[0]).toBeGreaterThan(1)

    const scroller = ana.page.locator('[data-testid=thread-scroll]')
    let pagesLoaded = 0
    for (let round = 0; round < 20; round++) {
      if (await ana.page.locator('[data-testid=message][data-seq="1"]').count()) break
      const firstBefore = (await seqs(ana.page))[0]!
      await scroller.evaluate((el) => {
        el.scrollTop = 0
        el.dispatchEvent(new Event('scroll'))
      })
      await eventually(() => seqs(ana.page), (s) => s[0]! < firstBefore, 10_000, 'an older page')
      pagesLoaded++
      // The reader keeps their place: the message that was first is still in view.
      const inView = await ana.page.evaluate((seq) => {
        const box = document.querySelector('[data-testid=thread-scroll]')!.getBoundingClientRect()
        const el = document.querySelector(`[data-testid=message][data-seq="${seq}"]`)!.getBoundingClientRect()
        return el.bottom > box.top && el.top < box.bottom
      }, firstBefore)
      expect(inView, `message ${firstBefore} stays in view after loading older ones`).toBe(true)
    }
    expect(pagesLoaded).toBeGreaterThanOrEqual(2)
    await ana.page.locator('[data-testid=thread-start]').waitFor()
    const all = await seqs(ana.page)
    expect(all).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    const texts = await bodies(ana.page)
    expect(texts[0]).toBe('History message 001')
    expect(texts[119]).toBe('History message 120')
    expect(new Set(texts).size).toBe(120)
  })

  it('(6) survives a forced socket drop: every message sent meanwhile shows exactly once, in order', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Reconnect ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    await sendFromUi(ben.page, 'before the drop')
    await messageByText(ana.page, 'before the drop').waitFor()

    // Phase 1: Ana's browser goes offline; Ben keeps writing.
    await ana.context.setOffline(true)
    await ana.page.locator('[data-testid=connection-status]:not([data-state=online])').waitFor()
    const offline = ['offline 1', 'offline 2', 'offline 3']
    for (const text of offline) {
      await sendFromUi(ben.page, text)
      await messageByText(ben.page, text).and(ben.page.locator('[data-seq]')).waitFor()
    }
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'offline 4 (api)')
    await ana.page.waitForTimeout(700)
    // Nothing arrived over the dead socket: what follows really is the catch-up.
    expect((await bodies(ana.page)).filter((b) => b.startsWith('offline'))).toEqual([])
    await ana.context.setOffline(false)
    await waitOnline(ana.page, 20_000)
    const expected1 = ['before the drop', ...offline, 'offline 4 (api)']
    await eventually(() => bodies(ana.page), (b) => b.length === expected1.length, 15_000, 'the catch-up')
    expect(await bodies(ana.page)).toEqual(expected1)

    // Phase 2: the socket is closed under the client's feet while Ben sends.
    await ana.page.evaluate(() => (window as unknown as { __e2eSockets: WebSocket[] }).__e2eSockets.forEach((s) => s.close()))
    const racing = ['racing 1', 'racing 2', 'racing 3']
    for (const text of racing) await sendFromUi(ben.page, text)
    await waitOnline(ana.page, 20_000)
    const expected2 = [...expected1, ...racing]
    await eventually(() => bodies(ana.page), (b) => b.length >= expected2.length, 15_000, 'messages after the drop')
    await ana.page.waitForTimeout(500)
    const shown = await bodies(ana.page)
    expect(shown).toEqual(expected2)
    for (const text of expected2) expect(countOf(shown, text), text).toBe(1)
    const shownSeqs = await seqs(ana.page)
    expectStrictlyAscending(shownSeqs)
    expect(shownSeqs).toEqual(Array.from({ length: expected2.length }, (_, i) => i + 1))

    // The server agrees.
    const page = await api<{ items: { seq: number; body: string }[] }>(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}/messages?limit=100`)
    expect(page.items.map((m) => m.body)).toEqual(expected2)
  })

  it('(7) an admin closes a conversation and its members see the composer disabled at once', async () => {
    const title = `Closing ${run}`
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'We are wrapping up.')
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    await ben.page.locator('[data-testid=composer-input]').waitFor()

    dana = await openAs(browser, baseUrl, 'u-admin-dana')
    await dana.page.goto('/admin')
    await dana.page.locator('[data-testid=admin-search]').fill(title)
    const row = dana.page.locator(`[data-testid=admin-conversation][data-conversation-id="${cid}"]`)
    await row.waitFor()
    await eventually(() => dana!.page.locator('[data-testid=admin-conversation]').count(), (n) => n === 1, 10_000, 'search narrowed to one')
    await row.click()
    await dana.page.locator('[data-testid=admin-participants] li').first().waitFor()
    expect(await dana.page.locator('[data-testid=admin-participants]').innerText()).toContain('Ana Alvarez')
    await dana.page.locator('[data-testid=admin-new-status]').selectOption('closed')
    await dana.page.locator('[data-testid=admin-apply-status]').click()
    await eventually(() => row.locator('[data-testid=admin-conversation-status]').textContent(), (s) => s?.trim() === 'closed', 10_000, 'closed in the admin list')

    for (const user of [ben, ana]) {
      await user.page.locator('[data-testid=composer-disabled]').waitFor({ timeout: 10_000 })
      expect(await user.page.locator('[data-testid=composer-input]').count()).toBe(0)
      expect((await user.page.locator('[data-testid=thread-status]').textContent())?.trim()).toBe('closed')
    }
    // The status filter finds it among the closed ones.
    await dana.page.locator('[data-testid=admin-status-filter]').selectOption('closed')
    await row.waitFor()
    // The server refuses new messages too.
    await expect(sendViaApi(baseUrl, 'u-client-ana', cid, 'too late')).rejects.toThrow(/409/)
  })

  it('(8) a member reports a message with the keyboard; the admin actions it and the message is deleted for everyone', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Moderation ${run}`, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Visit my totally legit site')
    await openConversation(ben, cid)
    await openConversation(ana, cid)

    const message = messageByText(ana.page, 'Visit my totally legit site')
    // Reply and react are offered once the conversation's members are loaded (the menu
    // below counts on them); a fresh-clone run opened the menu before that.
    await message.getByRole('button', { name: 'Add reaction' }).waitFor()
    const menuButton = message.getByRole('button', { name: 'Message actions' })
    await menuButton.focus()
    await ana.page.keyboard.press('Enter')
    const menu = message.getByRole('menu')
    await menu.waitFor()
    expect(await ana.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Copy text')
    await ana.page.keyboard.press('ArrowDown')
    expect(await ana.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Reply')
    await ana.page.keyboard.press('ArrowDown')
    expect(await ana.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Add reaction')
    await ana.page.keyboard.press('ArrowDown')
    expect(await ana.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Report')
    await ana.page.keyboard.press('Escape')
    await menu.waitFor({ state: 'detached' })
    expect(await ana.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Message actions')
    await ana.page.keyboard.press('ArrowUp') // opens on the last item
    expect(await ana.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Report')
    await ana.page.keyboard.press('Enter')
    await ana.page.locator('[data-testid=report-reason]').fill('Spam link')
    await ana.page.keyboard.press('Tab')
    await ana.page.getByRole('dialog').getByRole('button', { name: 'Report' }).click()
    await ana.page.locator('[data-testid=report-reason]').waitFor({ state: 'detached' })

    dana ??= await openAs(browser, baseUrl, 'u-admin-dana')
    await dana.page.goto('/admin')
    await dana.page.locator('[data-testid=tab-reports]').click()
    const report = dana.page.locator('[data-testid=report]', { hasText: 'Spam link' })
    await report.waitFor()
    // The card appears first; the reported message and the conversation title load after it.
    const reportText = await eventually(
      () => report.innerText(),
      (t) => t.includes('Visit my totally legit site') && !t.includes('Loading…'),
      10_000,
      'reported message shown on the card',
    )
    expect(reportText).toContain('Spam link')
    await report.locator('[data-testid=report-delete-message]').check()
    await report.locator('[data-testid=report-action]').click()
    await eventually(() => report.getAttribute('data-status'), (s) => s === 'actioned', 10_000, 'report actioned')

    for (const user of [ben, ana]) {
      await user.page.locator('.msg--deleted', { hasText: 'This message was deleted' }).waitFor({ timeout: 10_000 })
      expect(await bodies(user.page)).not.toContain('Visit my totally legit site')
    }
  })

  it('(9) edits and deletes show live on the other side', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Edits ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    await sendFromUi(ben.page, 'Meeting at 10')
    await sendFromUi(ben.page, 'Wrong chat, sorry')
    await messageByText(ana.page, 'Wrong chat, sorry').waitFor()

    const first = messageByText(ben.page, 'Meeting at 10')
    await first.getByRole('button', { name: 'Message actions' }).click()
    await first.getByRole('menuitem', { name: 'Edit' }).click()
    // While editing, the body is replaced by the editor.
    const editor = ben.page.getByRole('textbox', { name: 'Edit message' })
    await editor.fill('Meeting at 11')
    await editor.press('Enter')
    const edited = messageByText(ana.page, 'Meeting at 11')
    await edited.waitFor()
    expect(await edited.innerText()).toContain('edited')

    const second = messageByText(ben.page, 'Wrong chat, sorry')
    await second.getByRole('button', { name: 'Message actions' }).click()
    await second.getByRole('menuitem', { name: 'Delete' }).click()
    await ben.page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
    for (const user of [ben, ana]) {
      await user.page.locator('.msg--deleted', { hasText: 'This message was deleted' }).waitFor()
      expect(await bodies(user.page)).toEqual(['Meeting at 11'])
    }
  })

  it('(10) a send whose answer is lost shows Retry; retrying stores it exactly once (same clientMessageId)', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Retry ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    const posted: string[] = []
    let lose = true
    const pattern = `**/api/messaging/conversations/${cid}/messages`
    await ben.page.route(pattern, async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      posted.push((route.request().postDataJSON() as { clientMessageId: string }).clientMessageId)
      if (lose) {
        lose = false
        // The server stores the message, but its answer never reaches the page.
        await route.fetch()
        return route.abort('connectionreset')
      }
      return route.continue()
    })
    // Keep Ben's socket down meanwhile (no ticket, no connection), so that the stored
    // message cannot arrive as an event first: the page has to rely on Retry.
    const tickets = '**/api/messaging/ws-ticket'
    await ben.page.route(tickets, (route) => route.abort('connectionrefused'))
    await ben.page.evaluate(() => (window as unknown as { __e2eSockets: WebSocket[] }).__e2eSockets.forEach((s) => s.close()))
    await ben.page.locator('[data-testid=connection-status]:not([data-state=online])').waitFor()
    await sendFromUi(ben.page, 'Sent once, whatever happens')
    const pending = ben.page.locator('[data-testid=message].msg--failed')
    await pending.waitFor()
    expect(await pending.innerText()).toContain('Not sent')
    await pending.getByRole('button', { name: 'Retry' }).click()
    await messageByText(ben.page, 'Sent once, whatever happens').and(ben.page.locator('[data-seq]')).waitFor()
    await ben.page.unroute(pattern)
    await ben.page.unroute(tickets)
    // "Retry now" skips the backoff wait.
    await ben.page.getByRole('button', { name: 'Retry now' }).click()
    await waitOnline(ben.page)

    expect(posted).toHaveLength(2)
    expect(posted[0]).toBe(posted[1])
    await messageByText(ana.page, 'Sent once, whatever happens').waitFor()
    await ana.page.waitForTimeout(300)
    for (const user of [ben, ana]) {
      expect(countOf(await bodies(user.page), 'Sent once, whatever happens')).toBe(1)
    }
    const page = await api<{ items: unknown[] }>(baseUrl, 'u-team-ben', 'GET', `/api/messaging/conversations/${cid}/messages`)
    expect(page.items).toHaveLength(1)
  })

  it('(11) presence dots follow users coming online and going offline', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Presence ${run}`, ['u-team-cleo'])
    await openConversation(ben, cid)
    const dot = ben.page.locator('.thread__people .person', { hasText: 'Cleo Park' })
    const listDot = ben.page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"] [data-testid=presence-dot][data-user="u-team-cleo"]`)
    await eventually(() => dot.getAttribute('data-online'), (v) => v === 'false', 10_000, 'Cleo offline')
    const cleo = await openAs(browser, baseUrl, 'u-team-cleo')
    await waitOnline(cleo.page)
    await eventually(() => dot.getAttribute('data-online'), (v) => v === 'true', 10_000, 'Cleo online (user-joined)')
    await eventually(() => listDot.getAttribute('data-online'), (v) => v === 'true', 5_000, 'Cleo online in the list')
    expect(await ben.page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`).innerText()).toContain('Cleo Park online')
    await cleo.context.close()
    await eventually(() => dot.getAttribute('data-online'), (v) => v === 'false', 10_000, 'Cleo offline again (user-left)')
    await eventually(() => listDot.getAttribute('data-online'), (v) => v === 'false', 5_000, 'Cleo offline in the list')
  })

  it('(12) screenshots: messages (desktop and 360 px) and admin, without overlap or horizontal overflow', async () => {
    const title = 'Website launch — final assets'
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana', 'u-team-cleo'])
    const logo = await sendViaApi(baseUrl, 'u-team-cleo', cid, 'Morning! The final logo files are exported.')
    // An open report, so that the reports queue has something to show.
    await api(baseUrl, 'u-client-ana', 'POST', `/api/messaging/conversations/${cid}/messages/${logo.id}/report`, {
      reason: 'Shares a link to files outside the project space',
    })
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    await sendFromUi(ana.page, 'Amazing — can we see the hero image before Friday?')
    await messageByText(ben.page, 'can we see the hero image').waitFor()
    await ben.page.locator('[data-testid=file-input]').setInputFiles({ name: 'hero-banner.png', mimeType: 'image/png', buffer: makePng(480, 240) })
    await ben.page.locator('[data-testid=upload-item][data-status=done]').waitFor()
    await sendFromUi(ben.page, 'Here it is. Cleo tuned the colours for the dark theme too.')
    await messageByText(ana.page, 'Here it is.').waitFor()
    await sendFromUi(ben.page, 'Let us know if anything should change.')
    const last = messageByText(ben.page, 'Let us know if anything should change.')
    await eventually(() => last.locator('[data-testid=receipt]').getAttribute('data-receipt'), (r) => r === 'read', 10_000, 'read ticks')
    await eventually(
      () => ben.page.locator('[data-testid=message-file] img').evaluate((i) => (i as HTMLImageElement).naturalWidth).catch(() => 0),
      (w) => w > 0,
      10_000,
      'preview',
    )
    await ben.page.locator('[data-testid=composer-input]').blur()
    await ben.page.mouse.move(0, 0)
    await ben.page.waitForTimeout(300)
    await ben.page.screenshot({ path: path.join(screenshotsDir, 'messages-desktop.png') })
    await noHorizontalOverflow(ben.page)

    const mobile = await browser.newContext({ viewport: MOBILE, baseURL: baseUrl, deviceScaleFactor: 1, isMobile: false })
    try {
      const page = await mobile.newPage()
      await page.goto('/login')
      await page.locator('[data-testid=login-user][data-user-id="u-team-ben"]').click()
      await page.waitForURL(/\/messages/)
      await page.locator('[data-testid=conversation-item]').first().waitFor()
      await page.screenshot({ path: path.join(screenshotsDir, 'messages-list-mobile.png') })
      await noHorizontalOverflow(page)
      await page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`).click()
      await messageByText(page, 'Let us know if anything should change.').waitFor()
      await page.locator('[data-testid=thread-title]').waitFor()
      expect(await page.locator('[data-testid=conversation-list]').isVisible()).toBe(false)
      await eventually(
        () => page.locator('[data-testid=message-file] img').evaluate((i) => (i as HTMLImageElement).naturalWidth).catch(() => 0),
        (w) => w > 0,
        10_000,
        'preview',
      )
      await page.waitForTimeout(300)
      await page.screenshot({ path: path.join(screenshotsDir, 'messages-mobile.png') })
      await noHorizontalOverflow(page)
      // The back button returns to the list (stack navigation).
      await page.locator('[data-testid=back]').click()
      await page.locator('[data-testid=conversation-list]').waitFor()

      dana ??= await openAs(browser, baseUrl, 'u-admin-dana')
      await dana.page.setViewportSize(DESKTOP)
      await dana.page.goto('/admin')
      await dana.page.locator(`[data-testid=admin-conversation][data-conversation-id="${cid}"]`).click()
      await dana.page.locator('[data-testid=admin-participants] li').first().waitFor()
      await dana.page.locator('.admin-message').first().waitFor()
      await dana.page.waitForTimeout(300)
      await dana.page.screenshot({ path: path.join(screenshotsDir, 'admin-desktop.png') })
      await noHorizontalOverflow(dana.page)
      await dana.page.setViewportSize(MOBILE)
      await dana.page.waitForTimeout(300)
      await dana.page.screenshot({ path: path.join(screenshotsDir, 'admin-mobile.png'), fullPage: true })
      await noHorizontalOverflow(dana.page)
      await dana.page.locator('[data-testid=tab-reports]').click()
      await dana.page.locator('[data-testid=report]').first().waitFor()
      await dana.page.screenshot({ path: path.join(screenshotsDir, 'admin-reports-mobile.png') })
      await noHorizontalOverflow(dana.page)
      await dana.page.setViewportSize(DESKTOP)
    } finally {
      await mobile.close()
    }
    for (const name of ['messages-desktop', 'messages-mobile', 'messages-list-mobile', 'admin-desktop', 'admin-mobile', 'admin-reports-mobile']) {
      expect(fs.statSync(path.join(screenshotsDir, `${name}.png`)).size).toBeGreaterThan(5000)
    }
  })
})
