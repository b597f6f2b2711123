// Browser tests of managing conversations against the real local gateway: starting one
// with people picked by search, renaming it, adding and removing members, leaving,
// muting and hiding, and a person's new name reaching the others. Each test creates its
// own conversation; the person who renames themselves is created for the run, so that the
// demo users keep the names the other test files expect.

import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  DESKTOP,
  MOBILE,
  addPerson,
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

let browser: Browser
let ben: UserPage
let ana: UserPage
const extra: UserPage[] = []
const run = Date.now().toString(36)

/** The row of a conversation in a page's list. */
function row(page: Page, cid: string): Locator {
  return page.locator(`[data-testid=conversation-item][data-conversation-id="${cid}"]`)
}

/** Chooses an item of the open conversation's menu ("Conversation actions"). */
async function conversationAction(page: Page, label: string) {
  await page.getByRole('button', { name: 'Conversation actions' }).click()
  await page.getByRole('menuitem', { name: label }).click()
}

async function menuItems(page: Page): Promise<string[]> {
  await page.getByRole('button', { name: 'Conversation actions' }).click()
  const items = (await page.getByRole('menuitem').allTextContents()).map((t) => t.trim())
  await page.keyboard.press('Escape')
  return items
}

/** The names shown beside the open conversation's title (the others in it). */
function headerPeople(page: Page): Promise<string[]> {
  return page.locator('.thread__people .person > span:nth-child(2)').allTextContents()
}

function chips(dialog: Locator): Promise<string[]> {
  return dialog.locator('[data-testid=picked-person] .chip__name').allTextContents()
}

async function participantIds(cid: string, as = 'u-team-ben'): Promise<string[]> {
  const detail = await api<{ participants: { userId: string }[] }>(baseUrl, as, 'GET', `/api/messaging/conversations/${cid}`)
  return detail.participants.map((p) => p.userId).sort()
}

function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null)
}

async function another(userId: string): Promise<UserPage> {
  const user = await openAs(browser, baseUrl, userId)
  extra.push(user)
  await waitOnline(user.page)
  return user
}

describe('managing conversations in the browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    ana = await openAs(browser, baseUrl, 'u-client-ana')
  })

  afterAll(async () => {
    const errors = [ben, ana, ...extra].flatMap((u) => u?.errors ?? [])
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(a) starts a conversation with two people picked by search, with the keyboard alone, and opens it', async () => {
    const title = `Kitchen plans ${run}`
    const page = ben.page
    await page.goto('/messages')
    await waitOnline(page)
    await waitOnline(ana.page)
    await page.getByRole('button', { name: 'New conversation' }).focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'New conversation' })
    await dialog.waitFor()
    // The title field has the focus; Tab goes on to the people search.
    expect(await focusedTestId(page)).toBe('new-conversation-title')
    await page.keyboard.type(title)
    await page.keyboard.press('Tab')
    const search = dialog.getByRole('combobox', { name: 'People' })
    expect(await focusedTestId(page)).toBe('people-search')

    // A search shows name, role and organisation; the first match is highlighted and Enter adds it.
    await page.keyboard.type('alvarez')
    const ana1 = dialog.getByRole('option', { name: /Ana Alvarez/ })
    await ana1.waitFor()
    expect(await ana1.innerText()).toContain('Client · Acme Corp')
    expect(await search.getAttribute('aria-expanded')).toBe('true')
    expect(await search.getAttribute('aria-activedescendant')).toBe(await ana1.getAttribute('id'))
    await audit(page, 'new conversation dialog, with the people list open')
    await page.keyboard.press('Enter')
    expect(await chips(dialog)).toEqual(['Ana Alvarez'])
    expect(await search.inputValue()).toBe('')

    // Arrow keys move through the matches (wrapping), Enter adds the highlighted one.
    await page.keyboard.type('c')
    await dialog.getByRole('option', { name: /Cleo Park/ }).waitFor()
    const names = await dialog.locator('[role=option] .picker__name').allTextContents()
    expect(names, 'people already added are not offered again').not.toContain('Ana Alvarez')
    expect(names, 'the caller is not offered').not.toContain('Ben Carter')
    const selected = () => dialog.locator('[role=option][aria-selected=true] .picker__name').textContent()
    expect(await selected()).toBe(names[0])
    await page.keyboard.press('ArrowUp')
    expect(await selected()).toBe(names[names.length - 1])
    await page.keyboard.press('ArrowDown')
    for (let i = 0; i < names.indexOf('Cleo Park'); i++) await page.keyboard.press('ArrowDown')
    expect(await selected()).toBe('Cleo Park')
    await page.keyboard.press('Enter')
    expect(await chips(dialog)).toEqual(['Ana Alvarez', 'Cleo Park'])

    // Backspace in the empty box takes the last person back out; searching adds them again.
    await page.keyboard.press('Backspace')
    expect(await chips(dialog)).toEqual(['Ana Alvarez'])
    await page.keyboard.type('cleo')
    await dialog.getByRole('option', { name: /Cleo Park/ }).waitFor()
    await page.keyboard.press('Enter')
    expect(await chips(dialog)).toEqual(['Ana Alvarez', 'Cleo Park'])

    // Escape closes the list, not the dialog.
    await page.keyboard.type('omar')
    await dialog.getByRole('option', { name: /Omar Haddad/ }).waitFor()
    await page.keyboard.press('Escape')
    expect(await search.getAttribute('aria-expanded')).toBe('false')
    expect(await dialog.isVisible()).toBe(true)
    await page.keyboard.press('Escape') // clears the half-typed search
    expect(await search.inputValue()).toBe('')
    expect(await dialog.isVisible()).toBe(true)

    // Tab, Tab: Cancel, then Create.
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await focusedTestId(page)).toBe('dialog-submit')
    await page.keyboard.press('Enter')

    // The new conversation opens, ready for its first message.
    await page.waitForURL(/\/messages\/[0-9A-Z]{26}$/)
    const cid = page.url().split('/').pop()!
    await dialog.waitFor({ state: 'detached' })
    expect((await page.locator('[data-testid=thread-title]').textContent())?.trim()).toBe(title)
    await eventually(() => headerPeople(page), (p) => p.length === 2, 5_000, 'the others in the header')
    expect((await headerPeople(page)).sort()).toEqual(['Ana Alvarez', 'Cleo Park'])
    await eventually(() => focusedTestId(page), (t) => t === 'composer-input', 5_000, 'the composer focused')
    await row(page, cid).waitFor()
    // Ana's list shows it at once (conversation-updated), and the server agrees.
    await row(ana.page, cid).waitFor()
    expect(await participantIds(cid)).toEqual(['u-client-ana', 'u-team-ben', 'u-team-cleo'])
  })

  it('(b) renames a conversation; another member sees the new title at once; a client who did not create it cannot', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Old title ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    expect(await menuItems(ana.page), 'no rename for a client who did not create it').toEqual(['Mute', 'Notifications…', 'Hide until a new message', 'Leave conversation…'])

    await conversationAction(ben.page, 'Rename…')
    const dialog = ben.page.getByRole('dialog', { name: 'Rename the conversation' })
    const input = dialog.getByRole('textbox', { name: 'Title' })
    expect(await input.inputValue()).toBe(`Old title ${run}`)
    await input.fill(`New title ${run}`)
    await input.press('Enter')
    await dialog.waitFor({ state: 'detached' })

    for (const user of [ben, ana]) {
      await eventually(() => user.page.locator('[data-testid=thread-title]').textContent(), (t) => t?.trim() === `New title ${run}`, 10_000, `the new title for ${user.userId}`)
      await eventually(() => row(user.page, cid).locator('.conv__title').textContent(), (t) => t?.trim() === `New title ${run}`, 10_000, 'the new title in the list')
    }
  })

  it('(c) adds a member and removes one; the removed member sees that they were removed', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Members ${run}`, ['u-client-ana'])
    const cleo = await another('u-team-cleo')
    await openConversation(ana, cid)
    await openConversation(ben, cid)

    // A client reads the members but cannot change them.
    await ana.page.locator('[data-testid=members-button]').click()
    const anaMembers = ana.page.getByRole('dialog', { name: 'Members' })
    await anaMembers.locator('[data-testid=member]').nth(1).waitFor()
    expect(await anaMembers.locator('[data-testid=remove-member]').count()).toBe(0)
    expect(await anaMembers.locator('[data-testid=people-picker]').count()).toBe(0)
    await ana.page.keyboard.press('Escape')
    await anaMembers.waitFor({ state: 'detached' })

    // The team sees each member's role, organisation and presence, and adds Cleo.
    await ben.page.locator('[data-testid=members-button]').click()
    const dialog = ben.page.getByRole('dialog', { name: 'Members' })
    const member = (userId: string) => dialog.locator(`[data-testid=member][data-user-id="${userId}"]`)
    await eventually(() => member('u-client-ana').innerText(), (t) => t.includes('Client · Acme Corp · online'), 10_000, 'Ana with her organisation, online')
    expect(await member('u-team-ben').innerText()).toContain('Ben Carter (you)')
    const search = dialog.getByRole('combobox', { name: 'Add people' })
    await search.click()
    await search.pressSequentially('park')
    await dialog.getByRole('option', { name: /Cleo Park/ }).waitFor()
    await search.press('Enter')
    await dialog.getByRole('button', { name: 'Add to the conversation' }).click()
    await member('u-team-cleo').waitFor()
    // The live conversation-updated event may list her before the add request's answer
    // clears the picks.
    await eventually(() => chips(dialog), (c) => c.length === 0, 5_000, 'the picks cleared')
    await row(cleo.page, cid).waitFor() // it appeared in Cleo's list
    await eventually(() => headerPeople(ana.page), (p) => p.includes('Cleo Park'), 10_000, 'Cleo in Ana\'s header')
    await audit(ben.page, 'members dialog')
    await ben.page.setViewportSize(MOBILE)
    await noHorizontalOverflow(ben.page)
    await ben.page.setViewportSize(DESKTOP)

    // Removing Ana: her open conversation says so, without a composer, and her list drops it.
    await dialog.getByRole('button', { name: 'Remove Ana Alvarez' }).click()
    await member('u-client-ana').waitFor({ state: 'detached' })
    const removed = ana.page.locator('[data-testid=thread-removed]')
    await removed.waitFor({ timeout: 10_000 })
    expect(await removed.getAttribute('data-reason')).toBe('removed')
    expect(await removed.innerText()).toContain('You were removed from this conversation.')
    expect(await ana.page.locator('[data-testid=composer-input]').count()).toBe(0)
    expect(await ana.page.locator('[data-testid=message]').count()).toBe(0)
    await row(ana.page, cid).waitFor({ state: 'detached' })
    expect((await ana.page.locator('[data-testid=thread-title]').textContent())?.trim()).toBe(`Members ${run}`)
    await eventually(() => headerPeople(ben.page), (p) => !p.includes('Ana Alvarez'), 10_000, 'Ana gone from Ben\'s header')
    expect(await participantIds(cid)).toEqual(['u-team-ben', 'u-team-cleo'])
    await expect(api(baseUrl, 'u-client-ana', 'GET', `/api/messaging/conversations/${cid}`)).rejects.toThrow(/404/)
    // After a reload she still cannot open it.
    await ana.page.reload()
    await ana.page.locator('[data-testid=thread-missing], [data-testid=thread-removed]').first().waitFor()
    expect(await ana.page.locator('[data-testid=composer-input]').count()).toBe(0)
  })

  it('(d) a member leaves; their page says so and the others see them gone', async () => {
    const cid = await createConversation(baseUrl, 'u-team-ben', `Leaving ${run}`, ['u-client-ana'])
    await openConversation(ben, cid)
    await openConversation(ana, cid)
    await eventually(() => headerPeople(ben.page), (p) => p.includes('Ana Alvarez'), 5_000, 'Ana in Ben\'s header')

    await conversationAction(ana.page, 'Leave conversation…')
    const confirm = ana.page.getByRole('dialog', { name: 'Leave this conversation?' })
    await confirm.getByRole('button', { name: 'Leave' }).click()
    const left = ana.page.locator('[data-testid=thread-removed]')
    await left.waitFor()
    expect(await left.getAttribute('data-reason')).toBe('left')
    expect(await left.innerText()).toContain('You left this conversation.')
    expect(await ana.page.locator('[data-testid=composer-input]').count()).toBe(0)
    await row(ana.page, cid).waitFor({ state: 'detached' })
    await eventually(() => headerPeople(ben.page), (p) => !p.includes('Ana Alvarez'), 10_000, 'Ana gone from Ben\'s header')
    expect(await participantIds(cid)).toEqual(['u-team-ben'])

    // "Back to conversations" returns to the list.
    await left.getByRole('button', { name: 'Back to conversations' }).click()
    await ana.page.waitForURL(/\/messages$/)
  })

  it('(e) mutes a conversation (icon, no unread emphasis, kept after a reload) and hides one until a new message', async () => {
    const title = `Quiet ${run}`
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana'])
    await openConversation(ana, cid)
    await conversationAction(ana.page, 'Mute')
    await ana.page.locator('.thread__header [data-testid=muted-icon]').waitFor()
    await row(ana.page, cid).locator('[data-testid=muted-icon]').waitFor()

    // Back in the list, a new message counts, quietly.
    await ana.page.goto('/messages')
    await waitOnline(ana.page)
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Something for later')
    const badge = row(ana.page, cid).locator('[data-testid=unread-badge]')
    await badge.waitFor()
    expect(await badge.getAttribute('class')).toContain('unread--quiet')
    expect(await row(ana.page, cid).getAttribute('class')).not.toContain('conv--unread')
    // The setting is the server's: a reload keeps it.
    await ana.page.reload()
    await waitOnline(ana.page)
    await row(ana.page, cid).locator('[data-testid=muted-icon]').waitFor()
    expect(await row(ana.page, cid).getAttribute('class')).not.toContain('conv--unread')
    await conversationActionOn(ana.page, cid, 'Unmute')
    await ana.page.locator('.thread__header [data-testid=muted-icon]').waitFor({ state: 'detached' })

    // Hiding: it leaves the list (the page goes back to it), also after a reload...
    await conversationAction(ana.page, 'Hide until a new message')
    await ana.page.waitForURL(/\/messages$/)
    await row(ana.page, cid).waitFor({ state: 'detached' })
    await ana.page.reload()
    await waitOnline(ana.page)
    await ana.page.locator('[data-testid=conversation-item]').first().waitFor()
    expect(await row(ana.page, cid).count()).toBe(0)
    // ...a search still finds it, marked hidden...
    await ana.page.locator('[data-testid=conversation-search]').fill(title)
    await row(ana.page, cid).locator('[data-testid=hidden-badge]').waitFor()
    await ana.page.locator('[data-testid=conversation-search]').fill('')
    await row(ana.page, cid).waitFor({ state: 'detached' })
    // ...and a new message brings it back, live.
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Are you there?')
    await row(ana.page, cid).waitFor({ timeout: 10_000 })
    expect(await row(ana.page, cid).innerText()).toContain('Are you there?')
    expect(await row(ana.page, cid).locator('[data-testid=hidden-badge]').count()).toBe(0)
    const listed = await api<{ items: { id: string; hidden: boolean }[] }>(baseUrl, 'u-client-ana', 'GET', '/api/messaging/conversations?limit=100')
    expect(listed.items.find((c) => c.id === cid)?.hidden).toBe(false)
  })

  it('(f) a person\'s new name shows in another member\'s open conversation at once (user-updated)', async () => {
    const eveId = `u-team-eve-${run}`
    await addPerson(baseUrl, { userId: eveId, name: 'Eve Example', role: 'team' })
    const cid = await createConversation(baseUrl, eveId, `Names ${run}`, ['u-client-ana'])
    await sendViaApi(baseUrl, eveId, cid, 'Hello from Eve')
    await openConversation(ana, cid)
    const sender = messageByText(ana.page, 'Hello from Eve').locator('.msg__sender')
    expect((await sender.textContent())?.trim()).toBe('Eve Example')
    // The header's people come from the conversation's detail, which may land after the history.
    await eventually(() => headerPeople(ana.page), (p) => p.length > 0, 5_000, 'the header\'s people')
    expect(await headerPeople(ana.page)).toEqual(['Eve Example'])

    const eve = await another(eveId)
    await eve.page.getByRole('button', { name: /Eve Example/ }).click()
    await eve.page.getByRole('menuitem', { name: 'Change your name…' }).click()
    const dialog = eve.page.getByRole('dialog', { name: 'Change your name' })
    await dialog.getByRole('textbox', { name: 'Display name' }).fill('Eve Renamed')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    await eventually(() => eve.page.locator('[data-testid=current-user] .topbar__user-name').textContent(), (t) => t?.trim() === 'Eve Renamed', 5_000, 'Eve\'s own header')

    // Ana's page, without a reload: the message's sender, the header and the list.
    await eventually(() => sender.textContent(), (t) => t?.trim() === 'Eve Renamed', 10_000, 'the sender renamed')
    await eventually(() => headerPeople(ana.page), (p) => p.includes('Eve Renamed'), 5_000, 'the header renamed')
    expect(await headerPeople(ana.page)).toEqual(['Eve Renamed'])
    expect(await row(ana.page, cid).locator('.avatar').first().getAttribute('title')).toBe('Eve Renamed')
    // The server names her so from now on, too.
    await ana.page.reload()
    await messageByText(ana.page, 'Hello from Eve').waitFor()
    expect((await sender.textContent())?.trim()).toBe('Eve Renamed')
  })

  it('(g) muting and hiding on one device shows on the same person\'s other device at once (preferences-updated)', async () => {
    const title = `Two devices ${run}`
    const cid = await createConversation(baseUrl, 'u-team-ben', title, ['u-client-ana'])
    await sendViaApi(baseUrl, 'u-team-ben', cid, 'Read on the laptop and the phone')
    // Ana's laptop shows the list; her phone (another browser, signed in again) has it open.
    await ana.page.goto('/messages')
    await waitOnline(ana.page)
    const phone = await another('u-client-ana')
    await openConversation(phone, cid)
    const laptopRow = row(ana.page, cid)
    await laptopRow.waitFor()
    expect(await laptopRow.locator('[data-testid=muted-icon]').count()).toBe(0)

    // Muted on the phone: the laptop's list shows the icon without a reload.
    await conversationAction(phone.page, 'Mute')
    await laptopRow.locator('[data-testid=muted-icon]').waitFor({ timeout: 10_000 })
    // Unmuted on the laptop: the phone's open conversation loses its icon.
    await phone.page.locator('.thread__header [data-testid=muted-icon]').waitFor()
    await conversationActionOn(ana.page, cid, 'Unmute')
    await phone.page.locator('.thread__header [data-testid=muted-icon]').waitFor({ state: 'detached', timeout: 10_000 })
    await ana.page.goto('/messages')
    await waitOnline(ana.page)
    await laptopRow.waitFor()

    // Hidden on the phone: it leaves the laptop's list without a reload.
    await conversationAction(phone.page, 'Hide until a new message')
    await phone.page.waitForURL(/\/messages$/)
    await laptopRow.waitFor({ state: 'detached', timeout: 10_000 })
    // Shown again from the laptop (found by a search) while the phone, reloaded, never
    // fetched it: the phone fetches it and lists it again.
    await phone.page.reload()
    await waitOnline(phone.page)
    await phone.page.locator('[data-testid=conversation-item]').first().waitFor()
    expect(await row(phone.page, cid).count()).toBe(0)
    await ana.page.locator('[data-testid=conversation-search]').fill(title)
    await conversationActionOn(ana.page, cid, 'Show in the list again')
    await row(phone.page, cid).waitFor({ timeout: 10_000 })
    expect(await row(phone.page, cid).innerText()).toContain('Read on the laptop and the phone')
    await ana.page.locator('[data-testid=conversation-search]').fill('')
  })
})

/** Opens a conversation from the list, then chooses one of its actions. */
async function conversationActionOn(page: Page, cid: string, label: string) {
  await row(page, cid).click()
  await page.locator('[data-testid=thread]').waitFor()
  await conversationAction(page, label)
}
