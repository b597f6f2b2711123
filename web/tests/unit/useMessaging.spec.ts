import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiClient } from '../../src/api/client'
import { TYPING_THROTTLE_MS, createMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, message, participant, profile, summary } from './fixtures'

let server: FakeServer
let messaging: Messaging

function setup(onUnauthorized?: () => void) {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const store = useMessagingStore()
  store.setMe(BEN)
  const api = new ApiClient({ getToken: () => 'token-1', fetch: server.fetch, onUnauthorized })
  messaging = createMessaging({
    api,
    store,
    createSocket: (url) => new FakeWebSocket(url),
    buildSocketUrl: (ticket) => `ws://test.local/ws?ticket=${ticket}`,
    socketOptions: { random: () => 0.5, isOnline: () => true },
  })
  return store
}

/** Runs timers and promise chains until things settle (fake timers). */
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

const heldSeqs = (store: ReturnType<typeof useMessagingStore>) => store.threads[CID]!.messages.map((m) => m.seq)

describe('useMessaging', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    messaging?.stop()
    vi.useRealTimers()
  })

  it('sends the bearer token on REST calls and connects with a ticket, not the token', async () => {
    setup()
    await connect()
    expect(server.callsTo('POST', '/ws-ticket')).toHaveLength(1)
    expect(FakeWebSocket.last().url).toBe('ws://test.local/ws?ticket=ticket-1')
    expect(FakeWebSocket.last().url).not.toContain('token-1')
  })

  it('after a reconnect, catches up each loaded conversation with after=<last seq>, looping while hasMore', async () => {
    const store = setup()
    server.add(30)
    await connect()
    await messaging.openConversation(CID)
    await settle()
    expect(heldSeqs(store)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))

    // The socket drops; 130 messages are sent meanwhile (more than one page of 100).
    FakeWebSocket.last().drop()
    server.add(130)
    server.calls = []
    await settle(750)
    expect(server.callsTo('POST', '/ws-ticket')).toHaveLength(1) // a fresh ticket
    FakeWebSocket.last().open()
    await settle()

    const afters = server.callsTo('GET', `/conversations/${CID}/messages`).map((c) => c.query.get('after'))
    expect(afters.slice(0, 2)).toEqual(['30', '130'])
    expect(heldSeqs(store)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1))
  })

  it('catches up on the first connect too when a thread was loaded before the socket opened', async () => {
    const store = setup()
    server.add(3)
    await messaging.openConversation(CID)
    server.add(2)
    await connect()
    expect(server.callsTo('GET', '/messages').some((c) => c.query.get('after') === '3')).toBe(true)
    expect(heldSeqs(store)).toEqual([1, 2, 3, 4, 5])
  })

  it('fills a gap when an event arrives with seq > last + 1, and ignores duplicates', async () => {
    const store = setup()
    server.add(3)
    await connect()
    await messaging.openConversation(CID)
    server.add(3) // 4, 5, 6 — only 6 comes over the socket
    server.calls = []
    const ws = FakeWebSocket.last()
    ws.receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[5] } })
    ws.receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[5] } })
    await settle()
    expect(server.callsTo('GET', '/messages').map((c) => c.query.get('after'))).toEqual(['3'])
    expect(heldSeqs(store)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('shows a sent message at once, then replaces it with the stored one', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    const cmid = messaging.sendMessage(CID, 'hello there')
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['pending'])
    expect(store.findPending(CID, cmid)!.status).toBe('sending')
    await settle()
    const items = store.threadItems(CID)
    expect(items.map((i) => i.kind)).toEqual(['message'])
    expect(items[0]!.kind === 'message' && items[0]!.message.clientMessageId).toBe(cmid)
  })

  it('a failed send shows Retry; the retry reuses the clientMessageId and never duplicates', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    server.failures.push({ match: (c) => c.method === 'POST' && c.path.endsWith('/messages'), status: 'network', times: 1 })
    const cmid = messaging.sendMessage(CID, 'flaky network')
    await settle()
    expect(store.findPending(CID, cmid)!.status).toBe('failed')

    await messaging.retrySend(CID, cmid)
    await settle()
    // The retry's answer is a replay (200) if the first try had in fact been stored; either way one message.
    await messaging.retrySend(CID, cmid) // a stray second retry does nothing: nothing pending
    const posts = server.callsTo('POST', '/messages')
    expect(posts.map((c) => (c.body as { clientMessageId: string }).clientMessageId)).toEqual([cmid, cmid])
    expect(server.messages.filter((m) => m.clientMessageId === cmid)).toHaveLength(1)
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['message'])
  })

  it('a send stored by the server whose answer was lost is matched when retried (200 replay)', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    // The first POST is stored but its answer is lost.
    let first = true
    server.overrides.push({
      match: (c) => c.method === 'POST' && c.path.endsWith('/messages') && first,
      handler: (c) => {
        first = false
        const req = c.body as { body: string; clientMessageId: string }
        server.messages.push(message(1, { senderId: ME, body: req.body, clientMessageId: req.clientMessageId }))
        return { status: 503, body: { error: { code: 'unavailable', message: 'timeout', field: null } } }
      },
    })
    const cmid = messaging.sendMessage(CID, 'exactly once')
    await settle()
    expect(store.findPending(CID, cmid)!.status).toBe('failed')
    await messaging.retrySend(CID, cmid)
    await settle()
    expect(server.messages).toHaveLength(1)
    expect(store.threadItems(CID)).toHaveLength(1)
  })

  it('when the new-message event arrives before the POST answer, the message still shows once', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    let release: () => void = () => {}
    server.overrides.push({
      match: (c) => c.method === 'POST' && c.path.endsWith('/messages'),
      handler: async (c) => {
        const req = c.body as { body: string; clientMessageId: string }
        const stored = message(1, { senderId: ME, body: req.body, clientMessageId: req.clientMessageId })
        server.messages.push(stored)
        // The event overtakes the HTTP answer.
        FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: stored } })
        await new Promise<void>((r) => (release = r))
        return { status: 201, body: stored }
      },
    })
    messaging.sendMessage(CID, 'overtaken')
    await settle()
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['message'])
    release()
    await settle()
    expect(store.threadItems(CID).map((i) => i.kind)).toEqual(['message'])
  })

  it('sends written quickly leave one at a time, so the server numbers them in the order written', async () => {
    const store = setup()
    await connect()
    await messaging.openConversation(CID)
    const releases: (() => void)[] = []
    server.overrides.push({
      match: (c) => c.method === 'POST' && c.path.endsWith('/messages'),
      handler: async (c) => {
        await new Promise<void>((r) => releases.push(r))
        const req = c.body as { body: string; clientMessageId: string }
        const stored = message(server.messages.length + 1, { senderId: ME, body: req.body, clientMessageId: req.clientMessageId })
        server.messages.push(stored)
        return { status: 201, body: stored }
      },
    })
    server.failures.push({ match: (c) => c.method === 'POST' && (c.body as { body: string }).body === 'two', status: 'network', times: 1 })
    for (const body of ['one', 'two', 'three']) messaging.sendMessage(CID, body)
    await settle()
    expect(server.callsTo('POST', '/messages')).toHaveLength(1) // 'two' waits for 'one'
    expect(store.threadItems(CID).map((i) => i.kind === 'pending' && i.pending.status)).toEqual(['sending', 'sending', 'sending'])
    releases.shift()!()
    await settle()
    // 'two' failed (network); 'three' is not held up by it.
    const bodiesPosted = () => server.callsTo('POST', '/messages').map((c) => (c.body as { body: string }).body)
    expect(bodiesPosted()).toEqual(['one', 'two', 'three'])
    releases.shift()!()
    await settle()
    expect(server.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, 'one'],
      [2, 'three'],
    ])
    const failed = store.threadItems(CID).find((i) => i.kind === 'pending')
    expect(failed?.kind === 'pending' && [failed.pending.body, failed.pending.status]).toEqual(['two', 'failed'])
  })

  it('throttles typing to one action every 2 s and sends stop-typing when cleared', async () => {
    setup()
    await connect()
    const ws = FakeWebSocket.last()
    const typing = () => ws.actions().filter((a) => a.action === 'typing')
    messaging.notifyTyping(CID, 0)
    messaging.notifyTyping(CID, 500)
    messaging.notifyTyping(CID, TYPING_THROTTLE_MS - 1)
    expect(typing()).toHaveLength(1)
    messaging.notifyTyping(CID, TYPING_THROTTLE_MS)
    expect(typing()).toHaveLength(2)
    messaging.stopTyping(CID)
    expect(ws.actions().filter((a) => a.action === 'stop-typing')).toEqual([{ action: 'stop-typing', conversationId: CID }])
    // Nothing more to stop.
    messaging.stopTyping(CID)
    expect(ws.actions().filter((a) => a.action === 'stop-typing')).toHaveLength(1)
  })

  it('hides a typing indicator after expiresInMs + margin when no stop arrives', async () => {
    const store = setup()
    await connect()
    FakeWebSocket.last().receive({ type: 'user-typing', data: { conversationId: CID, userId: ANA, name: 'Ana Alvarez', expiresInMs: 6000 } })
    expect(store.typingIn(CID)).toHaveLength(1)
    await settle(6000)
    expect(store.typingIn(CID)).toHaveLength(1)
    await settle(2000)
    expect(store.typingIn(CID)).toHaveLength(0)
  })

  it('keeps read ticks live with message-read events and marks my reads once', async () => {
    const store = setup()
    server.add(2, 1, ME)
    await connect()
    await messaging.openConversation(CID)
    const mine = store.threads[CID]!.messages[1]!
    expect(store.receiptOf(CID, mine)).toBe('sent')
    FakeWebSocket.last().receive({ type: 'message-read', data: { conversationId: CID, userId: ANA, lastReadSeq: 2, readAt: 'now' } })
    expect(store.receiptOf(CID, mine)).toBe('read')

    server.add(1, 3, ANA)
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[2] } })
    await settle()
    await Promise.all([messaging.markRead(CID), messaging.markRead(CID)])
    await settle()
    const reads = server.callsTo('POST', '/read')
    expect(reads.map((c) => c.body)).toEqual([{ seq: 3 }])
    await messaging.markRead(CID)
    expect(server.callsTo('POST', '/read')).toHaveLength(1)
  })

  it('on resync, refetches from afterSeq so that a large edit of an older message is applied', async () => {
    const store = setup()
    server.add(5)
    await connect()
    await messaging.openConversation(CID)
    server.messages[1] = { ...server.messages[1]!, body: 'edited, and long', editedAt: '2026-11-23T12:00:00.000Z' }
    server.calls = []
    FakeWebSocket.last().receive({ type: 'resync', data: { conversationId: CID, afterSeq: 1 } })
    await settle()
    expect(server.callsTo('GET', '/messages').map((c) => c.query.get('after'))).toEqual(['1'])
    expect(store.threads[CID]!.messages[1]!.body).toBe('edited, and long')
    expect(heldSeqs(store)).toEqual([1, 2, 3, 4, 5])
  })

  it('pages back with before=<first seq> until the beginning', async () => {
    const store = setup()
    server.add(120)
    await messaging.openConversation(CID)
    expect(store.firstSeqOf(CID)).toBe(71)
    await messaging.loadOlder(CID)
    expect(server.callsTo('GET', '/messages').map((c) => c.query.get('before'))).toContain('71')
    await messaging.loadOlder(CID)
    expect(heldSeqs(store)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    expect(store.threads[CID]!.hasMoreBefore).toBe(false)
  })

  it('on start, takes my profile from the directory (a name changed on another device)', async () => {
    const store = setup()
    server.overrides.push({ match: (c) => c.path === '/api/messaging/me', handler: () => ({ status: 200, body: profile(ME, { name: 'Benjamin Carter' }) }) })
    await connect()
    expect(store.me).toEqual({ userId: ME, name: 'Benjamin Carter', role: 'team', organisation: null })
  })

  it('renames people from user-updated, and me from my own rename', async () => {
    const store = setup()
    server.add(2)
    await connect()
    await messaging.openConversation(CID)
    FakeWebSocket.last().receive({
      type: 'user-updated',
      data: { userId: ANA, name: 'Ana Moreno', role: 'client', organisation: 'Acme Corp', initials: 'AM', colour: null },
    })
    expect(store.threads[CID]!.messages.map((m) => m.senderName)).toEqual(['Ana Moreno', 'Ana Moreno'])
    expect(store.details[CID]!.participants.find((p) => p.userId === ANA)!.name).toBe('Ana Moreno')

    server.overrides.push({
      match: (c) => c.method === 'PATCH' && c.path === '/api/messaging/me',
      handler: (c) => ({ status: 200, body: profile(ME, { name: (c.body as { name: string }).name }) }),
    })
    await messaging.renameMe('Ben C.')
    expect(server.callsTo('PATCH', '/api/messaging/me').map((c) => c.body)).toEqual([{ name: 'Ben C.' }])
    expect(store.me!.name).toBe('Ben C.')
  })

  it('starts a conversation with people by id only, and lists it at once', async () => {
    const store = setup()
    await messaging.loadConversations('')
    const created = detail({ id: '01HZCONVERSATION0000000009', title: 'Garden', participants: [participant(ME), participant(ANA)] })
    server.overrides.push({ match: (c) => c.method === 'POST' && c.path === '/api/messaging/conversations', handler: () => ({ status: 201, body: created }) })
    const id = await messaging.createConversation('Garden', [ANA])
    expect(server.callsTo('POST', '/api/messaging/conversations').map((c) => c.body)).toEqual([{ title: 'Garden', participantIds: [ANA] }])
    expect(id).toBe(created.id)
    expect(store.sortedConversations.map((c) => c.title)).toContain('Garden')
    expect(store.isMember(id)).toBe(true)
  })

  it('says "you left" when my own leave\'s event overtakes its answer, and "removed" when someone else removed me', async () => {
    const store = setup()
    await connect()
    await messaging.loadConversations('')
    await messaging.openConversation(CID)
    const ws = FakeWebSocket.last()
    server.overrides.push({
      match: (c) => c.method === 'DELETE' && c.path === `/api/messaging/conversations/${CID}/participants/${ME}`,
      handler: () => {
        ws.receive({ type: 'conversation-updated', data: { conversation: detail(), change: 'participants', participants: [participant(ANA)] } })
        expect(store.departed[CID]?.reason).toBe('left')
        return { status: 204 }
      },
    })
    await messaging.leaveConversation(CID)
    expect(store.departed[CID]?.reason).toBe('left')
    expect(store.sortedConversations).toEqual([])

    // Added back, with the conversation on screen: it loads again.
    ws.receive({ type: 'conversation-updated', data: { conversation: detail(), change: 'participants', participants: [participant(ME), participant(ANA)] } })
    await settle()
    expect(store.departed[CID]).toBeUndefined()
    expect(store.threads[CID]?.loaded).toBe(true)
    expect(store.sortedConversations.map((c) => c.id)).toEqual([CID])

    ws.receive({ type: 'conversation-updated', data: { conversation: detail(), change: 'participants', participants: [participant(ANA)] } })
    expect(store.departed[CID]?.reason).toBe('removed')
  })

  it('a 404 on opening says "removed" for a conversation I knew and "unavailable" for one I never had', async () => {
    const store = setup()
    await messaging.loadConversations('')
    await settle() // its participants too
    server.failures.push({ match: (c) => c.path.startsWith(`/api/messaging/conversations/${CID}`), status: 404, times: 2 })
    await messaging.openConversation(CID)
    expect(store.departed[CID]?.reason).toBe('removed')
    expect(store.threads[CID]).toBeUndefined()

    const unknown = '01HZCONVERSATION0000000077'
    await messaging.openConversation(unknown)
    expect(store.departed[unknown]?.reason).toBe('unavailable')
  })

  it('lists again a hidden conversation when a newer message arrives, and fetches one it never had', async () => {
    const store = setup()
    server.add(2)
    await connect()
    await messaging.loadConversations('')
    server.overrides.push({
      match: (c) => c.method === 'PATCH' && c.path.endsWith('/preferences'),
      handler: (c) => ({ status: 200, body: { conversationId: CID, muted: false, hidden: (c.body as { hidden: boolean }).hidden } }),
    })
    await messaging.setPreferences(CID, { hidden: true })
    expect(store.sortedConversations).toEqual([])
    server.add(1)
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[2] } })
    expect(store.sortedConversations.map((c) => c.id)).toEqual([CID])

    // After a reload the hidden conversation was never fetched: the event fetches and lists it.
    store.removeConversation(CID)
    store.listIds = []
    delete store.departed[CID]
    server.add(1)
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: server.messages[3] } })
    await settle()
    expect(server.callsTo('GET', `/api/messaging/conversations/${CID}`).length).toBeGreaterThan(0)
    expect(store.sortedConversations.map((c) => c.id)).toEqual([CID])
  })

  it('applies my settings from another device (preferences-updated): muted at once, hidden leaves the list, shown again returns', async () => {
    const store = setup()
    server.add(2)
    await connect()
    await messaging.loadConversations('')
    const ws = FakeWebSocket.last()
    ws.receive({ type: 'preferences-updated', data: { conversationId: CID, muted: true, hidden: false } })
    expect(store.conversations[CID]).toMatchObject({ muted: true, hidden: false })
    expect(store.totalUnread).toBe(0)
    ws.receive({ type: 'preferences-updated', data: { conversationId: CID, muted: true, hidden: true } })
    expect(store.sortedConversations).toEqual([])
    // Still held (a search finds it), so showing it again needs no fetch.
    server.calls = []
    ws.receive({ type: 'preferences-updated', data: { conversationId: CID, muted: false, hidden: false } })
    expect(store.sortedConversations.map((c) => [c.id, c.muted])).toEqual([[CID, false]])
    await settle()
    expect(server.callsTo('GET', `/api/messaging/conversations/${CID}`)).toEqual([])
  })

  it('fetches and lists a conversation shown again on another device that this page never held (hidden when it loaded)', async () => {
    const store = setup()
    await connect()
    store.setConversationPage([], null, { query: '' })
    server.detail = detail({ muted: true, hidden: false })
    const ws = FakeWebSocket.last()
    // Hidden or muted elsewhere while not held here: nothing to show, nothing fetched.
    ws.receive({ type: 'preferences-updated', data: { conversationId: CID, muted: true, hidden: true } })
    await settle()
    expect(server.callsTo('GET', `/api/messaging/conversations/${CID}`)).toEqual([])
    expect(store.conversations[CID]).toBeUndefined()

    ws.receive({ type: 'preferences-updated', data: { conversationId: CID, muted: true, hidden: false } })
    await settle()
    expect(server.callsTo('GET', `/api/messaging/conversations/${CID}`)).toHaveLength(1)
    expect(store.sortedConversations.map((c) => [c.id, c.muted])).toEqual([[CID, true]])
  })

  it('lists again a conversation I show again here, from the PATCH answer, even when the list never held it', async () => {
    const store = setup()
    store.setConversationPage([], null, { query: '' })
    await messaging.openConversation(CID) // by its URL: held, but not listed
    server.overrides.push({
      match: (c) => c.method === 'PATCH' && c.path.endsWith('/preferences'),
      handler: () => ({ status: 200, body: { conversationId: CID, muted: false, hidden: false } }),
    })
    expect(store.sortedConversations).toEqual([])
    await messaging.setPreferences(CID, { hidden: false })
    expect(store.sortedConversations.map((c) => c.id)).toEqual([CID])
  })

  it('a disabled account: the ticket refused with 401 after the server closed the socket is reported once, and nothing retries', async () => {
    const onUnauthorized = vi.fn()
    const store = setup(onUnauthorized)
    await connect()
    server.failures.push({ match: (c) => c.path === '/api/messaging/ws-ticket', status: 401, times: 100 })
    server.calls = []
    FakeWebSocket.last().drop(1000) // the server closes a disabled user's sockets
    await settle(120_000)
    expect(server.callsTo('POST', '/ws-ticket')).toHaveLength(1)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(store.connection).toBe('offline')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('announces a new message of a muted conversation only when it is the open one', async () => {
    const store = setup()
    await connect()
    store.setConversationPage([summary({ muted: true })], null)
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: message(1) } })
    expect(store.announcement).toBe('')
    store.activeConversationId = CID
    FakeWebSocket.last().receive({ type: 'new-message', data: { conversationId: CID, message: message(2) } })
    expect(store.announcement).toBe('Ana Alvarez: message 2')
  })
})
