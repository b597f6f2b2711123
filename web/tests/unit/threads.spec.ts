// Replies and threads: the store's bookkeeping of reply counts (live replies count once,
// whatever order and however often they come; a page's replies ask for the root again),
// quotes that follow their message, the thread panel's paging and live replies, the
// service's sends with `replyToId` (through retries and a sign-in again), and the quote,
// the composer's reply state and the thread panel as components.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import MessageBubble from '../../src/components/MessageBubble.vue'
import MessageInput from '../../src/components/MessageInput.vue'
import MessageQuote from '../../src/components/MessageQuote.vue'
import ThreadPanel from '../../src/components/ThreadPanel.vue'
import { drafts } from '../../src/composables/drafts'
import { restoreOutbox, saveOutbox, takeOutbox } from '../../src/composables/outbox'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { newerCopy, useMessagingStore, type MessagingStore } from '../../src/stores/messagingStore'
import type { MessageView, QuoteView, ServerEvent } from '../../src/types'
import { excerptOf, quoteOf, quoteText, repliesLabel, replyTargetOf } from '../../src/utils/replies'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, flush, message, summary } from './fixtures'

let server: FakeServer
let messaging: Messaging

function setup(): MessagingStore {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  const store = useMessagingStore()
  store.setMe(BEN)
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
  return store
}

/** A reply of Ana's to `original`, stored on the fake server (which counts it on the root). */
function serverReply(original: MessageView, overrides: Partial<MessageView> = {}): MessageView {
  const seq = server.messages.length + 1
  const reply = message(seq, overrides)
  server.reply(reply, original)
  server.messages.push(reply)
  return structuredClone(reply)
}

function newMessage(m: MessageView): ServerEvent {
  return { type: 'new-message', data: { conversationId: CID, message: structuredClone(m) } }
}

const held = (store: MessagingStore, seq: number) => store.threads[CID]!.messages.find((m) => m.seq === seq)!

/** A conversation holding Ana's messages 1..3, Ben and Ana in it. */
async function opened(): Promise<MessagingStore> {
  const store = setup()
  server.add(3)
  store.upsertSummary(summary({ lastSeq: 3 }))
  store.setDetail(detail())
  await messaging.openConversation(CID)
  return store
}

beforeEach(() => drafts.clear())

afterEach(() => {
  messaging?.stop()
  setMessaging(null)
  setApi(null)
  sessionStorage.clear()
})

describe('replies: quotes and labels', () => {
  it('quotes a message as the server does: 140 characters then "…", nothing once deleted, its files counted', () => {
    expect(excerptOf('x'.repeat(141))).toBe('x'.repeat(140) + '…')
    expect(excerptOf('ü'.repeat(140))).toBe('ü'.repeat(140))
    const m = message(4, { body: 'The plan', files: [{ id: 'f', name: 'a.pdf', size: 1, contentType: 'application/pdf' }] })
    expect(quoteOf(m)).toEqual({ messageId: 'm4', seq: 4, senderId: ANA, senderName: 'Ana Alvarez', excerpt: 'The plan', deleted: false, fileCount: 1 })
    expect(quoteOf({ ...m, body: null, deleted: true })).toMatchObject({ excerpt: '', deleted: true, fileCount: 0 })
    expect(replyTargetOf(m).rootSeq).toBe(4)
    expect(replyTargetOf({ ...m, threadRoot: 2 }).rootSeq).toBe(2)
  })

  it('says "Message deleted", "N files" for a files-only quote, and "1 reply" / "N replies"', () => {
    const q: QuoteView = { messageId: 'm1', seq: 1, senderId: ANA, senderName: 'Ana', excerpt: '', deleted: false, fileCount: 2 }
    expect(quoteText(q)).toBe('2 files')
    expect(quoteText({ ...q, fileCount: 1 })).toBe('1 file')
    expect(quoteText({ ...q, deleted: true })).toBe('Message deleted')
    expect(quoteText({ ...q, excerpt: 'hello' })).toBe('hello')
    expect([repliesLabel(1), repliesLabel(2)]).toEqual(['1 reply', '2 replies'])
  })
})

describe('replies: reply counts in the store', () => {
  beforeEach(() => {
    setup()
  })

  it('counts a reply that arrives live once, however often it comes (POST answer, event, a duplicate)', () => {
    const store = useMessagingStore()
    store.mergeMessages(CID, [message(1), message(2)])
    const reply = message(3, { senderId: ME, threadRoot: 1, replyToSeq: 1, clientMessageId: 'c-reply' })
    store.addPending(CID, { clientMessageId: 'c-reply', body: 'yes', replyTo: replyTargetOf(held(store, 1)) })
    // The pending copy does not count yet.
    expect(held(store, 1).replyCount).toBe(0)
    store.mergeMessages(CID, [reply], { live: true })
    expect(held(store, 1).replyCount).toBe(1)
    expect(store.threads[CID]!.pending).toEqual([])
    store.mergeMessages(CID, [structuredClone(reply)], { live: true })
    store.mergeMessages(CID, [structuredClone(reply)], { live: true })
    expect(held(store, 1).replyCount).toBe(1)
    // A reply to a reply counts on the thread's root.
    store.mergeMessages(CID, [message(4, { threadRoot: 1, replyToSeq: 3 })], { live: true })
    expect(held(store, 1).replyCount).toBe(2)
    expect(held(store, 3).replyCount).toBe(0)
  })

  it('does not count a page\'s replies: a root in the same page counts them already; a root held before is named stale', () => {
    const store = useMessagingStore()
    const fresh = store.mergeMessages(CID, [message(1, { replyCount: 1 }), message(2, { threadRoot: 1 })])
    expect(fresh.staleRoots).toEqual([])
    expect(held(store, 1).replyCount).toBe(1)
    const later = store.mergeMessages(CID, [message(3, { threadRoot: 1 }), message(4, { threadRoot: 1 })])
    expect(later.staleRoots).toEqual([1])
    expect(held(store, 1).replyCount).toBe(1)
    // Replies whose root is not held: nothing to count, nothing to ask for.
    expect(store.mergeMessages(CID, [message(9, { threadRoot: 7 })]).staleRoots).toEqual([])
  })

  it('keeps the larger count of two copies of a root (a page fetched before a live reply lands after it)', () => {
    const counted = message(1, { replyCount: 3 })
    const stale = message(1, { replyCount: 2 })
    expect(newerCopy(counted, stale).replyCount).toBe(3)
    expect(newerCopy(stale, counted).replyCount).toBe(3)
    const store = useMessagingStore()
    store.mergeMessages(CID, [counted])
    store.mergeMessages(CID, [stale])
    expect(held(store, 1).replyCount).toBe(3)
  })

  it('keeps the quotes of a message current: an edit changes their excerpt, a deletion says so', () => {
    const store = useMessagingStore()
    const original = message(1, { body: 'first words' })
    const reply = message(2, { threadRoot: 1, replyToSeq: 1, quote: quoteOf(original) })
    store.mergeMessages(CID, [original, reply])
    store.applyMessageUpdated(CID, { ...original, body: 'new words', editedAt: '2026-11-23T11:00:00.000Z' })
    expect(held(store, 2).quote).toMatchObject({ excerpt: 'new words', deleted: false })
    store.applyMessageUpdated(CID, { ...original, body: null, deleted: true, deletedAt: '2026-11-23T12:00:00.000Z' })
    expect(held(store, 2).quote).toMatchObject({ excerpt: '', deleted: true })
  })
})

describe('replies: sending', () => {
  it('sends a reply with replyToId, shows its quote while pending, and counts it on the root once the answer and the event came', async () => {
    const store = await opened()
    const root = held(store, 2)
    const cm = messaging.sendMessage(CID, 'Agreed', [], replyTargetOf(root))
    expect(store.findPending(CID, cm)!.replyTo).toMatchObject({ messageId: 'm2', rootSeq: 2, excerpt: 'message 2' })
    await flush()
    const posts = server.callsTo('POST', '/messages')
    expect(posts.map((c) => c.body)).toEqual([{ body: 'Agreed', clientMessageId: cm, replyToId: 'm2' }])
    const stored = server.messages[3]!
    expect(held(store, 4)).toMatchObject({ threadRoot: 2, quote: { messageId: 'm2' } })
    expect(held(store, 2).replyCount).toBe(1)
    messaging.handleEvent(newMessage(stored))
    expect(held(store, 2).replyCount).toBe(1)
    // Someone else's reply, live.
    messaging.handleEvent(newMessage(serverReply(server.messages[1]!)))
    expect(held(store, 2).replyCount).toBe(2)
    messaging.handleEvent(newMessage(server.messages[4]!))
    expect(held(store, 2).replyCount).toBe(2)
  })

  it('a failed reply retried goes again with the same replyToId; a reply to a deleted message says why it failed', async () => {
    const store = await opened()
    server.failures.push({ match: (c) => c.method === 'POST' && c.path.endsWith('/messages'), status: 'network', times: 1 })
    const cm = messaging.sendMessage(CID, 'Once more', [], replyTargetOf(held(store, 1)))
    await flush()
    expect(store.findPending(CID, cm)!.status).toBe('failed')
    await messaging.retrySend(CID, cm)
    const posts = server.callsTo('POST', '/messages').map((c) => c.body as { clientMessageId: string; replyToId?: string })
    expect(posts).toEqual([expect.objectContaining({ clientMessageId: cm, replyToId: 'm1' }), expect.objectContaining({ clientMessageId: cm, replyToId: 'm1' })])
    expect(held(store, 4).threadRoot).toBe(1)

    server.messages[0]!.deleted = true
    const late = messaging.sendMessage(CID, 'Too late', [], replyTargetOf(held(store, 1)))
    await flush()
    expect(store.findPending(CID, late)).toMatchObject({ status: 'failed', error: 'the message was deleted' })
  })

  it('a pending reply survives signing in again: saved with its target, restored and sent with replyToId', async () => {
    const store = await opened()
    store.addPending(CID, { clientMessageId: 'cm-r', body: 'Later', replyTo: replyTargetOf(held(store, 3)) })
    saveOutbox(ME, store, new Map())
    const outbox = takeOutbox(ME)!
    expect(outbox.sends[0]!.replyTo).toMatchObject({ messageId: 'm3', rootSeq: 3 })
    messaging.stop()
    const fresh = setup()
    server.add(3)
    restoreOutbox(outbox, messaging, new Map())
    expect(fresh.findPending(CID, 'cm-r')!.replyTo?.messageId).toBe('m3')
    await flush()
    expect(server.callsTo('POST', '/messages').map((c) => c.body)).toEqual([{ body: 'Later', clientMessageId: 'cm-r', replyToId: 'm3' }])
    // An outbox saved before replies (no replyTo) is still read.
    sessionStorage.setItem('messaging.outbox', JSON.stringify({ userId: ME, sends: [{ conversationId: CID, clientMessageId: 'old', body: 'b', fileIds: [], files: [] }], drafts: [] }))
    expect(takeOutbox(ME)!.sends.map((s) => s.clientMessageId)).toEqual(['old'])
  })
})

describe('threads: the panel', () => {
  it('pages a thread forward from its root ("Load more" with after), replies to replies included', async () => {
    const store = await opened()
    const root = server.messages[0]!
    for (let i = 0; i < 60; i++) serverReply(i === 30 ? server.messages[5]! : root)
    await messaging.catchUp(CID)
    await flush()
    // The page's replies were not heard live: the root was asked for again.
    expect(held(store, 1).replyCount).toBe(60)

    await messaging.openReplyThread(CID, held(store, 1))
    const panel = store.replyThread!
    expect(panel.root?.id).toBe('m1')
    expect(panel.items.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 4))
    expect(panel.hasMore).toBe(true)
    await messaging.loadReplies(CID)
    expect(store.replyThread!.items.map((m) => m.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 4))
    expect(store.replyThread!.hasMore).toBe(false)
    const pages = () => server.callsTo('GET', '/thread').filter((c) => c.query.get('limit') !== '1')
    expect(pages().map((c) => c.query.get('after'))).toEqual([null, '53'])
    // Nothing more to fetch: no request.
    await messaging.loadReplies(CID)
    expect(pages()).toHaveLength(2)
  })

  it('opened from a reply, shows its root\'s thread; live replies join it and count once on its root', async () => {
    const store = await opened()
    const first = serverReply(server.messages[0]!)
    messaging.handleEvent(newMessage(first))
    await messaging.openReplyThread(CID, held(store, 4))
    expect(store.replyThread!.rootSeq).toBe(1)
    expect(store.replyThread!.root?.replyCount).toBe(1)
    expect(store.replyThread!.items.map((m) => m.id)).toEqual(['m4'])

    const second = serverReply(server.messages[3]!)
    messaging.handleEvent(newMessage(second))
    messaging.handleEvent(newMessage(second))
    expect(store.replyThread!.items.map((m) => m.id)).toEqual(['m4', 'm5'])
    expect(store.replyThread!.root?.replyCount).toBe(2)
    expect(held(store, 1).replyCount).toBe(2)
    // Another thread's reply stays out of it.
    messaging.handleEvent(newMessage(serverReply(server.messages[1]!)))
    expect(store.replyThread!.items.map((m) => m.id)).toEqual(['m4', 'm5'])
    // An edit and a reaction reach the panel's copies too.
    store.applyMessageUpdated(CID, { ...second, body: 'edited', editedAt: '2026-11-23T11:00:00.000Z' })
    store.applyReactions(CID, 'm5', 5, [{ emoji: '👍', userIds: [ANA] }])
    expect(store.replyThread!.items[1]).toMatchObject({ body: 'edited', reactions: [{ emoji: '👍', userIds: [ANA] }] })
  })

  it('a catch-up that brings replies asks for their root again: its count and the open panel follow', async () => {
    const store = await opened()
    await messaging.openReplyThread(CID, held(store, 2))
    // Replies written while this page was away: no event was heard.
    serverReply(server.messages[1]!)
    serverReply(server.messages[1]!)
    await messaging.catchUp(CID)
    await flush()
    const asked = server.callsTo('GET', '/thread')
    expect(asked[asked.length - 1]!.query.get('limit')).toBe('1')
    expect(held(store, 2).replyCount).toBe(2)
    expect(store.replyThread!.root?.replyCount).toBe(2)
    expect(store.replyThread!.items.map((m) => m.seq)).toEqual([4, 5])
  })

  it('drops the answer of a panel closed meanwhile; leaving the conversation closes it', async () => {
    const store = await opened()
    serverReply(server.messages[0]!)
    const opening = messaging.openReplyThread(CID, held(store, 1))
    messaging.closeReplyThread()
    await opening
    expect(store.replyThread).toBeNull()
    await messaging.openReplyThread(CID, held(store, 1))
    messaging.closeConversation(CID)
    expect(store.replyThread).toBeNull()
  })
})

describe('replies: components', () => {
  it('a quote shows the sender and the excerpt, "Message deleted" or "N files", and a click asks to show the original', async () => {
    setup()
    const quote: QuoteView = { messageId: 'm1', seq: 1, senderId: ANA, senderName: 'Ana Alvarez', excerpt: 'The plan', deleted: false, fileCount: 0 }
    const w = mount(MessageQuote, { props: { quote } })
    expect(w.get('[data-testid=message-quote-sender]').text()).toBe('Ana Alvarez')
    expect(w.get('[data-testid=message-quote-text]').text()).toBe('The plan')
    expect(w.get('button').text()).toContain('Show the original message')
    await w.get('button').trigger('click')
    expect(w.emitted('show')).toEqual([[1]])
    await w.setProps({ quote: { ...quote, excerpt: '', deleted: true } })
    expect(w.get('[data-testid=message-quote-text]').text()).toBe('Message deleted')
    expect(w.get('[data-testid=message-quote]').attributes('data-deleted')).toBe('true')
    await w.setProps({ quote: { ...quote, excerpt: '', fileCount: 3 } })
    expect(w.get('[data-testid=message-quote-text]').text()).toBe('3 files')
    await w.setProps({ interactive: false, mine: true })
    expect(w.find('button').exists()).toBe(false)
    expect(w.get('[data-testid=message-quote-sender]').text()).toBe('You')
  })

  it('a reply shows its quote above its text; a root says "N replies" and opens its thread; Reply asks to answer it', async () => {
    const store = setup()
    store.setDetail(detail())
    const original = message(1, { body: 'The plan', replyCount: 2 })
    const reply = message(2, { body: 'Yes', threadRoot: 1, replyToSeq: 1, quote: quoteOf(original) })
    const w = mount(MessageBubble, { props: { conversationId: CID, message: reply, mine: false }, attachTo: document.body })
    const bubble = w.get('.msg__bubble').element
    expect(bubble.querySelector('[data-testid=message-quote]')!.compareDocumentPosition(bubble.querySelector('[data-testid=message-body]')!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
    await w.get('[data-testid=message-quote]').trigger('click')
    expect(w.emitted('show')).toEqual([[1]])
    await w.get('[data-testid=reply]').trigger('click')
    expect(w.emitted('reply')![0]![0]).toMatchObject({ id: 'm2' })
    // No count on a reply; in a thread panel, no quote of the root either.
    expect(w.find('[data-testid=reply-count]').exists()).toBe(false)
    await w.setProps({ context: 'thread', rootSeq: 1 })
    expect(w.find('[data-testid=message-quote]').exists()).toBe(false)
    w.unmount()

    const r = mount(MessageBubble, { props: { conversationId: CID, message: original, mine: false }, attachTo: document.body })
    expect(r.get('[data-testid=reply-count]').text()).toContain('2 replies')
    await r.get('[data-testid=reply-count]').trigger('click')
    expect(r.emitted('open-thread')![0]![0]).toMatchObject({ id: 'm1' })
    await r.get('[aria-label="Message actions"]').trigger('click')
    await r.findAll('[role=menuitem]').find((i) => i.text() === 'Reply')!.trigger('click')
    expect(r.emitted('reply')).toHaveLength(1)
    await r.setProps({ context: 'thread' })
    expect(r.find('[data-testid=reply-count]').exists()).toBe(false)
    r.unmount()
  })

  it('the composer says "Replying to <name>: <excerpt>", cancels with its button or Escape, and sends the reply', async () => {
    const store = setup()
    store.setDetail(detail())
    const w = mount(MessageInput, { props: { conversationId: CID }, attachTo: document.body })
    expect(w.find('[data-testid=composer-reply]').exists()).toBe(false)
    store.setReplyTarget(CID, replyTargetOf(message(7, { body: 'Can you check the numbers?' })))
    await flushPromises()
    expect(w.get('[data-testid=composer-reply]').text()).toBe('Replying to Ana Alvarez: Can you check the numbers?')
    expect(document.activeElement).toBe(w.get('textarea').element)
    await w.get('textarea').trigger('keydown', { key: 'Escape' })
    expect(w.find('[data-testid=composer-reply]').exists()).toBe(false)
    expect(store.replyTargets[CID]).toBeUndefined()

    store.setReplyTarget(CID, replyTargetOf(message(7, { senderId: ME, senderName: 'Ben Carter' })))
    await flushPromises()
    expect(w.get('[data-testid=composer-reply]').text()).toContain('Replying to yourself')
    await w.get('[data-testid=cancel-reply]').trigger('click')
    expect(w.find('[data-testid=composer-reply]').exists()).toBe(false)

    store.setReplyTarget(CID, replyTargetOf(message(7)))
    await flushPromises()
    await w.get('textarea').setValue('Checked')
    await w.get('textarea').trigger('keydown', { key: 'Enter' })
    const pending = store.threads[CID]!.pending
    expect(pending.map((p) => [p.body, p.replyTo?.messageId])).toEqual([['Checked', 'm7']])
    expect(store.replyTargets[CID]).toBeUndefined()
    expect(w.find('[data-testid=composer-reply]').exists()).toBe(false)
    w.unmount()
  })

  it('the thread panel lists the root and its replies, loads more, replies within the thread, takes the focus and closes on Escape', async () => {
    const store = await opened()
    const root = server.messages[0]!
    for (let i = 0; i < 52; i++) serverReply(root)
    await messaging.catchUp(CID)
    const opener = document.createElement('button')
    document.body.appendChild(opener)
    opener.focus()
    await messaging.openReplyThread(CID, held(store, 1))
    const w = mount(ThreadPanel, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(document.activeElement?.textContent).toBe('Thread')
    expect(w.get('[data-testid=thread-panel-count]').text()).toBe('52 replies')
    const bodies = () => w.findAll('[data-testid=message-body]').map((b) => b.text())
    expect(bodies()).toHaveLength(51)
    expect(bodies()[0]).toBe('message 1')
    await w.get('[data-testid=thread-load-more]').trigger('click')
    await flushPromises()
    expect(bodies()).toHaveLength(53)
    expect(w.find('[data-testid=thread-load-more]').exists()).toBe(false)
    // The root's reply button leaves the composer on the root; a reply's makes it answer that reply.
    expect(w.find('[data-testid=composer-reply]').exists()).toBe(false)
    await w.findAll('[data-testid=message]')[2]!.get('[data-testid=reply]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=composer-reply]').text()).toContain('Replying to Ana Alvarez: message 5')
    await w.get('[data-testid=cancel-reply]').trigger('click')
    await w.get('textarea').setValue('Within')
    await w.get('textarea').trigger('keydown', { key: 'Enter' })
    expect(store.threads[CID]!.pending[0]!.replyTo).toMatchObject({ messageId: 'm1', rootSeq: 1 })
    // The pending reply shows in the panel at once.
    await flushPromises()
    expect(bodies()).toContain('Within')
    await w.get('[data-testid=thread-panel]').trigger('keydown', { key: 'Escape' })
    expect(w.emitted('close')).toHaveLength(1)
    messaging.closeReplyThread()
    w.unmount()
    expect(document.activeElement).toBe(opener)
    opener.remove()
  })
})
