// The service worker (public/sw.js), run in a fake worker scope: what a push shows, and
// what a click on the notification does. Then the page's side: the `open-url` message
// it receives from the worker.

import { describe, expect, it, vi } from 'vitest'
// The file as the browser gets it (the build copies public/ as is).
import source from '../../public/sw.js?raw'
import { isAppPath, listenToServiceWorker } from '../../src/serviceWorker'

const ORIGIN = 'https://chat.example.com'
const CONVERSATION = '01HZCONVERSATION0000000001'

interface FakeWindow {
  url: string
  focused: boolean
  visibilityState: string
  focus: ReturnType<typeof vi.fn>
  postMessage: ReturnType<typeof vi.fn>
}

function windowClient(url: string, overrides: Partial<FakeWindow> = {}): FakeWindow {
  const client: FakeWindow = {
    url,
    focused: false,
    visibilityState: 'hidden',
    focus: vi.fn(async () => client),
    postMessage: vi.fn(),
    ...overrides,
  }
  return client
}

/** Loads sw.js into a fresh fake `self`; returns it with its listeners and the work they asked to wait for. */
function loadWorker(windows: FakeWindow[] = []) {
  const listeners = new Map<string, (event: unknown) => void>()
  const self = {
    location: new URL(`${ORIGIN}/sw.js`),
    registration: { showNotification: vi.fn(async () => undefined) },
    clients: {
      matchAll: vi.fn(async () => windows),
      openWindow: vi.fn(async () => null),
      claim: vi.fn(async () => undefined),
    },
    skipWaiting: vi.fn(),
    addEventListener: (type: string, listener: (event: unknown) => void) => listeners.set(type, listener),
  }
  // Its only global is `self` (and URL): run it as a function of them.
  new Function('self', 'URL', 'console', source)(self, URL, console)
  const waits: Promise<unknown>[] = []

  /** Dispatches like the browser: an ExtendableEvent whose waitUntil collects the work. */
  async function dispatch(type: string, fields: Record<string, unknown>, trusted = true) {
    const event = {
      type,
      ...fields,
      waitUntil: vi.fn((p: Promise<unknown>) => {
        if (!trusted) throw new DOMException('not trusted', 'InvalidStateError')
        waits.push(p)
      }),
    }
    listeners.get(type)!(event)
    await Promise.all(waits)
    // The work of an untrusted event is not handed to waitUntil: let it finish.
    for (let i = 0; i < 5; i++) await Promise.resolve()
    return event
  }

  function push(data: unknown, trusted = true) {
    const json =
      data === undefined
        ? null
        : {
            json: () => {
              if (typeof data === 'string') return JSON.parse(data)
              return data
            },
          }
    return dispatch('push', { data: json }, trusted)
  }

  function click(url: unknown, trusted = true) {
    const notification = { close: vi.fn(), data: url === undefined ? null : { url }, tag: CONVERSATION }
    return dispatch('notificationclick', { notification }, trusted).then((event) => ({ event, notification }))
  }

  return { self, listeners, push, click }
}

const payload = {
  title: 'Kickoff',
  body: 'Ana Alvarez: the plan is ready',
  url: `/messages/${CONVERSATION}`,
  tag: CONVERSATION,
  conversationId: CONVERSATION,
}

describe('the service worker: push', () => {
  it('listens to install, activate, push and notificationclick; takes over at once', async () => {
    const w = loadWorker()
    expect([...w.listeners.keys()].sort()).toEqual(['activate', 'install', 'notificationclick', 'push'])
    w.listeners.get('install')!({})
    expect(w.self.skipWaiting).toHaveBeenCalled()
  })

  it('shows the notification the payload describes: its title, body, one per conversation (tag), renotifying, with the url', async () => {
    const w = loadWorker()
    const event = await w.push(payload)
    expect(event.waitUntil).toHaveBeenCalledTimes(1)
    expect(w.self.registration.showNotification).toHaveBeenCalledWith('Kickoff', {
      body: 'Ana Alvarez: the plan is ready',
      tag: CONVERSATION,
      data: { url: `/messages/${CONVERSATION}` },
      renotify: true,
    })
  })

  it('shows a generic "New messages" notification when the payload is missing, not JSON or not the expected shape', async () => {
    for (const data of [undefined, 'not json {', { hello: 'world' }, { title: '  ' }]) {
      const w = loadWorker()
      await w.push(data)
      expect(w.self.registration.showNotification, JSON.stringify(data)).toHaveBeenCalledWith('New messages', {
        body: 'Open Messages to read them.',
        tag: 'messages',
        data: { url: '/messages' },
        renotify: true,
      })
    }
  })

  it('never points a notification at another origin; falls back to the conversation id as the tag', async () => {
    const w = loadWorker()
    await w.push({ title: 'Kickoff', body: 'x', url: 'https://evil.example/phish', conversationId: CONVERSATION })
    expect(w.self.registration.showNotification).toHaveBeenCalledWith('Kickoff', expect.objectContaining({ tag: CONVERSATION, data: { url: '/messages' } }))
    await w.push({ ...payload, url: '//evil.example/x' })
    expect(w.self.registration.showNotification).toHaveBeenLastCalledWith('Kickoff', expect.objectContaining({ data: { url: '/messages' } }))
  })

  it('still shows it for a synthetic (untrusted) push, whose waitUntil throws', async () => {
    const w = loadWorker()
    await w.push(payload, false)
    expect(w.self.registration.showNotification).toHaveBeenCalledWith('Kickoff', expect.objectContaining({ tag: CONVERSATION }))
  })
})

describe('the service worker: notificationclick', () => {
  it('closes the notification, focuses a window of the app and asks it to open the url', async () => {
    const other = windowClient('https://elsewhere.example/messages')
    const hidden = windowClient(`${ORIGIN}/admin`)
    const visible = windowClient(`${ORIGIN}/messages`, { visibilityState: 'visible' })
    const w = loadWorker([other, hidden, visible])
    const { event, notification } = await w.click(`/messages/${CONVERSATION}`)
    expect(notification.close).toHaveBeenCalled()
    expect(event.waitUntil).toHaveBeenCalled()
    expect(w.self.clients.matchAll).toHaveBeenCalledWith({ type: 'window', includeUncontrolled: true })
    expect(visible.focus).toHaveBeenCalled()
    expect(visible.postMessage).toHaveBeenCalledWith({ type: 'open-url', url: `/messages/${CONVERSATION}` })
    expect(hidden.postMessage).not.toHaveBeenCalled()
    expect(other.postMessage).not.toHaveBeenCalled()
    expect(w.self.clients.openWindow).not.toHaveBeenCalled()
  })

  it('prefers the focused window; posts the url even when focusing is refused (no user activation)', async () => {
    const first = windowClient(`${ORIGIN}/messages`, { visibilityState: 'visible' })
    const focused = windowClient(`${ORIGIN}/settings/notifications`, {
      focused: true,
      focus: vi.fn(async () => {
        throw new DOMException('Not allowed to focus a window.', 'InvalidAccessError')
      }),
    })
    const w = loadWorker([first, focused])
    await w.click(`/messages/${CONVERSATION}`, false)
    expect(focused.postMessage).toHaveBeenCalledWith({ type: 'open-url', url: `/messages/${CONVERSATION}` })
    expect(first.postMessage).not.toHaveBeenCalled()
  })

  it('opens a new window at the url when no window of the app is open', async () => {
    const w = loadWorker([windowClient('https://elsewhere.example/')])
    const { notification } = await w.click(`/messages/${CONVERSATION}`)
    expect(notification.close).toHaveBeenCalled()
    expect(w.self.clients.openWindow).toHaveBeenCalledWith(`/messages/${CONVERSATION}`)
  })

  it('opens the inbox for a notification without a url, or with one of another origin', async () => {
    for (const url of [undefined, 'https://evil.example/', 'javascript:alert(1)']) {
      const w = loadWorker()
      await w.click(url)
      expect(w.self.clients.openWindow, String(url)).toHaveBeenCalledWith('/messages')
    }
  })
})

describe('the page listens to its service worker', () => {
  function container() {
    const target = new EventTarget() as EventTarget & { startMessages: () => void }
    target.startMessages = vi.fn()
    return target
  }

  it('router.push()es the url of an open-url message from its own origin, starting the message queue', async () => {
    const c = container()
    const router = { push: vi.fn(async () => undefined) }
    listenToServiceWorker(c as unknown as ServiceWorkerContainer, router as never, ORIGIN)
    expect(c.startMessages).toHaveBeenCalled()
    c.dispatchEvent(new MessageEvent('message', { data: { type: 'open-url', url: `/messages/${CONVERSATION}` }, origin: ORIGIN }))
    expect(router.push).toHaveBeenCalledWith(`/messages/${CONVERSATION}`)
  })

  it('ignores other messages, other origins and urls that leave the app', () => {
    const c = container()
    const router = { push: vi.fn(async () => undefined) }
    listenToServiceWorker(c as unknown as ServiceWorkerContainer, router as never, ORIGIN)
    c.dispatchEvent(new MessageEvent('message', { data: { type: 'open-url', url: '/messages' }, origin: 'https://evil.example' }))
    c.dispatchEvent(new MessageEvent('message', { data: { type: 'something', url: '/messages' }, origin: ORIGIN }))
    for (const url of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 42]) {
      c.dispatchEvent(new MessageEvent('message', { data: { type: 'open-url', url }, origin: ORIGIN }))
    }
    c.dispatchEvent(new MessageEvent('message', { data: null, origin: ORIGIN }))
    expect(router.push).not.toHaveBeenCalled()
    expect(isAppPath('/messages/x')).toBe(true)
  })
})
