// Who is signed in. The dev login's token lives in sessionStorage: it survives a reload
// of the tab but not the tab itself, and is never shared between tabs. The user kept here
// is who signed in, as the login answered; their live profile (a new name) is the
// messaging store's `me`.

import { SESSION_EXPIRY_MARGIN_MS } from '../timing'
import { defineStore } from 'pinia'
import type { DevLoginResponse, Person, Session } from '../types'

export const SESSION_KEY = 'messaging.session'

/** What the login says after a 401: the token expired, or an admin disabled the account. */
export const SESSION_ENDED_NOTICE = 'Your session ended or your account was disabled. Please sign in again.'

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage
  } catch {
    return null
  }
}

export function loadSession(now: number = Date.now()): Session | null {
  const raw = storage()?.getItem(SESSION_KEY)
  if (!raw) return null
  try {
    const s = JSON.parse(raw) as Session
    if (!s.token || !s.user?.userId || typeof s.expiresAt !== 'number') return null
    // Expired (with a minute of margin): sign in again rather than fail on every call.
    if (s.expiresAt - SESSION_EXPIRY_MARGIN_MS <= now) return null
    return s
  } catch {
    return null
  }
}

export const useSessionStore = defineStore('session', {
  state: () => ({
    session: loadSession() as Session | null,
    /** Why the user was sent back to the login screen, if not by choice. */
    notice: null as string | null,
  }),
  getters: {
    token: (s): string | null => s.session?.token ?? null,
    user: (s): Person | null => s.session?.user ?? null,
    isAdmin: (s): boolean => s.session?.user.role === 'admin',
    signedIn: (s): boolean => s.session !== null,
  },
  actions: {
    signIn(login: DevLoginResponse, now: number = Date.now()) {
      const session: Session = {
        token: login.token,
        user: {
          userId: login.user.userId,
          name: login.user.name,
          role: login.user.role,
          organisation: login.user.organisation ?? null,
        },
        expiresAt: now + login.expiresInSeconds * 1000,
      }
      this.session = session
      this.notice = null
      storage()?.setItem(SESSION_KEY, JSON.stringify(session))
    },
    signOut(notice: string | null = null) {
      this.session = null
      this.notice = notice
      storage()?.removeItem(SESSION_KEY)
    },
  },
})
