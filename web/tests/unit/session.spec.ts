// Signing in with OpenID Connect, as the app sees it: who is signed in (the session
// store), a session that expires mid-conversation (nothing the user wrote is lost), the
// outbox carried across signing in again, and the login and callback screens. The
// provider itself (oidc-client-ts against the local gateway's) is the browser tests'.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import { localPath, setAuth, type Auth } from '../../src/auth'
import SessionExpired from '../../src/components/SessionExpired.vue'
import { drafts } from '../../src/composables/drafts'
import { OUTBOX_KEY, restoreOutbox, saveOutbox, takeOutbox } from '../../src/composables/outbox'
import { createMessaging, startMessaging, stopMessaging, suspendMessaging, useMessaging, type Messaging } from '../../src/composables/useMessaging'
import AuthCallbackPage from '../../src/pages/AuthCallbackPage.vue'
import LoginPage from '../../src/pages/LoginPage.vue'
import { useMessagingStore, type MessagingStore } from '../../src/stores/messagingStore'
import { NOTICE_KEY, SESSION_ENDED_NOTICE, SESSION_KEY, SIGNED_OUT_NOTICE, useSessionStore } from '../../src/stores/sessionStore'
import type { FileMeta } from '../../src/types'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, flush, message, profile } from './fixtures'

const OTHER = '01HZCONVERSATION0000000002'
const FILE: FileMeta = { id: 'f-1', name: 'plan.pdf', contentType: 'application/pdf', size: 1234 }

let server: FakeServer
let messaging: Messaging | null = null

function fakeAuth(overrides: Partial<Auth> = {}) {
  return {
    accessToken: () => 'access-1',
    resume: vi.fn(async () => null),
    signIn: vi.fn(async (_redirect: string | null) => undefined),
    completeSignIn: vi.fn(async () => ({ subject: ME, redirect: null as string | null })),
    signOut: vi.fn(async () => undefined),
    forget: vi.fn(async () => undefined),
    onExpired: vi.fn(),
    ...overrides,
  } satisfies Auth
}

function newMessaging(onUnauthorized?: () => void): Messaging {
  const store = useMessagingStore()
  store.setMe(BEN)
  const api = new ApiClient({ getToken: () => 'access-1', fetch: server.fetch, onUnauthorized })
  setApi(api)
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  return messaging
}

const pendingOf = (store: MessagingStore, id = CID) => store.threads[id]?.pending.map((p) => [p.body, p.status]) ?? []

/** A router with the app's public screens and stand-ins for the rest. */
function testRouter(): Router {
  const page = (name: string) => defineComponent({ name, render: () => h('p', name) })
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginPage },
      { path: '/auth/callback', component: AuthCallbackPage },
      { path: '/messages/:conversationId?', name: 'messages', component: page('messages') },
      { path: '/admin', component: page('admin') },
    ],
  })
}

beforeEach(() => {
  setActivePinia(createPinia())
  sessionStorage.clear()
  drafts.clear()
  FakeWebSocket.reset()
  server = new FakeServer()
})

afterEach(() => {
  messaging?.stop()
  messaging = null
  stopMessaging()
  setApi(null)
  setAuth(null)
  document.body.innerHTML = ''
})

describe('the session store', () => {
  it('keeps who signed in, with their token subject, across a reload of the tab', () => {
    useSessionStore().signIn('sub-ben', profile(ME))
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!)).toEqual({ subject: 'sub-ben', user: BEN })

    setActivePinia(createPinia()) // a reload
    const session = useSessionStore()
    expect([session.signedIn, session.subject, session.user, session.isAdmin]).toEqual([true, 'sub-ben', BEN, false])
  })

  it('forgets them on sign-out; a notice left for the next page load is shown there, once', () => {
    const session = useSessionStore()
    session.signIn('sub-ben', profile(ME))
    session.signOut(SIGNED_OUT_NOTICE)
    session.leaveNotice(SIGNED_OUT_NOTICE)
    expect([session.signedIn, session.notice, sessionStorage.getItem(SESSION_KEY)]).toEqual([false, SIGNED_OUT_NOTICE, null])

    setActivePinia(createPinia()) // back from the provider's logout
    expect(useSessionStore().notice).toBe(SIGNED_OUT_NOTICE)
    expect(sessionStorage.getItem(NOTICE_KEY)).toBeNull()
    setActivePinia(createPinia()) // and a reload after that
    expect(useSessionStore().notice).toBeNull()
  })

  it('expires only a signed-in session, and only once; signing in again ends the expiry', () => {
    const session = useSessionStore()
    expect(session.expire()).toBe(false)
    session.signIn('sub-ben', profile(ME))
    expect(session.expire()).toBe(true)
    expect(session.expire()).toBe(false)
    expect([session.expired, session.signedIn]).toEqual([true, true]) // the page stays
    session.signIn('sub-ben', profile(ME))
    expect(session.expired).toBe(false)
  })
})

describe('a session that expires mid-conversation', () => {
  it('a send answered 401 stays pending, not failed, and the 401 is reported once', async () => {
    const onUnauthorized = vi.fn()
    const m = newMessaging(onUnauthorized)
    server.failures.push({ match: (c) => c.method === 'POST' && c.path.endsWith('/messages'), status: 401, times: 1, error: { code: 'unauthenticated', message: 'token expired' } })
    m.sendMessage(CID, 'still here')
    await flush()
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(pendingOf(m.store)).toEqual([['still here', 'sending']])
  })

  it('suspended, the service keeps the pages working: the socket closes and new sends wait pending, unsent', async () => {
    const store = useMessagingStore()
    store.setMe(BEN)
    const api = new ApiClient({ getToken: () => 'access-1', fetch: server.fetch })
    const running = startMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
    await flush()
    FakeWebSocket.last().open()
    expect(store.connection).toBe('online')

    suspendMessaging()
    expect(useMessaging()).toBe(running)
    expect(FakeWebSocket.last().closed).not.toBeNull()
    expect(store.connection).toBe('idle')
    running.sendMessage(CID, 'written after it expired')
    await flush()
    expect(server.callsTo('POST', '/messages')).toEqual([])
    expect(pendingOf(store)).toEqual([['written after it expired', 'sending']])
  })

  it('"Sign in again" keeps the outbox and leaves for the provider, to come back to this page', async () => {
    const auth = fakeAuth()
    setAuth(auth)
    const session = useSessionStore()
    session.signIn('sub-ben', profile(ME))
    session.expire()
    const store = useMessagingStore()
    store.addPending(CID, { clientMessageId: 'cm-1', body: 'one' })
    drafts.set(CID, 'half a thought')
    const router = testRouter()
    await router.push(`/messages/${CID}`)
    const wrapper = mount(SessionExpired, { global: { plugins: [router] } })
    expect(wrapper.get('[data-testid=session-expired]').text()).toContain('Your session expired')

    await wrapper.get('[data-testid=sign-in-again]').trigger('click')
    expect(auth.signIn).toHaveBeenCalledWith(`/messages/${CID}`)
    expect(takeOutbox(ME)).toMatchObject({ sends: [{ conversationId: CID, clientMessageId: 'cm-1', body: 'one' }], drafts: [[CID, 'half a thought']] })
  })
})

describe('the outbox across signing in again', () => {
  function storeWithPending(): MessagingStore {
    const store = useMessagingStore()
    store.setMe(BEN)
    store.addPending(CID, { clientMessageId: 'cm-1', body: 'first', files: [FILE] })
    store.addPending(CID, { clientMessageId: 'cm-2', body: 'second' })
    store.addPending(OTHER, { clientMessageId: 'cm-3', body: 'elsewhere' })
    store.markPendingFailed(OTHER, 'cm-3', 'No connection to the server.')
    return store
  }

  it('keeps every pending send (conversation, clientMessageId, body, files) and the non-empty drafts', () => {
    saveOutbox(ME, storeWithPending(), new Map([[CID, 'draft'], [OTHER, '  ']]))
    expect(takeOutbox(ME)).toEqual({
      userId: ME,
      sends: [
        { conversationId: CID, clientMessageId: 'cm-1', body: 'first', fileIds: ['f-1'], files: [FILE] },
        { conversationId: CID, clientMessageId: 'cm-2', body: 'second', fileIds: [], files: [] },
        { conversationId: OTHER, clientMessageId: 'cm-3', body: 'elsewhere', fileIds: [], files: [] },
      ],
      drafts: [[CID, 'draft']],
    })
  })

  it('gives it back to the same user only: another user signing in discards it unseen', () => {
    saveOutbox(ME, storeWithPending(), new Map([[CID, 'draft']]))
    expect(takeOutbox(ANA)).toBeNull()
    expect(sessionStorage.getItem(OUTBOX_KEY)).toBeNull()
    expect(takeOutbox(ME)).toBeNull() // gone for good, not kept for later
  })

  it('ignores what it cannot read', () => {
    sessionStorage.setItem(OUTBOX_KEY, '{not json')
    expect(takeOutbox(ME)).toBeNull()
    sessionStorage.setItem(OUTBOX_KEY, JSON.stringify({ userId: ME, sends: [{ conversationId: CID }, { conversationId: CID, clientMessageId: 'ok', body: 'b', fileIds: [], files: [] }], drafts: [[CID, 7]] }))
    expect(takeOutbox(ME)).toEqual({ userId: ME, sends: [{ conversationId: CID, clientMessageId: 'ok', body: 'b', fileIds: [], files: [] }], drafts: [] })
  })

  it('restored, the sends are pending again and go with the same clientMessageId: each is stored exactly once', async () => {
    saveOutbox(ME, storeWithPending(), new Map([[CID, 'draft']]))
    const outbox = takeOutbox(ME)!
    setActivePinia(createPinia()) // the page after the provider's redirect
    const m = newMessaging()
    // The first one had reached the server before the session ended (its answer was lost).
    server.messages.push(message(1, { senderId: ME, senderName: 'Ben Carter', body: 'first', clientMessageId: 'cm-1' }))
    const restoredDrafts = new Map<string, string>()

    restoreOutbox(outbox, m, restoredDrafts)
    expect(pendingOf(m.store)).toEqual([['first', 'sending'], ['second', 'sending']])
    expect(restoredDrafts.get(CID)).toBe('draft')
    await flush(20)

    const posts = (id: string) => server.callsTo('POST', `/conversations/${id}/messages`).map((c) => (c.body as { clientMessageId: string }).clientMessageId)
    expect(posts(CID)).toEqual(['cm-1', 'cm-2']) // in the order written
    expect(posts(OTHER)).toEqual(['cm-3']) // a failed one goes again too: signing in again said "carry on"
    expect((server.callsTo('POST', `/conversations/${CID}/messages`)[0]!.body as { fileIds?: string[] }).fileIds).toEqual(['f-1'])
    const stored = server.messages.map((x) => x.clientMessageId)
    expect(stored.filter((c) => c === 'cm-1')).toHaveLength(1)
    expect(stored.filter((c) => c === 'cm-2')).toHaveLength(1)
    expect(pendingOf(m.store)).toEqual([])
    expect(m.store.threads[CID]!.messages.map((x) => x.body)).toEqual(['first', 'second'])
  })
})

describe('the login and the sign-in callback', () => {
  it('the login goes straight on to the provider, keeping the page wanted', async () => {
    const auth = fakeAuth()
    setAuth(auth)
    const router = testRouter()
    await router.push(`/login?redirect=/messages/${CID}`)
    const wrapper = mount(LoginPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(auth.signIn).toHaveBeenCalledWith(`/messages/${CID}`)
    expect(wrapper.find('[data-testid=sign-in]').exists()).toBe(false)
  })

  it('with a notice to show, the login shows it and waits for "Sign in"', async () => {
    const auth = fakeAuth()
    setAuth(auth)
    useSessionStore().signOut(SESSION_ENDED_NOTICE)
    const router = testRouter()
    await router.push('/login')
    const wrapper = mount(LoginPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(auth.signIn).not.toHaveBeenCalled()
    expect(wrapper.get('.notice').text()).toBe(SESSION_ENDED_NOTICE)
    await wrapper.get('[data-testid=sign-in]').trigger('click')
    expect(auth.signIn).toHaveBeenCalledWith(null)
  })

  it('only paths of this origin are redirects', () => {
    expect(localPath(`/messages/${CID}`)).toBe(`/messages/${CID}`)
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'messages', ['/a'], null, undefined]) expect(localPath(bad)).toBeNull()
  })

  it('the callback starts the session from GET /me and goes where the sign-in was headed', async () => {
    setAuth(fakeAuth({ completeSignIn: vi.fn(async () => ({ subject: 'sub-ben', redirect: `/messages/${CID}` })) }))
    setApi(new ApiClient({ getToken: () => 'access-1', fetch: server.fetch }))
    const router = testRouter()
    await router.push('/auth/callback?code=c&state=s')
    mount(AuthCallbackPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(server.callsTo('GET', '/api/messaging/me')).toHaveLength(1)
    expect(useSessionStore().session).toEqual({ subject: 'sub-ben', user: BEN })
    expect(router.currentRoute.value.fullPath).toBe(`/messages/${CID}`)
  })

  it('without a page to return to, the callback goes to the admin screens for an admin', async () => {
    setAuth(fakeAuth())
    server.overrides.push({ match: (c) => c.path === '/api/messaging/me', handler: () => ({ status: 200, body: profile('u-admin-dana', { role: 'admin', name: 'Dana Reyes' }) }) })
    setApi(new ApiClient({ getToken: () => 'access-1', fetch: server.fetch }))
    const router = testRouter()
    await router.push('/auth/callback?code=c&state=s')
    mount(AuthCallbackPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/admin')
  })

  it.each([
    ['a state this tab never issued', new Error('No matching state found in storage'), 'No matching state found in storage'],
    ['the token endpoint refusing the code', Object.assign(new Error('invalid_grant'), { error: 'invalid_grant' }), 'invalid_grant'],
  ])('a refused callback (%s) leaves no session and says why, with "Try again"', async (_case, error, reason) => {
    const auth = fakeAuth({ completeSignIn: vi.fn(async () => Promise.reject(error)) })
    setAuth(auth)
    setApi(new ApiClient({ getToken: () => null, fetch: server.fetch }))
    const router = testRouter()
    await router.push('/auth/callback?code=c&state=tampered')
    const wrapper = mount(AuthCallbackPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(wrapper.get('[data-testid=sign-in-error]').text()).toBe(`Sign-in failed: ${reason}`)
    expect(auth.forget).toHaveBeenCalled()
    expect(useSessionStore().signedIn).toBe(false)
    expect(server.callsTo('GET', '/api/messaging/me')).toEqual([])
    await wrapper.get('[data-testid=sign-in]').trigger('click')
    expect(auth.signIn).toHaveBeenCalledWith(null)
  })

  it('a sign-in the directory refuses (GET /me answers 401) leaves no session either', async () => {
    const auth = fakeAuth()
    setAuth(auth)
    server.failures.push({ match: (c) => c.path === '/api/messaging/me', status: 401, times: 1, error: { code: 'unauthenticated', message: 'this account is disabled' } })
    setApi(new ApiClient({ getToken: () => 'access-1', fetch: server.fetch }))
    const router = testRouter()
    await router.push('/auth/callback?code=c&state=s')
    const wrapper = mount(AuthCallbackPage, { global: { plugins: [router] } })
    await flushPromises()
    expect(wrapper.get('[data-testid=sign-in-error]').text()).toBe('Sign-in failed: this account is disabled')
    expect(auth.forget).toHaveBeenCalled()
    expect(useSessionStore().signedIn).toBe(false)
  })
})
