// Signing in with OpenID Connect against the local gateway's own provider (issue 14): the
// authorization code + PKCE redirect, two people chatting, silent renewal in the middle
// of a conversation, signing out, refused callbacks (a tampered state, a missing PKCE
// verifier, the provider's error), and a session that expires mid-conversation without
// losing the message being sent. This file runs its own gateway with 8-second tokens, so
// that renewal and expiry happen within a test.

import crypto from 'node:crypto'
import type { Browser, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './gateway'
import { DESKTOP, audit, createConversation, eventually, launchBrowser, messageByText, openAs, openConversation, sendFromUi, waitOnline, type UserPage } from './helpers'

/** The access and id tokens' lifetime on this file's gateway; it renews 4 s before expiry. */
const TTL_S = 8
/** How long after `exp` the API still accepts an access token (its clock-skew allowance). */
const SKEW_S = 30
const CLIENT_ID = 'messaging-web'
const run = Date.now().toString(36)

let gateway: Gateway
let baseUrl: string
let browser: Browser
const pages: UserPage[] = []

interface StoredUser {
  access_token: string
  refresh_token?: string
  id_token?: string
}

/** The tokens oidc-client-ts keeps in the tab's sessionStorage (null when signed out). */
function storedUser(page: Page): Promise<StoredUser | null> {
  return page.evaluate((key) => {
    const raw = sessionStorage.getItem(key)
    return raw ? (JSON.parse(raw) as StoredUser) : null
  }, `oidc.user:${baseUrl}:${CLIENT_ID}`)
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

const path = (r: Request) => new URL(r.url()).pathname
const isTokenRequest = (r: Request, grant: string) => path(r) === '/oidc/token' && new URLSearchParams(r.postData() ?? '').get('grant_type') === grant

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: baseUrl })
  context.setDefaultTimeout(15_000)
  return context.newPage()
}

async function open(userId: string): Promise<UserPage> {
  const user = await openAs(browser, baseUrl, userId)
  pages.push(user)
  return user
}

/** Picks `userId` on the provider's page the login (or "Sign in again") led to. */
async function pickOnProvider(page: Page, userId: string) {
  await page.locator(`[data-testid=login-user][data-user-id="${userId}"]`).click()
}

/** A state in which no session exists: nothing stored, and /messages asks to sign in. */
async function expectNoSession(page: Page) {
  expect(await storedUser(page), 'no tokens stored').toBeNull()
  expect(await page.evaluate(() => sessionStorage.getItem('messaging.session')), 'no session').toBeNull()
  await page.goto('/messages')
  await page.locator('[data-testid=login-user]').first().waitFor()
  expect(new URL(page.url()).pathname).toBe('/oidc/authorize')
}

/**
 * Rewrites the provider's redirect to the callback (as an attacker or a broken provider
 * would): the picker's POST is answered by the provider, and its Location changed on the
 * way back (a redirect's next request cannot be intercepted itself).
 */
async function rewriteCallback(page: Page, change: (params: URLSearchParams) => void) {
  await page.route(
    (url) => url.pathname === '/oidc/authorize',
    async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      const answer = await route.fetch({ maxRedirects: 0 })
      const location = new URL(answer.headers().location ?? '')
      expect(location.pathname).toBe('/auth/callback')
      change(location.searchParams)
      await route.fulfill({ response: answer, headers: { ...answer.headers(), location: location.toString() } })
    },
  )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('signing in with OpenID Connect (authorization code + PKCE)', () => {
  let cid: string
  let ana: UserPage
  let ben: UserPage

  beforeAll(async () => {
    gateway = await startGateway(['--oidc-token-ttl', String(TTL_S)])
    baseUrl = gateway.baseUrl
    browser = await launchBrowser()
    cid = await createConversation(baseUrl, 'u-team-ben', `Sign-in ${run}`, ['u-client-ana'])
  })

  afterAll(async () => {
    const errors = pages.flatMap((u) => u.errors)
    await browser?.close()
    await gateway?.stop()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('(1) signs in through the provider: an S256 challenge goes out, the verifier comes back, the page wanted opens', async () => {
    const page = await newPage()
    const authorize: URL[] = []
    const tokenForms: URLSearchParams[] = []
    const bearers: string[] = []
    page.on('request', (r) => {
      if (path(r) === '/oidc/authorize' && r.method() === 'GET') authorize.push(new URL(r.url()))
      if (path(r) === '/oidc/token') tokenForms.push(new URLSearchParams(r.postData() ?? ''))
      if (path(r) === '/api/messaging/me') bearers.push(r.headers().authorization ?? '')
    })

    // A deep link without a session: the login, then straight on to the provider.
    await page.goto(`/messages/${cid}`)
    await page.locator('[data-testid=login-user]').first().waitFor()
    expect(authorize).toHaveLength(1)
    const asked = authorize[0]!.searchParams
    expect(Object.fromEntries(['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge_method'].map((k) => [k, asked.get(k)]))).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${baseUrl}/auth/callback`,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
    })
    expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(asked.get('state')).toBeTruthy()

    await pickOnProvider(page, 'u-client-ana')
    await page.waitForURL((url) => url.pathname === `/messages/${cid}`)
    await page.locator('[data-testid=thread]').waitFor()
    await waitOnline(page)

    // The code went back with the verifier whose SHA-256 is the challenge.
    expect(tokenForms.map((f) => f.get('grant_type'))).toEqual(['authorization_code'])
    const verifier = tokenForms[0]!.get('code_verifier') ?? ''
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/)
    expect(crypto.createHash('sha256').update(verifier).digest('base64url')).toBe(asked.get('code_challenge'))
    expect(tokenForms[0]!.get('redirect_uri')).toBe(`${baseUrl}/auth/callback`)

    // The API's bearer is the access token; who I am came from GET /me.
    const tokens = await storedUser(page)
    expect(claims(tokens!.access_token)).toMatchObject({ sub: 'u-client-ana', role: 'client', client_id: CLIENT_ID })
    expect(bearers[0]).toBe(`Bearer ${tokens!.access_token}`)
    expect(await page.locator('[data-testid=current-user]').innerText()).toContain('Ana Alvarez')
    await page.context().close()
  })

  it('(2) two people signed in through the provider chat, both ways', async () => {
    ana = await open('u-client-ana')
    ben = await open('u-team-ben')
    await openConversation(ana, cid)
    await openConversation(ben, cid)
    await sendFromUi(ana.page, `Hello from Ana ${run}`)
    await messageByText(ben.page, `Hello from Ana ${run}`).waitFor()
    await sendFromUi(ben.page, `Hello from Ben ${run}`)
    await messageByText(ana.page, `Hello from Ben ${run}`).waitFor()
  })

  it('(3) renews the access token silently mid-conversation: the socket stays online, messages keep flowing past the first token\'s death', async () => {
    const refreshes: Request[] = []
    const tickets: Request[] = []
    let socketsOpened = 0
    ana.page.on('request', (r) => {
      if (isTokenRequest(r, 'refresh_token')) refreshes.push(r)
      if (path(r) === '/api/messaging/ws-ticket') tickets.push(r)
    })
    ana.page.on('websocket', () => socketsOpened++)
    const first = (await storedUser(ana.page))!.access_token
    const seen = new Set([first])
    const states = new Set<string>()
    const stateOf = (p: Page) => p.locator('[data-testid=connection-status]').first().getAttribute('data-state')

    // Past the first token's expiry and the API's skew allowance, watching all along.
    const deadline = Date.now() + (TTL_S + SKEW_S + 2) * 1000
    let midway = false
    while (Date.now() < deadline) {
      seen.add((await storedUser(ana.page))!.access_token)
      states.add(`${await stateOf(ana.page)}/${await stateOf(ben.page)}`)
      if (!midway && Date.now() > deadline - 20_000) {
        midway = true
        await sendFromUi(ana.page, `Midway from Ana ${run}`)
        await messageByText(ben.page, `Midway from Ana ${run}`).waitFor()
      }
      await sleep(500)
    }

    expect(seen.size, 'the access token in sessionStorage changed at least twice').toBeGreaterThanOrEqual(3)
    expect(refreshes.length, 'refresh_token grants went to the token endpoint').toBeGreaterThanOrEqual(2)
    expect(new URLSearchParams(refreshes[0]!.postData() ?? '').get('client_id')).toBe(CLIENT_ID)
    expect([...states], 'both sockets stayed online throughout').toEqual(['online/online'])
    expect(socketsOpened, 'no new socket').toBe(0)
    // The first token is dead for the API now; the page is not.
    const refused = await fetch(`${baseUrl}/api/messaging/me`, { headers: { Authorization: `Bearer ${first}` } })
    expect(refused.status).toBe(401)
    await sendFromUi(ana.page, `Late from Ana ${run}`)
    await messageByText(ben.page, `Late from Ana ${run}`).waitFor()
    await sendFromUi(ben.page, `Late from Ben ${run}`)
    await messageByText(ana.page, `Late from Ben ${run}`).waitFor()
    expect(await messageByText(ana.page, `Late from Ana ${run}`).and(ana.page.locator('[data-seq]')).count()).toBe(1)

    // A new socket asks for its ticket with the current token.
    const ticket = ana.page.waitForRequest((r) => path(r) === '/api/messaging/ws-ticket')
    await ana.page.evaluate(() => (window as unknown as { __e2eSockets: WebSocket[] }).__e2eSockets.forEach((s) => s.close()))
    const bearer = (await ticket).headers().authorization ?? ''
    await waitOnline(ana.page, 20_000)
    expect(bearer).toMatch(/^Bearer /)
    expect(bearer).not.toBe(`Bearer ${first}`)
    expect(tickets.length).toBe(1)
  })

  it('(4) signs out: back at the login, the refresh token is refused, and /messages asks to sign in again', async () => {
    const page = ana.page
    const before = (await storedUser(page))!
    expect(before.refresh_token).toBeTruthy()
    const logout = page.waitForRequest((r) => path(r) === '/oidc/logout')
    const landed = page.waitForResponse((r) => r.request().isNavigationRequest() && path(r.request()) === '/login', { timeout: 15_000 })
    await page.locator('[data-testid=user-menu] button[aria-haspopup=menu]').click()
    await page.getByRole('menuitem', { name: 'Sign out' }).click()
    const ended = new URL((await logout).url()).searchParams
    // The ID token of this sign-in (the current one: it may have been renewed meanwhile).
    const hint = claims(ended.get('id_token_hint') ?? '')
    const signedIn = claims(before.id_token!)
    expect({ sub: hint.sub, sid: hint.sid }).toEqual({ sub: signedIn.sub, sid: signedIn.sid })
    expect(ended.get('post_logout_redirect_uri')).toBe(`${baseUrl}/login`)
    await landed
    await page.locator('.notice[role=status]', { hasText: 'You signed out.' }).waitFor()
    await page.locator('[data-testid=sign-in]').waitFor()
    expect(await storedUser(page)).toBeNull()
    await audit(page, 'login, signed out')

    const refresh = await fetch(`${baseUrl}/oidc/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refresh_token!, client_id: CLIENT_ID }),
    })
    expect(refresh.status).toBe(400)
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant')
    await expectNoSession(page)
  })

  it.each([
    ['a tampered state', (p: URLSearchParams) => p.set('state', `${p.get('state')}x`), /^Sign-in failed: .+/],
    [
      "the provider's error",
      (p: URLSearchParams) => {
        p.delete('code')
        p.set('error', 'access_denied')
      },
      /^Sign-in failed: access_denied$/,
    ],
  ])('(5) refuses a callback with %s: "Sign-in failed", no code exchanged, no session', async (_case, change, shown) => {
    const page = await newPage()
    const exchanges: Request[] = []
    page.on('request', (r) => {
      if (isTokenRequest(r, 'authorization_code')) exchanges.push(r)
    })
    await rewriteCallback(page, change)
    await page.goto('/login')
    await pickOnProvider(page, 'u-client-ana')
    const error = page.locator('[data-testid=sign-in-error]')
    await error.waitFor()
    expect(await error.innerText()).toMatch(shown)
    await page.locator('[data-testid=sign-in]', { hasText: 'Try again' }).waitFor()
    expect(exchanges).toEqual([])
    await expectNoSession(page)
    await page.context().close()
  })

  it('(6) refuses a code without its PKCE verifier: the provider answers 400 invalid_grant, "Sign-in failed", no session', async () => {
    const page = await newPage()
    await page.route(
      (url) => url.pathname === '/oidc/token',
      async (route) => {
        const form = new URLSearchParams(route.request().postData() ?? '')
        form.delete('code_verifier')
        await route.continue({ postData: form.toString() })
      },
    )
    const answer = page.waitForResponse((r) => path(r.request()) === '/oidc/token')
    await page.goto('/login')
    await pickOnProvider(page, 'u-client-ana')
    const response = await answer
    expect(response.status()).toBe(400)
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant')
    const error = page.locator('[data-testid=sign-in-error]')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/^Sign-in failed: /)
    await expectNoSession(page)
    await page.context().close()
  })

  it('(7) a session that expires mid-conversation keeps the message being sent: pending until signing in again, then delivered exactly once', async () => {
    const cleo = await open('u-team-cleo')
    const expiring = await open('u-client-ana')
    const conversation = await createConversation(baseUrl, 'u-team-cleo', `Expiry ${run}`, ['u-client-ana'])
    await openConversation(cleo, conversation)
    await openConversation(expiring, conversation)
    const page = expiring.page

    // Right after a renewal (none in flight), the new refresh token is revoked: the next
    // renewal fails and the access token runs out.
    const renewed = await page.waitForResponse((r) => isTokenRequest(r.request(), 'refresh_token') && r.ok(), { timeout: 15_000 })
    const { refresh_token } = (await renewed.json()) as { refresh_token: string }
    const revoked = await fetch(`${baseUrl}/oidc/revoke`, { method: 'POST', body: new URLSearchParams({ token: refresh_token, client_id: CLIENT_ID }) })
    expect(revoked.status).toBe(200)

    const banner = page.locator('[data-testid=session-expired]')
    // Renewal fails 4 s after the revocation; the token expires 4 s later; the expiry counts after a 5 s grace.
    await banner.waitFor({ timeout: (TTL_S + 15) * 1000 })
    expect(await banner.innerText()).toContain('Your session expired')
    expect(await page.locator('[data-testid=connection-status]').first().getAttribute('data-state')).not.toBe('online')
    await audit(page, 'session expired')

    // The page stays usable: a message written now waits, pending (not failed), unsent.
    const posts: Request[] = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && path(r).endsWith(`/conversations/${conversation}/messages`)) posts.push(r)
    })
    const text = `Written after the session expired ${run}`
    await sendFromUi(page, text)
    const pending = page.locator('[data-testid=message].msg--pending', { hasText: text })
    await pending.waitFor()
    const clientMessageId = await pending.getAttribute('data-client-message-id')
    await sleep(2000)
    expect(await page.locator('[data-testid=message].msg--failed').count()).toBe(0)
    expect(await pending.count()).toBe(1)
    expect(posts, 'nothing sent with a dead session').toEqual([])
    expect(await messageByText(cleo.page, text).count()).toBe(0)
    const draft = `A draft kept across the sign-in ${run}`
    await page.locator('[data-testid=composer-input]').fill(draft)

    // Signing in again goes through the provider and back to this conversation, where the
    // message goes, with its clientMessageId, once.
    await page.locator('[data-testid=sign-in-again]').click()
    await pickOnProvider(page, 'u-client-ana')
    await page.waitForURL((url) => url.pathname === `/messages/${conversation}`)
    const delivered = messageByText(page, text).and(page.locator('[data-seq]'))
    await delivered.waitFor()
    await messageByText(cleo.page, text).waitFor()
    expect(await delivered.getAttribute('data-client-message-id')).toBe(clientMessageId)
    expect(await page.locator('[data-testid=composer-input]').inputValue()).toBe(draft)
    await waitOnline(page)
    await sleep(1500)
    expect(await messageByText(page, text).count()).toBe(1)
    expect(await messageByText(cleo.page, text).count()).toBe(1)
    expect(posts.map((r) => (JSON.parse(r.postData() ?? '{}') as { clientMessageId: string }).clientMessageId)).toEqual([clientMessageId])
    expect(await page.locator('[data-testid=session-expired]').count()).toBe(0)
    await eventually(
      async () => (await fetch(`${baseUrl}/api/messaging/me`, { headers: { Authorization: `Bearer ${(await storedUser(page))!.access_token}` } })).status,
      (status) => status === 200,
      5000,
      'the new session works',
    )
  })
})
