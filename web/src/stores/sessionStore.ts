// Who is signed in, as this tab knows it. The tokens are oidc-client-ts's (src/auth.ts);
// kept here, in sessionStorage beside them, is who they belong to: the profile that
// `GET /api/messaging/me` answered right after signing in, with the token subject it goes
// with, so that a reload knows at once who is here and whether the admin screens are
// theirs. The live profile (a new name) is the messaging store's `me`.

import { defineStore } from 'pinia'
import type { Person, Session } from '../types'

export const SESSION_KEY = 'messaging.session'
/** The login's notice, kept across the provider's logout redirect (a full page load). */
export const NOTICE_KEY = 'messaging.notice'

/** What the login says when a stored sign-in could not be renewed, or an account was disabled. */
export const SESSION_ENDED_NOTICE = 'Your session ended or your account was disabled. Please sign in again.'
export const SIGNED_OUT_NOTICE = 'You signed out.'

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage
  } catch {
    return null
  }
}

export function loadSession(): Session | null {
  const raw = storage()?.getItem(SESSION_KEY)
  if (!raw) return null
  try {
    const s = JSON.parse(raw) as Session
    return typeof s.subject === 'string' && s.subject && typeof s.user?.userId === 'string' && s.user.userId ? s : null
  } catch {
    return null
  }
}

/** The notice a previous page of this tab left for the login, read once. */
function takeNotice(): string | null {
  const notice = storage()?.getItem(NOTICE_KEY) ?? null
  storage()?.removeItem(NOTICE_KEY)
  return notice
}

export const useSessionStore = defineStore('session', {
  state: () => ({
    session: loadSession() as Session | null,
    /** Why the login is shown instead of going straight to the provider. */
    notice: takeNotice(),
    /**
     * The sign-in ended under the user's feet (renewal failed, or a 401): the page, its
     * store and what is waiting to be sent stay, until they sign in again.
     */
    expired: false,
  }),
  getters: {
    user: (s): Person | null => s.session?.user ?? null,
    subject: (s): string | null => s.session?.subject ?? null,
    isAdmin: (s): boolean => s.session?.user.role === 'admin',
    signedIn: (s): boolean => s.session !== null,
  },
  actions: {
    signIn(subject: string, profile: Person) {
      const session: Session = {
        subject,
        user: { userId: profile.userId, name: profile.name, role: profile.role, organisation: profile.organisation ?? null },
      }
      this.session = session
      this.expired = false
      this.clearNotice()
      storage()?.setItem(SESSION_KEY, JSON.stringify(session))
    },
    signOut(notice: string | null = null) {
      this.session = null
      this.expired = false
      this.notice = notice
      storage()?.removeItem(SESSION_KEY)
    },
    /** A notice for the login of the next page load (after the provider's logout redirect). */
    leaveNotice(notice: string) {
      storage()?.setItem(NOTICE_KEY, notice)
    },
    /** Only a signed-in session can expire; a second report changes nothing. */
    expire(): boolean {
      if (!this.signedIn || this.expired) return false
      this.expired = true
      return true
    },
    clearNotice() {
      this.notice = null
      storage()?.removeItem(NOTICE_KEY)
    },
  },
})
