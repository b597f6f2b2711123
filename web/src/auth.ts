// Signing in with OpenID Connect: authorization code + PKCE (S256), by oidc-client-ts, against
// whichever provider /config.json names — the local gateway's, Cognito's managed login or
// any standard one. The API's bearer token is the access token; who it belongs to comes
// from `GET /api/messaging/me` (see AuthCallbackPage), not from the token's claims, so
// providers that name roles differently (Cognito groups) need nothing here.
//
// - Tokens live in sessionStorage (per tab, gone with it), as the library keeps them.
// - Silent renewal uses the refresh token, `renewSecondsBeforeExpiry` before the access
//   token expires; when it fails (the refresh token was revoked or expired), the access
//   token's expiry is reported through `onExpired`, and the app keeps the user's work
//   (src/main.ts).

import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts'
import type { AuthConfig } from './config'
import { SESSION_EXPIRY_GRACE_MS } from './timing'

export interface Auth {
  /** The current access token (renewed in place), or null when not signed in. */
  accessToken(): string | null
  /**
   * The subject of this tab's sign-in, renewed first if its access token expired while the
   * tab was away; null when there is none or it cannot be renewed (then it is forgotten).
   */
  resume(): Promise<string | null>
  /** Leaves for the provider's sign-in; `redirect` is where to come back to afterwards. */
  signIn(redirect: string | null): Promise<void>
  /** Finishes a sign-in on the redirect URI (code for tokens, with the PKCE verifier). */
  completeSignIn(url?: string): Promise<{ subject: string; redirect: string | null }>
  /** Forgets the tokens and leaves for the provider's logout. */
  signOut(): Promise<void>
  /** Forgets the tokens, here only. */
  forget(): Promise<void>
  /** The access token expired and no renewal followed (silent renewal failed). */
  onExpired(handler: () => void): void
}

/** `value` if it is a path of this origin ("/messages/x"); never "//host" or "https://…". */
export function localPath(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null
  return value
}

export function createAuth(config: AuthConfig): Auth {
  const origin = location.origin
  const postLogoutUri = origin + config.postLogoutRedirectPath
  const manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: origin + config.redirectPath,
    post_logout_redirect_uri: postLogoutUri,
    scope: config.scope,
    response_type: 'code',
    // With a refresh token (the local provider and Cognito give one) the renewal is a
    // token request, no iframe: nothing the page's Content Security Policy forbids.
    automaticSilentRenew: true,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    accessTokenExpiringNotificationTimeInSeconds: config.renewSecondsBeforeExpiry,
    loadUserInfo: false,
    // Cognito's revocation endpoint is not in its discovery document.
    ...(config.revocationUrl ? { metadataSeed: { revocation_endpoint: config.revocationUrl } } : {}),
  })

  let user: User | null = null
  manager.events.addUserLoaded((loaded) => {
    user = loaded
  })
  manager.events.addUserUnloaded(() => {
    user = null
  })

  return {
    accessToken: () => user?.access_token ?? null,

    async resume() {
      // What cannot be read (storage edited by hand) counts as no sign-in.
      let stored = await manager.getUser().catch(() => null)
      if (stored?.expired) {
        stored = await manager.signinSilent().catch(() => null)
        if (!stored) await manager.removeUser()
      }
      user = stored
      return stored?.profile.sub ?? null
    },

    async signIn(redirect) {
      await manager.signinRedirect({ state: { redirect } })
    },

    async completeSignIn(url) {
      const signedIn = await manager.signinRedirectCallback(url)
      user = signedIn
      const state = signedIn.state as { redirect?: unknown } | undefined
      return { subject: signedIn.profile.sub, redirect: localPath(state?.redirect) }
    },

    async signOut() {
      if (config.logoutUrl) {
        // Cognito's /logout ends its own session but leaves refresh tokens valid: revoke
        // ours first, where the provider allows it (a failure must not keep anyone signed in).
        await manager.revokeTokens(['refresh_token']).catch(() => undefined)
        await manager.removeUser()
        const target = new URL(config.logoutUrl)
        target.searchParams.set('client_id', config.clientId)
        target.searchParams.set('logout_uri', postLogoutUri)
        location.assign(target.toString())
        return
      }
      try {
        // With id_token_hint and post_logout_redirect_uri; the tokens are forgotten first.
        await manager.signoutRedirect()
      } catch {
        // A provider without an end_session_endpoint: signed out of this tab is all there is.
        await manager.removeUser()
        location.assign(postLogoutUri)
      }
    },

    forget: () => manager.removeUser(),

    onExpired(handler) {
      manager.events.addAccessTokenExpired(() => {
        // Waking from a sleep, the renewal and the expiry fall due at once: a renewal that
        // lands within the grace means the session goes on.
        setTimeout(() => {
          if (!user || user.expired) handler()
        }, SESSION_EXPIRY_GRACE_MS)
      })
    },
  }
}

// --- the app's instance -------------------------------------------------------------------

let instance: Auth | null = null

export function setAuth(auth: Auth | null) {
  instance = auth
}

/** The app's sign-in, made at start from /config.json. */
export function useAuth(): Auth {
  if (!instance) throw new Error('auth is not configured (no /config.json yet)')
  return instance
}
