// The web client's Cognito path, against the local provider behaving as Cognito does
// where Cognito differs (`--oidc-like-cognito`, 8-second tokens): no end_session or
// revocation endpoint in discovery (config.json names /logout and /oauth2/revoke), no
// `iss` on the redirect, refresh tokens that do not rotate, access tokens with
// `client_id` and `cognito:groups` instead of `aud` and `role`. Signing in, chatting,
// renewing and signing out must all work as they do against Cognito's managed login.

import type { Browser, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './gateway'
import { createConversation, launchBrowser, messageByText, openAs, openConversation, sendFromUi, type UserPage } from './helpers'

/** Tokens' lifetime here; renewal starts half of it before expiry. */
const TTL_S = 12
const CLIENT_ID = 'messaging-web'
const run = Date.now().toString(36)

let gateway: Gateway
let baseUrl: string
let browser: Browser
const pages: UserPage[] = []

function stored(page: Page): Promise<{ access_token: string; refresh_token?: string } | null> {
  return page.evaluate((key) => {
    const raw = sessionStorage.getItem(key)
    return raw ? JSON.parse(raw) : null
  }, `oidc.user:${baseUrl}:${CLIENT_ID}`)
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

const path = (r: Request) => new URL(r.url()).pathname

describe('signing in as with Cognito (the local provider --oidc-like-cognito)', () => {
  let cid: string
  let ana: UserPage
  let ben: UserPage

  beforeAll(async () => {
    gateway = await startGateway(['--oidc-token-ttl', String(TTL_S), '--oidc-like-cognito'])
    baseUrl = gateway.baseUrl
    browser = await launchBrowser()
    cid = await createConversation(baseUrl, 'u-team-ben', `Cognito-like ${run}`, ['u-client-ana'])
  })

  afterAll(async () => {
    const errors = pages.flatMap((u) => u.errors)
    await browser?.close()
    await gateway?.stop()
    expect(errors, 'no script errors in the pages').toEqual([])
  })

  it('signs in without an iss on the redirect, with Cognito-shaped tokens the API accepts; two people chat', async () => {
    const config = (await (await fetch(`${baseUrl}/config.json`)).json()) as { auth: Record<string, unknown> }
    expect(config.auth).toMatchObject({ logoutUrl: `${baseUrl}/logout`, revocationUrl: `${baseUrl}/oauth2/revoke` })
    const discovery = (await (await fetch(`${baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
    expect(discovery.end_session_endpoint).toBeUndefined()
    expect(discovery.revocation_endpoint).toBeUndefined()

    ana = await openAs(browser, baseUrl, 'u-client-ana')
    ben = await openAs(browser, baseUrl, 'u-team-ben')
    pages.push(ana, ben)
    const access = claims((await stored(ben.page))!.access_token)
    expect(access.aud).toBeUndefined()
    expect(access.role).toBeUndefined()
    expect(access).toMatchObject({ client_id: CLIENT_ID, 'cognito:groups': ['team'], username: 'u-team-ben' })
    await openConversation(ana, cid)
    await openConversation(ben, cid)
    await sendFromUi(ben.page, `Hello from Ben ${run}`)
    await messageByText(ana.page, `Hello from Ben ${run}`).waitFor()
  })

  it('renews with the same refresh token (Cognito does not rotate it) and keeps chatting', async () => {
    const refreshes: Request[] = []
    ana.page.on('request', (r) => {
      if (path(r) === '/oidc/token' && new URLSearchParams(r.postData() ?? '').get('grant_type') === 'refresh_token') refreshes.push(r)
    })
    const before = (await stored(ana.page))!
    await new Promise((r) => setTimeout(r, (TTL_S + 3) * 1000))
    const after = (await stored(ana.page))!
    expect(refreshes.length, 'a refresh_token grant went out').toBeGreaterThanOrEqual(1)
    expect(after.access_token).not.toBe(before.access_token)
    expect(after.refresh_token, 'the refresh token the provider gave is kept').toBe(before.refresh_token)
    // Both sessions are alive and online (each renewed on its own)...
    for (const [who, user] of [['Ana', ana], ['Ben', ben]] as const) {
      expect(await user.page.locator('[data-testid=session-expired]').count(), `${who}'s session goes on`).toBe(0)
      await user.page.locator('[data-testid=connection-status][data-state=online]').first().waitFor({ timeout: 10_000 })
    }
    // ...so a message is stored (it has its seq on the sender's page) and delivered.
    const text = `After renewal from Ana ${run}`
    await sendFromUi(ana.page, text)
    await messageByText(ana.page, text).and(ana.page.locator('[data-seq]')).waitFor()
    await messageByText(ben.page, text).waitFor()
  })

  it('signs out through Cognito\'s /logout, having revoked the refresh token at /oauth2/revoke first', async () => {
    const page = ana.page
    const refresh = (await stored(page))!.refresh_token!
    const revoke = page.waitForRequest((r) => path(r) === '/oauth2/revoke')
    const logout = page.waitForRequest((r) => path(r) === '/logout')
    await page.locator('[data-testid=user-menu] button[aria-haspopup=menu]').click()
    await page.getByRole('menuitem', { name: 'Sign out' }).click()
    const revoked = new URLSearchParams((await revoke).postData() ?? '')
    expect(revoked.get('token')).toBe(refresh)
    const asked = new URL((await logout).url()).searchParams
    expect(Object.fromEntries(asked)).toEqual({ client_id: CLIENT_ID, logout_uri: `${baseUrl}/login` })
    await page.waitForURL((url) => url.pathname === '/login')
    await page.locator('.notice[role=status]', { hasText: 'You signed out.' }).waitFor()
    expect(await stored(page)).toBeNull()
    // Cognito's /logout leaves refresh tokens valid: it is the revocation that ended it.
    const answer = await fetch(`${baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refresh }),
    })
    expect(answer.status).toBe(400)
  })
})
