// Browser tests of notifications against the real local gateway: mentioning someone from
// the composer (autocompletion, then the highlighted mention on both sides), the
// notification settings page (saved, reloaded; an unknown time zone cannot be chosen and
// is refused at its field), the service worker showing a push and opening its
// conversation when clicked, a conversation's own level and emails, and the public
// unsubscribe page.
//
// The push is synthetic: delivered to the service worker through the DevTools protocol
// (`ServiceWorker.deliverPushMessage`), as the browser would deliver one from its push
// service (which this machine cannot reach), and the click is a `notificationclick`
// dispatched in the worker with the notification shown.

import path from 'node:path'
import type { Browser, BrowserContext, Page, Worker } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  DESKTOP,
  MOBILE,
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
  waitOnline,
  type UserPage,
} from './helpers'

const baseUrl = inject('baseUrl')
const screenshotsDir = inject('screenshotsDir')
const run = Date.now().toString(36)

let browser: Browser
let ben: UserPage
let ana: UserPage
const pages: UserPage[] = []

interface Settings {
  level: 'all' | 'mentions' | 'none'
  push: boolean
  email: boolean
  emailDelaySeconds: number
  quietHours: null | { start: string; end: string; timeZone: string }
}

interface ShownNotification {
  title: string
  body: string
  tag: string
  data: { url?: string } | null
}

/** The notifications the page's service worker registration shows now. */
function shownNotifications(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready
    return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as { url?: string } | null }))
  })
}

/** The context's service worker, once the app has registered it and it is active. */
async function activeWorker(context: BrowserContext, page: Page): Promise<Worker> {
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }))
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
  return worker
}

/**
 * Delivers a push message to the page's service worker as the browser does (a trusted
 * `push` event), through the DevTools protocol; falls back to dispatching a synthetic
 * PushEvent in the worker where the protocol refuses.
 */
async function deliverPush(context: BrowserContext, page: Page, worker: Worker, data: string): Promise<void> {
  const cdp = await context.newCDPSession(page)
  try {
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find((r) => !r.isDeleted && r.scopeURL.startsWith(baseUrl))
        if (ours) resolve(ours.registrationId)
      })
    })
    await cdp.send('ServiceWorker.enable')
    const id = await Promise.race([registrationId, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no registration reported')), 10_000))])
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: new URL(baseUrl).origin, registrationId: id, data })
  } catch (e) {
    console.warn(`[e2e] ServiceWorker.deliverPushMessage failed (${e instanceof Error ? e.message : e}); dispatching a synthetic push`)
    await worker.evaluate((text) => {
      const scope = self as unknown as { dispatchEvent: (e: Event) => boolean }
      const PushEventCtor = (self as unknown as { PushEvent: new (type: string, init: { data: string }) => Event }).PushEvent
      scope.dispatchEvent(new PushEventCtor('push', { data: text }))
    }, data)
  } finally {
    await cdp.detach().catch(() => undefined)
  }
}

/** Types into the composer key by key (so that the autocompletion sees every keystroke). */
async function typeInComposer(page: Page, text: string) {
  const input = page.locator('[data-testid=composer-input]')
  await input.click()
  await input.pressSequentially(text, { delay: 20 })
}

async function openSettings(page: Page) {
  await page.getByRole('button', { name: /Your account/ }).click()
  await page.getByRole('menuitem', { name: 'Notifications' }).click()
  await page.waitForURL(/\/settings\/notifications$/)
  await page.locator('[data-testid=notification-settings]').waitFor()
}

function checked(page: Page, testId: string): Promise<boolean> {
  return page.locator(`[data-testid=${testId}]`).isChecked()
}

function selected(page: Page, testId: string): Promise<string> {
  return page.locator(`[data-testid=${testId}]`).inputValue()
}

describe('notifications in the browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    ana = await openAs(browser, baseUrl, 'u-client-ana')
    pages.push(ben, ana)
  })

  afterAll(async () => {
    const errors = pages.flatMap((u) => u.errors)
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(1) mentions from the composer: "@an" offers Ana, Enter picks her, a click picks Cleo; both sides see the mentions highlighted', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Mentions ${run}`, ['u-client-ana', 'u-team-cleo'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    const page = ben.page
    const list = page.locator('[data-testid=mention-suggestions]')
    const input = page.locator('[data-testid=composer-input]')

    await typeInComposer(page, 'Thanks @an')
    await list.waitFor()
    expect(await list.getAttribute('role')).toBe('listbox')
    expect(await list.locator('[data-testid=mention-option]').allInnerTexts()).toEqual([expect.stringContaining('Ana Alvarez')])
    // The text points at the highlighted option, for screen readers.
    const option = list.locator('[data-testid=mention-option]').first()
    expect(await input.getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'))
    expect(await option.getAttribute('aria-selected')).toBe('true')
    await audit(page, 'composer with the mention list open')
    await page.screenshot({ path: path.join(screenshotsDir, 'mention-suggestions.png') })
    await input.press('Enter')
    await list.waitFor({ state: 'detached' })
    expect(await input.inputValue()).toBe('Thanks @Ana Alvarez ')

    await input.pressSequentially('and @cl', { delay: 20 })
    await list.locator('[data-testid=mention-option]', { hasText: 'Cleo Park' }).click()
    expect(await input.inputValue()).toBe('Thanks @Ana Alvarez and @Cleo Park ')
    await input.pressSequentially('for the plan', { delay: 10 })
    // Escape closes the list without touching the text.
    await input.pressSequentially(' @cl', { delay: 20 })
    await list.waitFor()
    await input.press('Escape')
    await list.waitFor({ state: 'detached' })
    expect(await input.inputValue()).toBe('Thanks @Ana Alvarez and @Cleo Park for the plan @cl')
    await input.press('Backspace')
    await input.press('Backspace')
    await input.press('Backspace')
    await input.press('Backspace')
    expect(await input.inputValue()).toBe('Thanks @Ana Alvarez and @Cleo Park for the plan')
    await input.press('Enter')

    const text = 'Thanks @Ana Alvarez and @Cleo Park for the plan'
    const sent = messageByText(page, 'for the plan').and(page.locator('[data-seq]'))
    await sent.waitFor()
    // The server resolved the names to ids.
    const stored = await api<{ items: { body: string; mentions?: string[] }[] }>(baseUrl, 'u-team-ben', 'GET', `/api/messaging/conversations/${cid}/messages`)
    expect(stored.items.find((m) => m.body === text)?.mentions).toEqual(['u-client-ana', 'u-team-cleo'])

    // Ben's bubble, then Ana's (live, through the socket), where she is the one mentioned.
    await eventually(() => sent.locator('[data-testid=mention]').allTextContents(), (m) => m.length === 2, 10_000, 'the mentions in Ben\'s bubble')
    expect(await sent.locator('[data-testid=mention]').allTextContents()).toEqual(['@Ana Alvarez', '@Cleo Park'])
    expect(await sent.locator('[data-testid=message-body]').textContent()).toBe(text)
    const received = messageByText(ana.page, 'for the plan')
    await received.locator('[data-testid=mention]').first().waitFor()
    const mine = received.locator('[data-testid=mention].mention--me')
    expect(await mine.allTextContents()).toEqual(['@Ana Alvarez'])
    expect(await received.locator('[data-testid=mention]:not(.mention--me)').allTextContents()).toEqual(['@Cleo Park'])
    expect(await received.locator('article').getAttribute('aria-label')).toMatch(/mentions you$/)
    // Someone's name that was only typed, not picked nor resolved, stays text.
    await sendViaApi(baseUrl, 'u-team-cleo', cid, 'mail ana@example.com about @Nobody')
    await messageByText(ana.page, 'about @Nobody').waitFor()
    expect(await messageByText(ana.page, 'about @Nobody').locator('[data-testid=mention]').count()).toBe(0)
    await audit(ana.page, 'a thread with mentions')
    await ana.page.screenshot({ path: path.join(screenshotsDir, 'mentions-highlighted.png') })
  })

  it('(2) the settings page: changes are saved and still there after a reload; an unknown time zone cannot be chosen, and is refused at its field', async () => {
    const page = ben.page
    await page.goto('/messages')
    await waitOnline(page)
    await openSettings(page)
    await page.locator('[data-testid=level-mentions]').check()
    await page.locator('[data-testid=push]').uncheck()
    await page.locator('[data-testid=email-delay]').selectOption({ label: 'After 30 minutes' })
    await page.locator('[data-testid=quiet-hours]').check()
    await page.locator('[data-testid=quiet-start]').fill('23:00')
    await page.locator('[data-testid=quiet-end]').fill('06:30')
    await page.locator('[data-testid=quiet-time-zone]').selectOption('Europe/Paris')
    await page.locator('[data-testid=save-notifications]').click()
    await eventually(() => page.locator('[data-testid=notifications-status]').textContent(), (t) => t?.trim() === 'Saved', 10_000, '"Saved"')
    const expected: Settings = { level: 'mentions', push: false, email: true, emailDelaySeconds: 1800, quietHours: { start: '23:00', end: '06:30', timeZone: 'Europe/Paris' } }
    expect(await api<Settings>(baseUrl, 'u-team-ben', 'GET', '/api/messaging/me/notifications')).toEqual(expected)

    await page.reload()
    await page.locator('[data-testid=notification-settings]').waitFor()
    expect(await checked(page, 'level-mentions')).toBe(true)
    expect(await checked(page, 'push')).toBe(false)
    expect(await checked(page, 'email')).toBe(true)
    expect(await selected(page, 'email-delay')).toBe('1800')
    expect(await checked(page, 'quiet-hours')).toBe(true)
    expect(await selected(page, 'quiet-start')).toBe('23:00')
    expect(await selected(page, 'quiet-end')).toBe('06:30')
    expect(await selected(page, 'quiet-time-zone')).toBe('Europe/Paris')

    // The list offers only the browser's time zones: no way to pick an unknown one.
    const zone = page.locator('[data-testid=quiet-time-zone]')
    expect(await zone.locator('option[value="Mars/Olympus"]').count()).toBe(0)
    await expect(zone.selectOption('Mars/Olympus', { timeout: 1000 })).rejects.toThrow()
    expect(await zone.locator('option').count()).toBeGreaterThan(100)
    // A forged one (changed on its way) is refused by the server, and the page says so at the field.
    await page.route('**/api/messaging/me/notifications', async (route) => {
      if (route.request().method() !== 'PUT') return route.continue()
      const body = JSON.parse(route.request().postData() ?? '{}') as Settings
      await route.continue({ postData: JSON.stringify({ ...body, quietHours: { ...body.quietHours, timeZone: 'Mars/Olympus' } }) })
    })
    await page.locator('[data-testid=level-all]').check()
    await page.locator('[data-testid=save-notifications]').click()
    const error = page.locator('[data-testid=time-zone-error]')
    await error.waitFor()
    expect(await error.textContent()).toMatch(/unknown time zone/)
    expect(await zone.getAttribute('aria-invalid')).toBe('true')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('quiet-time-zone')
    expect(await page.locator('[data-testid=notifications-status]').textContent()).toBe('')
    await page.unroute('**/api/messaging/me/notifications')
    // Nothing was stored by the refused save.
    expect(await api<Settings>(baseUrl, 'u-team-ben', 'GET', '/api/messaging/me/notifications')).toEqual(expected)

    await audit(page, 'notification settings, with an error')
    await page.screenshot({ path: path.join(screenshotsDir, 'notification-settings.png'), fullPage: true })
    await page.setViewportSize(MOBILE)
    await noHorizontalOverflow(page)
    await audit(page, 'notification settings at 360 px')
    await page.screenshot({ path: path.join(screenshotsDir, 'notification-settings-mobile.png'), fullPage: true })
    await page.setViewportSize(DESKTOP)

    // "Nothing" is `none` on the wire (the contract), both ways.
    await page.reload()
    await page.locator('[data-testid=notification-settings]').waitFor()
    await page.locator('[data-testid=level-none]').check()
    await page.locator('[data-testid=save-notifications]').click()
    await eventually(() => page.locator('[data-testid=notifications-status]').textContent(), (t) => t?.trim() === 'Saved', 10_000, '"Saved" for Nothing')
    expect((await api<Settings>(baseUrl, 'u-team-ben', 'GET', '/api/messaging/me/notifications')).level).toBe('none')
    // Back to the defaults for the other tests.
    await api(baseUrl, 'u-team-ben', 'PUT', '/api/messaging/me/notifications', { level: 'all', push: true, email: true, emailDelaySeconds: 600, quietHours: null })
  })

  it('(3) the service worker shows a pushed notification, and clicking it opens the conversation', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Pushed ${run}`, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Are you there?')
    const { context, page } = ana
    await context.grantPermissions(['notifications'], { origin: baseUrl })
    await page.goto('/messages')
    await waitOnline(page)
    const worker = await activeWorker(context, page)
    expect(worker.url()).toBe(`${baseUrl}/sw.js`)
    // Registered at start without asking for anything: the permission was granted here, not prompted.
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.scope)).toBe(`${baseUrl}/`)

    const payload = { title: `Pushed ${run}`, body: 'Ben Carter: Are you there?', url: `/messages/${cid}`, tag: cid, conversationId: cid }
    await deliverPush(context, page, worker, JSON.stringify(payload))
    const shown = await eventually(() => shownNotifications(page), (list) => list.some((n) => n.tag === cid), 10_000, 'the notification')
    expect(shown.find((n) => n.tag === cid)).toEqual({ title: `Pushed ${run}`, body: 'Ben Carter: Are you there?', tag: cid, data: { url: `/messages/${cid}` } })

    // A push without a readable payload still shows something.
    await deliverPush(context, page, worker, 'not json')
    const generic = await eventually(() => shownNotifications(page), (list) => list.some((n) => n.tag === 'messages'), 10_000, 'the generic notification')
    expect(generic.find((n) => n.tag === 'messages')).toMatchObject({ title: 'New messages', data: { url: '/messages' } })

    // Clicking it: the open window goes to the conversation (in place, without a reload).
    await page.evaluate(() => {
      ;(window as unknown as { __e2eSameDocument: boolean }).__e2eSameDocument = true
    })
    await worker.evaluate(async (tag) => {
      const scope = self as unknown as {
        registration: ServiceWorkerRegistration
        dispatchEvent: (e: Event) => boolean
        NotificationEvent: new (type: string, init: { notification: Notification }) => Event
      }
      const [notification] = await scope.registration.getNotifications({ tag })
      if (!notification) throw new Error(`no notification tagged ${tag}`)
      scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification }))
    }, cid)
    await page.waitForURL(new RegExp(`/messages/${cid}$`), { timeout: 10_000 })
    await page.locator('[data-testid=thread]').waitFor()
    expect((await page.locator('[data-testid=thread-title]').textContent())?.trim()).toBe(`Pushed ${run}`)
    await messageByText(page, 'Are you there?').waitFor()
    expect(await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument)).toBe(true)
    // The clicked notification is closed; the other stays.
    const left = await eventually(() => shownNotifications(page), (list) => !list.some((n) => n.tag === cid), 5_000, 'the clicked notification closed')
    expect(left.map((n) => n.tag)).toEqual(['messages'])
  })

  it('(4) a conversation\'s own notifications: only mentions and no emails, kept by the server and shown again', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Quiet ${run}`, ['u-client-ana'])
    const page = ana.page
    await openConversation(ana, cid)
    await page.getByRole('button', { name: 'Conversation actions' }).click()
    await page.getByRole('menuitem', { name: 'Notifications…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Notifications for this conversation' })
    await dialog.waitFor()
    expect(await dialog.getByRole('radio', { name: 'Default' }).isChecked()).toBe(true)
    expect(await dialog.getByRole('checkbox', { name: 'Email for this conversation' }).isChecked()).toBe(true)
    await audit(page, 'a conversation\'s notifications dialog')
    await page.screenshot({ path: path.join(screenshotsDir, 'conversation-notifications.png') })
    await dialog.getByRole('radio', { name: 'Only mentions' }).check()
    await dialog.getByRole('checkbox', { name: 'Email for this conversation' }).uncheck()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    const detail = await api<{ notify: string | null; email: boolean }>(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}`)
    expect([detail.notify, detail.email]).toEqual(['mentions', false])

    await page.reload()
    await page.locator('[data-testid=thread]').waitFor()
    await page.getByRole('button', { name: 'Conversation actions' }).click()
    await page.getByRole('menuitem', { name: 'Notifications…' }).click()
    await dialog.waitFor()
    expect(await dialog.getByRole('radio', { name: 'Only mentions' }).isChecked()).toBe(true)
    expect(await dialog.getByRole('checkbox', { name: 'Email for this conversation' }).isChecked()).toBe(false)
    await dialog.getByRole('radio', { name: 'Default' }).check()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect((await api<{ notify: string | null }>(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}`)).notify).toBeNull()

    // "Nothing" is `none` on the wire (the contract), both ways.
    await page.getByRole('button', { name: 'Conversation actions' }).click()
    await page.getByRole('menuitem', { name: 'Notifications…' }).click()
    await dialog.getByRole('radio', { name: 'Nothing' }).check()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect((await api<{ notify: string | null }>(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}`)).notify).toBe('none')
  })

  it('(5) an email\'s unsubscribe link works signed out, without anyone\'s token; a forged link is not valid', async () => {
    // Omar takes emails at once; he has no page open, so a message to him is emailed.
    const title = `Emails ${run}`
    await api(baseUrl, 'u-client-omar', 'PUT', '/api/messaging/me/notifications', { level: 'all', push: true, email: true, emailDelaySeconds: 0, quietHours: null })
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-omar'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Please read this when you can')
    const link = await eventually(
      async () => {
        const r = await fetch(`${baseUrl}/dev/mail.json`)
        const { items } = (await r.json()) as { items: unknown[] }
        const email = items.map((i) => JSON.stringify(i)).find((i) => i.includes('client.omar@example.com') && i.includes(title))
        // The page's link (not the API's one-click one): …/unsubscribe?token=…
        return email?.match(/https?:\/\/[^\s"<>\\]+?(?<!\/api\/messaging)\/unsubscribe\?token=[^\s"<>\\&]+/)?.[0] ?? null
      },
      (l) => l !== null,
      30_000,
      'the email to Omar with its unsubscribe link',
    )
    const url = new URL(link!)

    const context = await browser.newContext({ viewport: DESKTOP, baseURL: baseUrl })
    const page = await context.newPage()
    const authorization: (string | undefined)[] = []
    page.on('request', (r) => {
      if (r.url().endsWith('/api/messaging/unsubscribe')) authorization.push(r.headers().authorization)
    })
    await page.goto(`${url.pathname}${url.search}`)
    await page.getByText('Stop emails about this conversation?').waitFor()
    await audit(page, 'unsubscribe')
    await page.screenshot({ path: path.join(screenshotsDir, 'unsubscribe.png') })
    await page.locator('[data-testid=unsubscribe-confirm]').click()
    const done = page.locator('[data-testid=unsubscribe-done]')
    await done.waitFor()
    expect(await done.textContent()).toBe(`You will no longer get emails about “${title}”.`)
    expect((await api<{ email: boolean }>(baseUrl, 'u-client-omar', 'GET', `/api/messaging/conversations/${cid}`)).email).toBe(false)
    // Signed out, and it stayed so: nothing sent it to the sign-in.
    expect(new URL(page.url()).pathname).toBe('/unsubscribe')

    // A forged token.
    await page.goto(`/unsubscribe?token=${encodeURIComponent(`${cid}.u-client-omar.forged`)}`)
    await page.locator('[data-testid=unsubscribe-confirm]').click()
    await page.locator('[data-testid=unsubscribe-invalid]').waitFor()
    expect(await page.locator('[data-testid=unsubscribe-invalid]').textContent()).toBe('This unsubscribe link is not valid.')
    expect(authorization).toEqual([undefined, undefined])
    await context.close()
    await api(baseUrl, 'u-client-omar', 'PUT', '/api/messaging/me/notifications', { level: 'all', push: true, email: true, emailDelaySeconds: 600, quietHours: null })
  })
})
