// Rate limits (issue 13), as the web client sees them: `429 rate_limited` with
// `Retry-After` on REST, an `error` frame with code `rate_limited` on the socket.

import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, errorMessage, parseRetryAfter } from '../../src/api/client'
import MessageBubble from '../../src/components/MessageBubble.vue'
import { useAction } from '../../src/composables/useAction'
import { createMessaging, rateLimitWait, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useUploads } from '../../src/composables/useUploads'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { RATE_LIMIT_MAX_RETRIES, RATE_LIMIT_MAX_WAIT_MS } from '../../src/timing'
import type { PendingMessage } from '../../src/types'
import { participantError } from '../../src/utils/people'
import { BEN, CID, FakeServer, FakeWebSocket } from './fixtures'

const rateLimited = (message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code: 'rate_limited', message, field: null } }), {
    status: 429,
    headers: { 'Content-Type': 'application/json', ...headers },
  })

describe('ApiError.retryAfterMs (the Retry-After of any answer)', () => {
  it('reads delay-seconds from a 429 rate_limited answer', async () => {
    const fetch = vi.fn(async () => rateLimited('too many send requests; retry in 7 s', { 'Retry-After': '7' }))
    const client = new ApiClient({ getToken: () => 't', fetch })
    const err = await client.sendMessage('c', { body: 'hi', clientMessageId: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', message: 'too many send requests; retry in 7 s', retryAfterMs: 7000 })
    expect((err as ApiError).retryable).toBe(true)
    expect((err as ApiError).rateLimited).toBe(true)
  })

  it('reads it from other answers too (a 503), and is null when there is none', async () => {
    const fetch = vi
      .fn<typeof globalThis.fetch>()
      .mockResolvedValueOnce(new Response('{}', { status: 503, headers: { 'Retry-After': '2' } }))
      .mockResolvedValueOnce(new Response(JSON.stringify({ error: { code: 'validation_failed', message: 'no', field: null } }), { status: 400 }))
      .mockResolvedValueOnce(rateLimited('slow down'))
    const client = new ApiClient({ getToken: () => 't', fetch })
    await expect(client.me()).rejects.toMatchObject({ status: 503, retryAfterMs: 2000 })
    await expect(client.me()).rejects.toMatchObject({ status: 400, retryAfterMs: null })
    await expect(client.me()).rejects.toMatchObject({ status: 429, retryAfterMs: null })
    // Network failures have no answer, so no header.
    const down = new ApiClient({ getToken: () => 't', fetch: async () => Promise.reject(new TypeError('Failed to fetch')) })
    await expect(down.me()).rejects.toMatchObject({ status: 0, retryAfterMs: null })
  })

  it('parses seconds or an HTTP date (never negative) and ignores anything else', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0)
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '12abc']) expect(parseRetryAfter(bad, now)).toBeNull()
  })

  it('a date header is counted from when the answer came', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-10-21T07:28:00Z') })
    try {
      const fetch = vi.fn(async () => rateLimited('slow down', { 'Retry-After': 'Wed, 21 Oct 2026 07:28:05 GMT' }))
      const client = new ApiClient({ getToken: () => 't', fetch })
      await expect(client.createConversation({ title: 'x', participantIds: [] })).rejects.toMatchObject({ retryAfterMs: 5000 })
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the 429 of other actions: the server\'s message and when to try again', () => {
  it('keeps a message that already says when, and adds "try again in N s" otherwise', () => {
    expect(errorMessage(new ApiError(429, 'rate_limited', 'too many reports requests; retry in 40 s', null, 40_000))).toBe(
      'too many reports requests; retry in 40 s',
    )
    expect(errorMessage(new ApiError(429, 'rate_limited', 'Too Many Requests', null, 1500))).toBe('Too Many Requests; try again in 2 s')
    expect(errorMessage(new ApiError(429, 'rate_limited', 'Too Many Requests'))).toBe('Too Many Requests; try again shortly')
    // Other errors are shown as they were.
    expect(errorMessage(new ApiError(503, 'unavailable', 'the service is temporarily unavailable; retry shortly', null, 2000))).toBe(
      'the service is temporarily unavailable; retry shortly',
    )
  })

  it('reaches the dialogs (create conversation, add people, report) through useAction and participantError', async () => {
    const err = new ApiError(429, 'rate_limited', 'too many add-people requests', null, 12_000)
    const people = [{ userId: 'u-team-cleo', name: 'Cleo Park' }]
    expect(participantError(err, people)).toBe('too many add-people requests; try again in 12 s')
    const action = useAction()
    expect(await action.run(async () => Promise.reject(err), (e) => participantError(e, people))).toBe(false)
    expect(action.error.value).toBe('too many add-people requests; try again in 12 s')
    expect(await action.run(async () => Promise.reject(new ApiError(429, 'rate_limited', 'too many reports requests', null, 30_000)))).toBe(false)
    expect(action.error.value).toBe('too many reports requests; try again in 30 s')
  })

  it('reaches an upload refused its grant', async () => {
    const fetch = vi.fn(async () => rateLimited('too many uploads requests', { 'Retry-After': '20' }))
    const api = new ApiClient({ getToken: () => 't', fetch })
    const uploads = useUploads(api, () => CID)
    await uploads.addFiles([new File(['hello'], 'notes.txt', { type: 'text/plain' })])
    expect(uploads.items.value.map((i) => [i.status, i.error])).toEqual([['failed', 'too many uploads requests; try again in 20 s']])
  })
})

describe('the wait before a rate-limited send goes again', () => {
  it('is the Retry-After, capped at 60 s, else a jittered backoff from 2 s', () => {
    const half = () => 0.5
    expect(rateLimitWait(new ApiError(429, 'rate_limited', 'x', null, 3000), 0, half)).toBe(3000)
    expect(rateLimitWait(new ApiError(429, 'rate_limited', 'x', null, 600_000), 0, half)).toBe(RATE_LIMIT_MAX_WAIT_MS)
    expect(RATE_LIMIT_MAX_WAIT_MS).toBe(60_000)
    const none = new ApiError(429, 'rate_limited', 'x')
    expect([0, 1, 2, 10].map((n) => rateLimitWait(none, n, half))).toEqual([1500, 3000, 6000, 45_000])
  })
})

describe('the store: a paused send is pending, not failed', () => {
  it('keeps status sending with the time it goes again, cleared when it goes or fails', () => {
    setActivePinia(createPinia())
    const s = useMessagingStore()
    s.setMe(BEN)
    s.addPending(CID, { clientMessageId: 'cm-1', body: 'x' })
    expect(s.findPending(CID, 'cm-1')!.retryAt).toBeNull()
    s.markPendingSending(CID, 'cm-1')
    s.markPendingPaused(CID, 'cm-1', 123_456)
    expect(s.findPending(CID, 'cm-1')).toMatchObject({ status: 'sending', retryAt: 123_456, error: null, attempts: 1 })
    s.markPendingSending(CID, 'cm-1')
    expect(s.findPending(CID, 'cm-1')).toMatchObject({ status: 'sending', retryAt: null, attempts: 2 })
    s.markPendingPaused(CID, 'cm-1', 5)
    s.markPendingFailed(CID, 'cm-1', 'nope')
    expect(s.findPending(CID, 'cm-1')).toMatchObject({ status: 'failed', retryAt: null })
  })
})

let server: FakeServer
let messaging: Messaging

function setup() {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const store = useMessagingStore()
  store.setMe(BEN)
  const api = new ApiClient({ getToken: () => 'token-1', fetch: server.fetch })
  messaging = createMessaging({
    api,
    store,
    createSocket: (url) => new FakeWebSocket(url),
    buildSocketUrl: (ticket) => `ws://test.local/ws?ticket=${ticket}`,
    socketOptions: { random: () => 0.5, isOnline: () => true },
  })
  return store
}

async function settle(ms = 0) {
  await vi.advanceTimersByTimeAsync(ms)
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0)
}

async function connect() {
  messaging.start()
  await settle()
  FakeWebSocket.last().open()
  await settle()
}

const isPost = (c: { method: string; path: string }) => c.method === 'POST' && c.path.endsWith('/messages')
const postedIds = () => server.callsTo('POST', '/messages').map((c) => (c.body as { clientMessageId: string }).clientMessageId)

describe('useMessaging: a send refused with 429', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-23T10:00:00Z') })
  })
  afterEach(() => {
    messaging?.stop()
    vi.useRealTimers()
  })

  it('stays pending with a countdown, then goes again by itself with the same clientMessageId: one message', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: isPost, status: 429, times: 1, headers: { 'Retry-After': '3' } })
    const cmid = messaging.sendMessage(CID, 'hold on')
    await settle()

    const pending = store.findPending(CID, cmid)!
    expect(pending.status).toBe('sending')
    expect(pending.retryAt).toBe(Date.now() + 3000)
    expect(store.announcement).toBe('Sending paused — retrying in 3 seconds')
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['pending'])

    await settle(2900)
    expect(postedIds()).toEqual([cmid]) // not before Retry-After
    expect(store.findPending(CID, cmid)!.status).toBe('sending')

    await settle(100)
    expect(postedIds()).toEqual([cmid, cmid])
    expect(server.messages.filter((m) => m.clientMessageId === cmid)).toHaveLength(1)
    const items = store.threadItems(CID)
    expect(items.map((i) => i.kind)).toEqual(['message'])
    expect(items[0]!.kind === 'message' && items[0]!.message.clientMessageId).toBe(cmid)

    // Its new-message event, arriving after the answer, adds no second bubble.
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[0] } })
    await settle()
    expect(store.threadItems(CID)).toHaveLength(1)
  })

  it('waits at most 60 s however long Retry-After says, and backs off when it says nothing', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: isPost, status: 429, times: 1, headers: { 'Retry-After': '3600' } })
    const long = messaging.sendMessage(CID, 'capped')
    await settle()
    expect(store.findPending(CID, long)!.retryAt).toBe(Date.now() + 60_000)
    await settle(60_000)
    expect(postedIds()).toEqual([long, long])
    expect(store.findPending(CID, long)).toBeUndefined()

    // No Retry-After: 1.5 s, then 3 s (random 0.5 of 2 s, 4 s).
    server.failures.push({ match: isPost, status: 429, times: 2, error: { code: 'rate_limited', message: 'slow down' } })
    const bare = messaging.sendMessage(CID, 'backed off')
    await settle()
    expect(store.findPending(CID, bare)!.retryAt).toBe(Date.now() + 1500)
    await settle(1500)
    expect(store.findPending(CID, bare)!.retryAt).toBe(Date.now() + 3000)
    await settle(3000)
    expect(postedIds()).toEqual([long, long, bare, bare, bare])
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['message', 'message'])
  })

  it('holds up the sends written after it, so that the order is kept', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: (c) => isPost(c) && (c.body as { body: string }).body === 'one', status: 429, times: 1, headers: { 'Retry-After': '2' } })
    messaging.sendMessage(CID, 'one')
    messaging.sendMessage(CID, 'two')
    await settle()
    expect(server.callsTo('POST', '/messages')).toHaveLength(1)
    expect(store.threadItems(CID).map((i) => i.kind === 'pending' && i.pending.status)).toEqual(['sending', 'sending'])
    await settle(2000)
    expect(server.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ])
  })

  it('is shown as not sent, with Retry, only after many refusals', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: isPost, status: 429, times: 100, headers: { 'Retry-After': '1' } })
    const cmid = messaging.sendMessage(CID, 'stubborn')
    await settle(1000 * RATE_LIMIT_MAX_RETRIES - 1)
    expect(store.findPending(CID, cmid)!.status).toBe('sending')
    await settle(1)
    expect(postedIds()).toHaveLength(RATE_LIMIT_MAX_RETRIES + 1)
    expect(store.findPending(CID, cmid)).toMatchObject({ status: 'failed', error: 'too many send requests; retry in 3 s', retryAt: null })
  })

  it('gives up waiting when the service stops (signed out): nothing is sent after', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: isPost, status: 429, times: 1, headers: { 'Retry-After': '5' } })
    const cmid = messaging.sendMessage(CID, 'never mind')
    await settle()
    messaging.stop()
    await settle(10_000)
    expect(postedIds()).toEqual([cmid])
    expect(store.findPending(CID, cmid)!.status).toBe('sending')
  })

  it('a rate_limited error frame (typing too often) is only logged at debug level; other error frames warn as before', async () => {
    setup()
    await connect()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {})
    const ws = FakeWebSocket.last()
    ws.receive({ type: 'error', data: { code: 'rate_limited', message: 'too many typing requests; retry in 2 s', field: null } })
    await settle()
    expect(warn).not.toHaveBeenCalled()
    expect(debug).toHaveBeenCalledTimes(1)
    ws.receive({ type: 'error', data: { code: 'validation_failed', message: 'conversationId: must be a 26-character ULID', field: 'conversationId' } })
    await settle()
    expect(warn).toHaveBeenCalledTimes(1)
    // Typing goes on as usual afterwards (best-effort, nothing was switched off).
    messaging.notifyTyping(CID)
    expect(ws.actions().filter((a) => a.action === 'typing')).toHaveLength(1)
  })
})

describe('MessageBubble: a paused send', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-23T10:00:00Z') })
    setup()
    setMessaging(messaging)
  })
  afterEach(() => {
    messaging.stop()
    setMessaging(null)
    vi.useRealTimers()
  })

  const paused = (retryAt: number | null): PendingMessage => ({
    clientMessageId: 'cm-7',
    conversationId: CID,
    body: 'hi',
    files: [],
    fileIds: [],
    createdAt: new Date().toISOString(),
    status: 'sending',
    error: null,
    attempts: 1,
    retryAt,
    replyTo: null,
  })

  it('says "Sending paused — retrying in N s", counting down, and offers no Retry (it is not failed)', async () => {
    const wrapper = mount(MessageBubble, { props: { conversationId: CID, pending: paused(Date.now() + 3000), mine: true } })
    expect(wrapper.get('[data-testid=send-paused]').text()).toBe('Sending paused — retrying in 3 s')
    expect(wrapper.get('[data-testid=receipt]').attributes('data-receipt')).toBe('sending')
    expect(wrapper.get('[data-testid=receipt]').attributes('aria-label')).toBe('Sending paused')
    expect(wrapper.classes()).not.toContain('msg--failed')
    expect(wrapper.find('[data-testid=retry-send]').exists()).toBe(false)
    expect(wrapper.find('[role=alert]').exists()).toBe(false)

    await vi.advanceTimersByTimeAsync(1000)
    expect(wrapper.get('[data-testid=send-paused]').text()).toBe('Sending paused — retrying in 2 s')
    await vi.advanceTimersByTimeAsync(2000)
    expect(wrapper.get('[data-testid=send-paused]').text()).toBe('Sending paused — retrying now')

    // Going again: plain "Sending…".
    await wrapper.setProps({ pending: paused(null) })
    expect(wrapper.find('[data-testid=send-paused]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=receipt]').attributes('aria-label')).toBe('Sending…')
    wrapper.unmount()
  })
})
