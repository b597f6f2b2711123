// Browser tests of the admins' People screen against the real local gateway: searching and
// filtering the directory, disabling a client (whose open page says the session ended
// instead of reconnecting, and whom the provider no longer offers) and enabling them again,
// and an accessibility audit.
// The client is created for the run (`POST /dev/users`), so the demo users stay as the
// other test files expect them.

import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { MOBILE, DESKTOP, addPerson, api, audit, eventually, launchBrowser, noHorizontalOverflow, openAs, token, waitOnline, type UserPage } from './helpers'

const baseUrl = inject('baseUrl')
const run = Date.now().toString(36)
const zara = { userId: `u-client-zara-${run}`, name: `Zara Quinn ${run}`, email: `zara.${run}@example.com`, role: 'client' as const, organisation: 'Initech' }

let browser: Browser
let dana: UserPage
const pages: UserPage[] = []

function person(page: Page, userId: string): Locator {
  return page.locator(`[data-testid=admin-person][data-user-id="${userId}"]`)
}

function listedIds(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid=admin-person]', (els) => els.map((e) => (e as HTMLElement).dataset.userId ?? ''))
}

async function openPeople(page: Page) {
  await page.goto('/admin')
  await page.locator('[data-testid=tab-people]').click()
  await page.getByRole('tabpanel').getByRole('heading', { name: 'People' }).waitFor()
  await page.locator('[data-testid=admin-person]').first().waitFor()
}

/** Types a search and waits for the (debounced) list to show exactly `ids`. */
async function searchFor(page: Page, q: string, ids: string[]) {
  await page.locator('[data-testid=admin-people-search]').fill(q)
  await eventually(() => listedIds(page), (listed) => JSON.stringify(listed) === JSON.stringify(ids), 10_000, `people matching "${q}"`)
}

async function filterBy(page: Page, state: 'active' | 'disabled' | '', ids: string[]) {
  await page.locator('[data-testid=admin-people-status]').selectOption(state)
  await eventually(() => listedIds(page), (listed) => JSON.stringify(listed) === JSON.stringify(ids), 10_000, `the ${state || 'everyone'} filter`)
}

async function loginIds(): Promise<string[]> {
  const r = await fetch(`${baseUrl}/dev/users`)
  return ((await r.json()) as { userId: string }[]).map((u) => u.userId)
}

/** Disables or enables someone from their row, through the confirmation. */
async function toggle(page: Page, userId: string, label: 'Disable' | 'Enable', name: string) {
  await person(page, userId).getByRole('button', { name: `${label} ${name}` }).click()
  const dialog = page.getByRole('dialog', { name: `${label} ${name}?` })
  await dialog.waitFor()
  await dialog.getByRole('button', { name: label, exact: true }).click()
  await dialog.waitFor({ state: 'detached' })
  await eventually(() => person(page, userId).getAttribute('data-active'), (a) => a === String(label === 'Enable'), 10_000, `${name} ${label.toLowerCase()}d`)
}

describe('the admins\' People screen', () => {
  beforeAll(async () => {
    browser = await launchBrowser()
    await addPerson(baseUrl, zara)
    dana = await openAs(browser, baseUrl, 'u-admin-dana')
    pages.push(dana)
  })

  afterAll(async () => {
    const errors = pages.flatMap((u) => u.errors)
    await browser?.close()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(1) searches and filters people, disables a client (their open page says their session ended; the provider no longer offers them) and enables them again', async () => {
    // Zara is signed in, with her socket online.
    const client = await openAs(browser, baseUrl, zara.userId)
    pages.push(client)
    await waitOnline(client.page)
    const tickets: number[] = []
    client.page.on('request', (r) => {
      if (r.url().endsWith('/api/messaging/ws-ticket')) tickets.push(Date.now())
    })
    await token(baseUrl, zara.userId) // a token of hers, for the REST check below

    // Search by a part of the name or of the email; each row says who, role, organisation, email and state.
    const page = dana.page
    await openPeople(page)
    await searchFor(page, `zara quinn ${run}`, [zara.userId])
    expect(await person(page, zara.userId).innerText()).toContain(`Zara Quinn ${run}\nClient · Initech · ${zara.email}`)
    expect((await person(page, zara.userId).locator('[data-testid=admin-person-state]').textContent())?.trim()).toBe('active')
    await searchFor(page, `zara.${run}@`, [zara.userId])
    await filterBy(page, 'disabled', [])
    await filterBy(page, 'active', [zara.userId])
    await filterBy(page, '', [zara.userId])
    // The admin's own row offers no Disable.
    await searchFor(page, 'dana reyes', ['u-admin-dana'])
    expect(await person(page, 'u-admin-dana').innerText()).toContain('Dana Reyes (you)')
    expect(await person(page, 'u-admin-dana').getByRole('button').count()).toBe(0)

    // Disable Zara, after the confirmation.
    await searchFor(page, run, [zara.userId])
    await toggle(page, zara.userId, 'Disable', zara.name)
    expect((await person(page, zara.userId).locator('[data-testid=admin-person-state]').textContent())?.trim()).toBe('disabled')
    await filterBy(page, 'active', [])
    await filterBy(page, 'disabled', [zara.userId])

    // Her open page stays, says her session ended (the server closed her socket and refuses
    // the ticket), and stops asking for tickets.
    const expired = client.page.locator('[data-testid=session-expired]')
    await expired.waitFor({ timeout: 15_000 })
    expect(await expired.innerText()).toContain('Your session expired')
    expect(new URL(client.page.url()).pathname).toMatch(/^\/messages/)
    const ticketsAtExpiry = tickets.length
    expect(ticketsAtExpiry, 'one refused ticket request at most, not a loop').toBeLessThanOrEqual(2)
    await expect(api(baseUrl, zara.userId, 'GET', '/api/messaging/me')).rejects.toThrow(/401/)
    await new Promise((r) => setTimeout(r, 3000))
    expect(tickets.length, 'no reconnect attempts once the session ended').toBe(ticketsAtExpiry)

    // Signing in again: the provider no longer offers her.
    await client.page.locator('[data-testid=sign-in-again]').click()
    await client.page.locator('[data-testid=login-user]').first().waitFor()
    expect(await client.page.locator(`[data-testid=login-user][data-user-id="${zara.userId}"]`).count()).toBe(0)
    expect(await loginIds()).not.toContain(zara.userId)

    // Enabled again: the provider offers her again and she signs in.
    await toggle(page, zara.userId, 'Enable', zara.name)
    await filterBy(page, 'active', [zara.userId])
    expect(await loginIds()).toContain(zara.userId)
    await client.page.reload()
    await client.page.locator(`[data-testid=login-user][data-user-id="${zara.userId}"]`).click()
    await client.page.waitForURL(/\/messages/)
    await waitOnline(client.page)
    expect((await api<{ active: boolean }>(baseUrl, zara.userId, 'GET', '/api/messaging/me')).active).toBe(true)
  })

  it('(2) the People screen has no WCAG A/AA violations (list, confirmation), nor horizontal scrolling at 360 px', async () => {
    const page = dana.page
    await openPeople(page)
    await audit(page, 'admin people')
    await person(page, 'u-client-ana').getByRole('button', { name: 'Disable Ana Alvarez' }).click()
    const dialog = page.getByRole('dialog', { name: 'Disable Ana Alvarez?' })
    await dialog.waitFor()
    await audit(page, 'admin people, the confirmation open')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect(await person(page, 'u-client-ana').getAttribute('data-active')).toBe('true')
    await page.setViewportSize(MOBILE)
    await noHorizontalOverflow(page)
    await audit(page, 'admin people at 360 px')
    await page.setViewportSize(DESKTOP)
  })
})
