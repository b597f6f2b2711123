// The runtime configuration (/config.json): what the local gateway and a deployed stack
// serve parses; anything else is refused, naming the field.

import { describe, expect, it, vi } from 'vitest'
import { ConfigError, loadConfig, parseConfig } from '../../src/config'

/** What the local gateway serves at GET /config.json. */
function local(overrides: Record<string, unknown> = {}, auth: Record<string, unknown> = {}) {
  return {
    apiBaseUrl: '',
    wsUrl: '',
    auth: {
      authority: 'http://127.0.0.1:8080',
      clientId: 'messaging-web',
      scope: 'openid profile email',
      redirectPath: '/auth/callback',
      postLogoutRedirectPath: '/login',
      logoutUrl: null,
      revocationUrl: null,
      renewSecondsBeforeExpiry: 60,
      ...auth,
    },
    ...overrides,
  }
}

describe('parseConfig', () => {
  it("accepts the local gateway's file as it is", () => {
    expect(parseConfig(local())).toEqual(local())
  })

  it('accepts a deployed stack: API Gateway URLs and Cognito with its logout URL', () => {
    const config = parseConfig(
      local(
        {
          apiBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/',
          wsUrl: 'wss://def456.execute-api.eu-west-1.amazonaws.com/prod',
        },
        {
          authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf',
          clientId: '4abcdefghijklmnopqrstuvwx',
          scope: 'openid email profile',
          logoutUrl: 'https://messaging.auth.eu-west-1.amazoncognito.com/logout',
          revocationUrl: 'https://messaging.auth.eu-west-1.amazoncognito.com/oauth2/revoke',
          renewSecondsBeforeExpiry: 4,
        },
      ),
    )
    // REST paths are appended to the base: no trailing slash.
    expect(config.apiBaseUrl).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod')
    expect(config.wsUrl).toBe('wss://def456.execute-api.eu-west-1.amazonaws.com/prod')
    expect(config.auth.logoutUrl).toBe('https://messaging.auth.eu-west-1.amazoncognito.com/logout')
    expect(config.auth.revocationUrl).toBe('https://messaging.auth.eu-west-1.amazoncognito.com/oauth2/revoke')
    expect(config.auth.renewSecondsBeforeExpiry).toBe(4)
  })

  it('takes a missing logoutUrl or revocationUrl as none', () => {
    const { logoutUrl: _none, ...auth } = local().auth
    expect(parseConfig({ ...local(), auth }).auth.logoutUrl).toBeNull()
    expect(parseConfig({ ...local(), auth }).auth.revocationUrl).toBeNull()
  })

  it.each([
    ['not an object', [], 'config: must be an object'],
    ['no auth', local({ auth: undefined }), 'auth: must be an object'],
    ['apiBaseUrl not a string', local({ apiBaseUrl: 42 }), 'apiBaseUrl: must be a string'],
    ['apiBaseUrl relative', local({ apiBaseUrl: '/api' }), 'apiBaseUrl: must be an absolute URL'],
    ['wsUrl over http', local({ wsUrl: 'https://x.example.com/prod' }), 'wsUrl: must be a ws: or wss: URL'],
    ['no authority', local({}, { authority: '' }), 'auth.authority: must not be empty'],
    ['authority not a URL', local({}, { authority: 'cognito' }), 'auth.authority: must be an absolute URL'],
    ['authority with another scheme', local({}, { authority: 'ftp://idp.example.com' }), 'auth.authority: must be a http: or https: URL'],
    ['no client id', local({}, { clientId: ' ' }), 'auth.clientId: must not be empty'],
    ['a scope without openid', local({}, { scope: 'profile email' }), 'auth.scope: must include openid'],
    ['a redirect path that leaves the origin', local({}, { redirectPath: '//evil.example/cb' }), 'auth.redirectPath: must be a path starting with a single /'],
    ['a redirect URL instead of a path', local({}, { redirectPath: 'https://evil.example/cb' }), 'auth.redirectPath: must be a path starting with a single /'],
    ['no post-logout path', local({}, { postLogoutRedirectPath: undefined }), 'auth.postLogoutRedirectPath: must be a string'],
    ['a logout URL that is not one', local({}, { logoutUrl: 'logout' }), 'auth.logoutUrl: must be an absolute URL'],
    ['a logout URL that is not a string', local({}, { logoutUrl: true }), 'auth.logoutUrl: must be a string or null'],
    ['a revocation URL that is not one', local({}, { revocationUrl: 'revoke' }), 'auth.revocationUrl: must be an absolute URL'],
    ['a renewal time of 0', local({}, { renewSecondsBeforeExpiry: 0 }), 'auth.renewSecondsBeforeExpiry: must be a positive number of seconds'],
    ['a renewal time as text', local({}, { renewSecondsBeforeExpiry: '60' }), 'auth.renewSecondsBeforeExpiry: must be a positive number of seconds'],
  ])('refuses %s, naming the field', (_case, value, message) => {
    expect(() => parseConfig(value)).toThrow(new ConfigError(message))
  })
})

describe('loadConfig', () => {
  it('fetches /config.json past any cache and parses it', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => new Response(JSON.stringify(local())))
    await expect(loadConfig(fetch)).resolves.toEqual(local())
    expect(fetch).toHaveBeenCalledWith('/config.json', expect.objectContaining({ cache: 'no-store' }))
  })

  it('says what is wrong when the file is missing, is not JSON, or cannot be fetched', async () => {
    await expect(loadConfig(async () => new Response('not found', { status: 404 }))).rejects.toThrow(new ConfigError('/config.json answered 404'))
    await expect(loadConfig(async () => new Response('<html>'))).rejects.toThrow(new ConfigError('/config.json is not JSON'))
    await expect(loadConfig(async () => Promise.reject(new TypeError('Failed to fetch')))).rejects.toThrow(
      new ConfigError('/config.json could not be fetched: Failed to fetch'),
    )
    await expect(loadConfig(async () => new Response(JSON.stringify(local({}, { clientId: '' }))))).rejects.toThrow('auth.clientId: must not be empty')
  })
})
