// Notifications in the client: the settings form (load, save, the server's refusal shown
// at its field), Web Push on this device (asked only on the user's click), the
// per-conversation level and emails, and the public unsubscribe page.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import type { NotificationSettings } from '../../src/api/notifications'
import ConversationMenu from '../../src/components/ConversationMenu.vue'
import ConversationNotificationsDialog from '../../src/components/ConversationNotificationsDialog.vue'
import NotificationSettingsForm from '../../src/components/NotificationSettingsForm.vue'
import PushDeviceSettings from '../../src/components/PushDeviceSettings.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { base64UrlToBytes, forgetPushOnSignOut, subscriptionKey, usePushDevice, type PushEnvironment } from '../../src/composables/usePushDevice'
import UnsubscribePage from '../../src/pages/UnsubscribePage.vue'
import { createAppRouter } from '../../src/router'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { useSessionStore } from '../../src/stores/sessionStore'
import type { ServerEvent } from '../../src/types'
import { browserTimeZone, delayLabel, messageForField, timeZoneOptions } from '../../src/utils/notificationSettings'
import { BEN, CID, FakeServer, FakeWebSocket, detail, summary, type Call } from './fixtures'

const STORED: NotificationSettings = { level: 'all', push: true, email: true, emailDelaySeconds: 600, quietHours: null }

let server: FakeServer
let api: ApiClient
let messaging: Messaging

beforeEach(() => {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  localStorage.clear()
  server = new FakeServer()
  api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  const store = useMessagingStore()
  store.setMe(BEN)
  useSessionStore().signIn('sub-ben', BEN)
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
})

afterEach(() => {
  messaging.stop()
  setMessaging(null)
  setApi(null)
  document.body.innerHTML = ''
})

/** Answers `/me/notifications` like the server: GET the stored object, PUT stores and returns it (or `refuse`). */
function serveSettings(initial: NotificationSettings, refuse?: (body: NotificationSettings) => { field: string; message: string } | null) {
  let stored = initial
  server.overrides.push({
    match: (c) => c.path === '/api/messaging/me/notifications',
    handler: (c: Call) => {
      if (c.method === 'GET') return { status: 200, body: stored }
      const body = c.body as NotificationSettings
      const refusal = refuse?.(body)
      if (refusal) return { status: 400, body: { error: { code: 'validation_failed', ...refusal } } }
      stored = body
      return { status: 200, body: stored }
    },
  })
}

describe('the notification settings form', () => {
  async function mountForm() {
    const w = mount(NotificationSettingsForm, { attachTo: document.body })
    await flushPromises()
    return w
  }

  it('shows the stored settings, and saves the whole object with the changes; "Saved" until the next change', async () => {
    serveSettings(STORED)
    const w = await mountForm()
    expect((w.get('[data-testid=level-all]').element as HTMLInputElement).checked).toBe(true)
    expect((w.get('[data-testid=push]').element as HTMLInputElement).checked).toBe(true)
    expect((w.get('[data-testid=email-delay]').element as HTMLSelectElement).value).toBe('600')
    expect(w.findAll('[data-testid=email-delay] option').map((o) => o.text())).toEqual([
      'Immediately',
      'After 5 minutes',
      'After 10 minutes',
      'After 30 minutes',
      'After 1 hour',
      'After 4 hours',
    ])
    expect(w.find('[data-testid=quiet-start]').exists()).toBe(false)

    await w.get('[data-testid=level-mentions]').setValue(true)
    await w.get('[data-testid=push]').setValue(false)
    await w.get('[data-testid=email-delay]').setValue('1800')
    await w.get('[data-testid=quiet-hours]').setValue(true)
    // Quiet hours start from 22:00–07:00 in the browser's time zone.
    expect((w.get('[data-testid=quiet-start]').element as HTMLInputElement).value).toBe('22:00')
    expect((w.get('[data-testid=quiet-time-zone]').element as HTMLSelectElement).value).toBe(browserTimeZone())
    await w.get('[data-testid=quiet-end]').setValue('06:30')
    await w.get('[data-testid=quiet-time-zone]').setValue('Europe/Paris')
    expect(w.get('[data-testid=notifications-status]').attributes('role')).toBe('status')
    expect(w.get('[data-testid=notifications-status]').text()).toBe('')

    await w.get('form').trigger('submit')
    await flushPromises()
    const puts = server.callsTo('PUT', '/api/messaging/me/notifications')
    expect(puts.map((c) => c.body)).toEqual([
      { level: 'mentions', push: false, email: true, emailDelaySeconds: 1800, quietHours: { start: '22:00', end: '06:30', timeZone: 'Europe/Paris' } },
    ])
    expect(w.get('[data-testid=notifications-status]').text()).toBe('Saved')
    const stored = w.emitted<[NotificationSettings]>('stored')!
    expect(stored[stored.length - 1]).toEqual([puts[0]!.body])

    await w.get('[data-testid=email]').setValue(false)
    expect(w.get('[data-testid=notifications-status]').text()).toBe('')
    expect(w.get('[data-testid=email-delay]').attributes('disabled')).toBeDefined()
  })

  it('shows the server\'s refusal next to the field it names, marks that field invalid and moves the focus there', async () => {
    serveSettings({ ...STORED, quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC' } }, (body) =>
      body.quietHours?.timeZone === 'Europe/Paris' ? { field: 'quietHours.timeZone', message: 'quietHours.timeZone: unknown time zone' } : null,
    )
    const w = await mountForm()
    const zone = w.get('[data-testid=quiet-time-zone]')
    await zone.setValue('Europe/Paris')
    await w.get('form').trigger('submit')
    await flushPromises()
    const error = w.get('[data-testid=time-zone-error]')
    expect(error.text()).toBe('unknown time zone')
    // Beside the field, and the field points at it.
    expect(zone.element.parentElement!.contains(error.element)).toBe(true)
    expect(zone.attributes('aria-invalid')).toBe('true')
    expect(zone.attributes('aria-describedby')).toContain(error.attributes('id'))
    expect(document.activeElement).toBe(zone.element)
    expect(w.find('[role=alert]').exists()).toBe(false)
    expect(w.get('[data-testid=notifications-status]').text()).toBe('')
    // Changing the field clears its error.
    await zone.setValue('UTC')
    expect(w.find('[data-testid=time-zone-error]').exists()).toBe(false)
    expect(zone.attributes('aria-invalid')).toBe('false')
  })

  it('refuses quiet hours that start and end at the same time without asking the server', async () => {
    serveSettings(STORED)
    const w = await mountForm()
    await w.get('[data-testid=quiet-hours]').setValue(true)
    await w.get('[data-testid=quiet-end]').setValue('22:00')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(server.callsTo('PUT', '/notifications')).toHaveLength(0)
    const end = w.get('[data-testid=quiet-end]')
    expect(end.attributes('aria-invalid')).toBe('true')
    expect(end.element.parentElement!.textContent).toContain('The end must differ from the start.')
  })

  it('reads the level "nothing" (the generated types\' spelling) as the contract\'s "none"', async () => {
    serveSettings({ ...STORED, level: 'nothing' as never })
    const w = await mountForm()
    expect((w.get('[data-testid=level-none]').element as HTMLInputElement).checked).toBe(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect((server.callsTo('PUT', '/notifications')[0]!.body as NotificationSettings).level).toBe('none')
  })

  it('shows a refusal about no known field as the form\'s error', async () => {
    serveSettings(STORED, () => ({ field: 'something', message: 'not today' }))
    const w = await mountForm()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role=alert]').text()).toBe('Could not save: not today')
  })

  it('offers only time zones the browser knows (an unknown one cannot be chosen), with labels people read', () => {
    const zones = timeZoneOptions(['Asia/Calcutta'])
    expect(zones).toContain('Europe/Paris')
    expect(zones).toContain('UTC')
    expect(zones).toContain(browserTimeZone())
    expect(zones).toContain('Asia/Calcutta')
    expect(zones).not.toContain('Mars/Olympus')
    expect(zones).toEqual([...zones].sort((a, b) => a.localeCompare(b)))
    expect(delayLabel(90)).toBe('After 90 seconds')
    expect(messageForField('quietHours.timeZone', 'quietHours.timeZone: unknown time zone')).toBe('unknown time zone')
    expect(messageForField('emailDelaySeconds', 'must be at most 86400 (a day)')).toBe('must be at most 86400 (a day)')
  })
})

// --- Web Push on this device ------------------------------------------------------------

const KEY_BYTES = Uint8Array.from([4, ...Array.from({ length: 64 }, (_, i) => i + 1)])
const PUBLIC_KEY = btoa(String.fromCharCode(...KEY_BYTES)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const SUBSCRIPTION_JSON = { endpoint: 'https://push.example/send/abc', expirationTime: null, keys: { p256dh: 'BPk3', auth: 'c2VjcmV0' } }

/** A browser with workers and push, whose user answers the permission prompt with `answer`. */
function fakeBrowser(answer: NotificationPermission = 'granted', permission: NotificationPermission = 'default') {
  const order: string[] = []
  const subscription = {
    options: { applicationServerKey: KEY_BYTES.buffer },
    toJSON: () => SUBSCRIPTION_JSON,
    unsubscribe: vi.fn(async () => {
      current = null
      return true
    }),
  }
  let current: typeof subscription | null = null
  const pushManager = {
    getSubscription: vi.fn(async () => current),
    subscribe: vi.fn(async (_options: PushSubscriptionOptionsInit) => {
      order.push('subscribe')
      current = subscription
      return subscription
    }),
  }
  const registration = { pushManager }
  const notification = {
    permission,
    requestPermission: vi.fn(async () => {
      order.push('requestPermission')
      notification.permission = answer
      return answer
    }),
  }
  const env: PushEnvironment = {
    serviceWorker: { getRegistration: vi.fn(async () => registration), register: vi.fn(), ready: Promise.resolve(registration) } as unknown as ServiceWorkerContainer,
    notification: notification as unknown as PushEnvironment['notification'],
    pushManager: true,
    storage: localStorage,
  }
  return { env, order, notification, pushManager, subscription, subscribe: () => (current = subscription) }
}

function servePush() {
  server.overrides.push(
    { match: (c) => c.path === '/api/messaging/push/config', handler: () => ({ status: 200, body: { publicKey: PUBLIC_KEY } }) },
    { match: (c) => c.method === 'POST' && c.path === '/api/messaging/me/push-subscriptions', handler: () => ({ status: 201, body: { id: 'sub-1' } }) },
    { match: (c) => c.method === 'DELETE' && c.path.startsWith('/api/messaging/me/push-subscriptions/'), handler: () => ({ status: 204 }) },
  )
}

describe('Web Push on this device', () => {
  it('never asks for the permission by itself: reading the state does not prompt', async () => {
    const b = fakeBrowser()
    const push = usePushDevice(api, () => BEN.userId, b.env)
    await push.refresh()
    expect(push.state.value).toBe('off')
    expect(b.notification.requestPermission).not.toHaveBeenCalled()
    expect(server.calls.filter((c) => c.path.includes('push'))).toHaveLength(0)
  })

  it('enabling asks for the permission first, then subscribes with the server\'s key and gives the server the subscription', async () => {
    servePush()
    const b = fakeBrowser()
    server.overrides.unshift({
      match: (c) => c.path === '/api/messaging/push/config',
      handler: () => {
        b.order.push('GET /push/config')
        return { status: 200, body: { publicKey: PUBLIC_KEY } }
      },
    })
    const push = usePushDevice(api, () => BEN.userId, b.env)
    await push.enable()
    expect(b.order).toEqual(['requestPermission', 'GET /push/config', 'subscribe'])
    const options = b.pushManager.subscribe.mock.calls[0]![0]
    expect(options.userVisibleOnly).toBe(true)
    expect(Array.from(options.applicationServerKey as Uint8Array)).toEqual(Array.from(KEY_BYTES))
    expect(server.callsTo('POST', '/api/messaging/me/push-subscriptions').map((c) => c.body)).toEqual([SUBSCRIPTION_JSON])
    expect(localStorage.getItem(subscriptionKey(BEN.userId))).toBe('sub-1')
    expect(push.state.value).toBe('subscribed')
    // Another user of this browser has no subscription of theirs here.
    const other = usePushDevice(api, () => 'u-client-ana', b.env)
    await other.refresh()
    expect(other.state.value).toBe('off')
  })

  it('a refused permission says notifications are blocked, and nothing is subscribed', async () => {
    servePush()
    const b = fakeBrowser('denied')
    const push = usePushDevice(api, () => BEN.userId, b.env)
    await push.enable()
    expect(push.state.value).toBe('denied')
    expect(b.pushManager.subscribe).not.toHaveBeenCalled()
    expect(server.calls.filter((c) => c.path.includes('push'))).toHaveLength(0)
  })

  it('disabling unsubscribes the browser and deletes the server\'s copy (already gone is fine)', async () => {
    servePush()
    const b = fakeBrowser('granted', 'granted')
    b.subscribe()
    localStorage.setItem(subscriptionKey(BEN.userId), 'sub 1/x')
    const push = usePushDevice(api, () => BEN.userId, b.env)
    await push.refresh()
    expect(push.state.value).toBe('subscribed')
    await push.disable()
    expect(b.subscription.unsubscribe).toHaveBeenCalled()
    expect(server.callsTo('DELETE', '/api/messaging/me/push-subscriptions/').map((c) => c.path)).toEqual(['/api/messaging/me/push-subscriptions/sub%201%2Fx'])
    expect(localStorage.getItem(subscriptionKey(BEN.userId))).toBeNull()
    expect(push.state.value).toBe('off')

    server.overrides.unshift({ match: (c) => c.method === 'DELETE', handler: () => ({ status: 404, body: { error: { code: 'not_found', message: 'no such push subscription', field: null } } }) })
    b.subscribe()
    localStorage.setItem(subscriptionKey(BEN.userId), 'sub-1')
    await push.disable()
    expect(push.error.value).toBeNull()
    expect(push.state.value).toBe('off')
  })

  it('shows each state: unsupported, blocked (with how to allow again), off (the enable button), on (the disable button)', async () => {
    servePush()
    const unsupported = mount(PushDeviceSettings, { props: { pushOn: true, environment: { serviceWorker: null, notification: null, pushManager: false, storage: null } } })
    await flushPromises()
    expect(unsupported.get('[data-testid=push-unsupported]').text()).toContain('cannot show push notifications')
    expect(unsupported.find('button').exists()).toBe(false)

    const blocked = mount(PushDeviceSettings, { props: { pushOn: true, environment: fakeBrowser('denied', 'denied').env } })
    await flushPromises()
    expect(blocked.get('[data-testid=push-denied]').text()).toContain('To allow them again')

    const b = fakeBrowser()
    const w = mount(PushDeviceSettings, { props: { pushOn: false, environment: b.env } })
    await flushPromises()
    expect(b.notification.requestPermission).not.toHaveBeenCalled()
    await w.get('[data-testid=push-enable]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=push-device]').attributes('data-state')).toBe('subscribed')
    expect(w.get('[data-testid=push-subscribed]').text()).toBe('Push notifications are on for this device.')
    expect(w.find('[data-testid=push-off-note]').exists()).toBe(true)
    expect(w.get('[data-testid=push-disable]').text()).toBe('Disable on this device')
    await w.get('[data-testid=push-disable]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=push-enable]').text()).toBe('Enable push notifications on this device')
  })

  it('signing out drops this device\'s subscription, here and on the server; nothing to do when it had none', async () => {
    servePush()
    const b = fakeBrowser('granted', 'granted')
    b.subscribe()
    await forgetPushOnSignOut(api, BEN.userId, b.env)
    expect(server.callsTo('DELETE', '/push-subscriptions/')).toHaveLength(0)
    expect(b.subscription.unsubscribe).not.toHaveBeenCalled()
    localStorage.setItem(subscriptionKey(BEN.userId), 'sub-1')
    await forgetPushOnSignOut(api, BEN.userId, b.env)
    expect(b.subscription.unsubscribe).toHaveBeenCalled()
    expect(server.callsTo('DELETE', '/push-subscriptions/').map((c) => c.path)).toEqual(['/api/messaging/me/push-subscriptions/sub-1'])
    expect(localStorage.getItem(subscriptionKey(BEN.userId))).toBeNull()
  })

  it('decodes base64url keys, padded or not', () => {
    expect(Array.from(base64UrlToBytes('-_8'))).toEqual([0xfb, 0xff])
    expect(Array.from(base64UrlToBytes('AQI='))).toEqual([1, 2])
  })
})

// --- one conversation's notifications -------------------------------------------------------

const RouterLinkStub = defineComponent({
  props: { to: { type: [String, Object], required: true } },
  setup(_, { slots, attrs }) {
    return () => h('a', { ...attrs, href: '#' }, slots.default?.())
  },
})

describe('a conversation\'s notifications', () => {
  beforeEach(() => {
    const store = useMessagingStore()
    store.setConversationPage([summary({ notify: 'mentions', email: true })], null)
    store.setDetail(detail({ notify: 'mentions', email: true } as never))
  })

  it('the conversation menu offers "Notifications…"', async () => {
    const w = mount(ConversationMenu, { props: { conversationId: CID }, attachTo: document.body, global: { stubs: { RouterLink: RouterLinkStub } } })
    await w.get('button[aria-haspopup=menu]').trigger('click')
    expect(w.findAll('[role=menuitem]').map((i) => i.text())).toContain('Notifications…')
  })

  it('shows the current level and emails, and sends only what changed; the answer is applied', async () => {
    server.overrides.push({
      match: (c) => c.method === 'PATCH' && c.path.endsWith('/preferences'),
      handler: () => ({ status: 200, body: { conversationId: CID, muted: false, hidden: false, notify: null, email: false } }),
    })
    const w = mount(ConversationNotificationsDialog, { props: { conversationId: CID }, attachTo: document.body, global: { stubs: { RouterLink: RouterLinkStub } } })
    expect(w.findAll('[data-testid=conversation-notify] label').map((l) => l.text())).toEqual(['Default', 'All messages', 'Only mentions', 'Nothing'])
    expect((w.get('[data-testid=conversation-notify-mentions]').element as HTMLInputElement).checked).toBe(true)
    expect((w.get('[data-testid=conversation-email]').element as HTMLInputElement).checked).toBe(true)
    await w.get('[data-testid=conversation-notify-default]').setValue(true)
    await w.get('[data-testid=conversation-email]').setValue(false)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(server.callsTo('PATCH', '/preferences').map((c) => c.body)).toEqual([{ notify: 'default', email: false }])
    const c = useMessagingStore().conversations[CID]!
    expect([c.notify, c.email]).toEqual([null, false])
    expect(w.emitted('close')).toHaveLength(1)
  })

  it('shows "Nothing" for a conversation the server says is "nothing" (or "none")', async () => {
    const store = useMessagingStore()
    store.applyPreferences({ conversationId: CID, muted: false, hidden: false, notify: 'nothing' as never, email: true })
    expect(store.conversations[CID]!.notify).toBe('none')
    const w = mount(ConversationNotificationsDialog, { props: { conversationId: CID }, attachTo: document.body, global: { stubs: { RouterLink: RouterLinkStub } } })
    expect((w.get('[data-testid=conversation-notify-none]').element as HTMLInputElement).checked).toBe(true)
  })

  it('closes without a request when nothing changed', async () => {
    const w = mount(ConversationNotificationsDialog, { props: { conversationId: CID }, attachTo: document.body, global: { stubs: { RouterLink: RouterLinkStub } } })
    await w.get('[data-testid=conversation-notify-all]').setValue(true)
    await w.get('[data-testid=conversation-notify-mentions]').setValue(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(server.callsTo('PATCH', '/preferences')).toHaveLength(0)
    expect(w.emitted('close')).toHaveLength(1)
  })

  it('takes the level and emails from `preferences-updated` (another device); an event without them leaves them', () => {
    const store = useMessagingStore()
    messaging.handleEvent({ type: 'preferences-updated', data: { conversationId: CID, muted: false, hidden: false, notify: 'none', email: false } } as unknown as ServerEvent)
    expect([store.conversations[CID]!.notify, store.conversations[CID]!.email]).toEqual(['none', false])
    messaging.handleEvent({ type: 'preferences-updated', data: { conversationId: CID, muted: true, hidden: false } } as unknown as ServerEvent)
    expect([store.conversations[CID]!.muted, store.conversations[CID]!.notify, store.conversations[CID]!.email]).toEqual([true, 'none', false])
    // A rename (a ConversationView, without my settings) keeps them too.
    store.applyConversationView({ ...detail(), title: 'Renamed' })
    expect([store.conversations[CID]!.title, store.conversations[CID]!.notify]).toEqual(['Renamed', 'none'])
  })
})

// --- the unsubscribe link -------------------------------------------------------------------

describe('the unsubscribe page', () => {
  const requests: { url: string; init: RequestInit }[] = []
  let answer: { status: number; body: unknown }
  let unauthorized: ReturnType<typeof vi.fn<() => void>>

  beforeEach(() => {
    requests.length = 0
    unauthorized = vi.fn<() => void>()
    // Someone is signed in in this browser: the link must not use their token.
    setApi(
      new ApiClient({
        getToken: () => 'a-signed-in-token',
        onUnauthorized: unauthorized,
        fetch: async (input, init) => {
          requests.push({ url: String(input), init: init ?? {} })
          return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } })
        },
      }),
    )
  })

  async function open(query: string) {
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/unsubscribe', component: UnsubscribePage }, { path: '/settings/notifications', component: { render: () => null } }] })
    await router.push(`/unsubscribe${query}`)
    await router.isReady()
    return mount(UnsubscribePage, { global: { plugins: [router] } })
  }

  it('asks first, then posts the token without the bearer token and says which conversation stops emailing', async () => {
    answer = { status: 200, body: { conversationId: CID, title: 'Kickoff' } }
    const w = await open('?token=abc.def.ghi')
    expect(w.text()).toContain('Stop emails about this conversation?')
    expect(requests).toHaveLength(0)
    await w.get('[data-testid=unsubscribe-confirm]').trigger('click')
    await flushPromises()
    expect(requests).toHaveLength(1)
    expect(requests[0]!.url).toBe('/api/messaging/unsubscribe')
    expect(requests[0]!.init.method).toBe('POST')
    expect(JSON.parse(String(requests[0]!.init.body))).toEqual({ token: 'abc.def.ghi' })
    expect(Object.keys(requests[0]!.init.headers as Record<string, string>)).not.toContain('Authorization')
    expect(w.get('[data-testid=unsubscribe-done]').text()).toBe('You will no longer get emails about “Kickoff”.')
    expect(w.get('[data-testid=unsubscribe-done]').attributes('role')).toBe('status')
  })

  it('says the link is not valid on 400 and 403, and when it has no token; a refusal never ends a session', async () => {
    for (const status of [400, 403]) {
      answer = { status, body: { error: { code: status === 400 ? 'validation_failed' : 'forbidden', message: 'token: is not a valid unsubscribe link', field: 'token' } } }
      const w = await open('?token=forged')
      await w.get('[data-testid=unsubscribe-confirm]').trigger('click')
      await flushPromises()
      expect(w.get('[data-testid=unsubscribe-invalid]').text()).toBe('This unsubscribe link is not valid.')
    }
    const none = await open('')
    expect(none.get('[data-testid=unsubscribe-invalid]').text()).toBe('This unsubscribe link is not valid.')
    expect(none.find('[data-testid=unsubscribe-confirm]').exists()).toBe(false)

    answer = { status: 401, body: { error: { code: 'unauthorized', message: 'who are you', field: null } } }
    const w = await open('?token=x')
    await w.get('[data-testid=unsubscribe-confirm]').trigger('click')
    await flushPromises()
    expect(unauthorized).not.toHaveBeenCalled()
    expect(w.get('[role=alert]').text()).toContain('Could not unsubscribe')
  })

  it('is public: opens signed out, while the settings page asks to sign in', async () => {
    useSessionStore().signOut()
    const router = createAppRouter({ callbackPath: '/auth/callback' })
    await router.push('/unsubscribe?token=t')
    expect(router.currentRoute.value.name).toBe('unsubscribe')
    await router.push('/settings/notifications')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/settings/notifications')
  })
})
