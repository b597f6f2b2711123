// The "New messages" divider (src/utils/unread.ts and MessageThread) and "Jump to latest":
// where the divider goes, that it stays while the conversation is open and reading moves
// the watermark on, that reading waits until it is known, and the floating button.

import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import MessageThread from '../../src/components/MessageThread.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore, type MessagingStore } from '../../src/stores/messagingStore'
import { dividerSeq, readAtOpen } from '../../src/utils/unread'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, message, summary } from './fixtures'

let messaging: Messaging
let server: FakeServer
let store: MessagingStore

beforeEach(() => {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  store = useMessagingStore()
  store.setMe(BEN)
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
})

afterEach(() => {
  messaging.stop()
  setMessaging(null)
  setApi(null)
  document.body.innerHTML = ''
})

describe('the divider, as a rule', () => {
  it('remembers my watermark at open, and whether anything was unread', () => {
    expect(readAtOpen(undefined)).toBeNull()
    expect(readAtOpen({ lastSeq: 5, lastReadSeq: 2 })).toEqual({ readSeq: 2, hadUnread: true })
    expect(readAtOpen({ lastSeq: 5, lastReadSeq: 5 })).toEqual({ readSeq: 5, hadUnread: false })
  })

  it('goes above the first message after that watermark, from someone else', () => {
    const messages = [message(1), message(2), message(3, { senderId: ME }), message(4), message(5)]
    expect(dividerSeq(messages, { readSeq: 2, hadUnread: true }, ME)).toBe(4)
    expect(dividerSeq(messages, { readSeq: 3, hadUnread: true }, ME)).toBe(4)
    expect(dividerSeq(messages, { readSeq: 0, hadUnread: true }, ME)).toBe(1)
    // Nothing unread at open: none, even once newer messages arrive.
    expect(dividerSeq(messages, { readSeq: 2, hadUnread: false }, ME)).toBeNull()
    expect(dividerSeq(messages, null, ME)).toBeNull()
    // The first unread ones not loaded yet: the first held, until older pages come.
    expect(dividerSeq(messages.slice(3), { readSeq: 1, hadUnread: true }, ME)).toBe(4)
    expect(dividerSeq([], { readSeq: 1, hadUnread: true }, ME)).toBeNull()
  })
})

/** The seq of the message right below the divider, or null when there is none. */
function seqBelowDivider(w: VueWrapper): string | null {
  const divider = w.find('[data-testid=unread-divider]')
  if (!divider.exists()) return null
  return (divider.element.nextElementSibling as HTMLElement | null)?.dataset.seq ?? 'nothing'
}

function openWith(lastReadSeq: number, count = 5) {
  store.setConversationPage([summary({ lastSeq: count, lastReadSeq })], null)
  store.mergeMessages(CID, Array.from({ length: count }, (_, i) => message(i + 1)))
  store.setThreadFlags(CID, { loaded: true, hasMoreBefore: false })
}

describe('MessageThread: "New messages"', () => {
  it('shows the divider above the first unread message, and keeps it there as reading moves on', async () => {
    openWith(2)
    const w = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(seqBelowDivider(w)).toBe('3')
    expect(w.get('[data-testid=unread-divider]').text()).toBe('New messages')
    // At the bottom of a visible page: marked read; the divider does not move.
    expect(server.callsTo('POST', '/read').map((c) => c.body)).toEqual([{ seq: 5 }])
    expect(store.myReadSeq(CID)).toBe(5)
    expect(seqBelowDivider(w)).toBe('3')
    // Nor when another message arrives, or when I write.
    store.mergeMessages(CID, [message(6), message(7, { senderId: ME })])
    await flushPromises()
    expect(seqBelowDivider(w)).toBe('3')
    expect(w.findAll('[data-testid=unread-divider]')).toHaveLength(1)
    w.unmount()

    // Opened again with nothing unread: no divider.
    const again = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(seqBelowDivider(again)).toBeNull()
  })

  it('shows none when nothing was unread, even as new messages arrive', async () => {
    openWith(5)
    const w = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    store.mergeMessages(CID, [message(6)])
    await flushPromises()
    expect(seqBelowDivider(w)).toBeNull()
  })

  it('waits for my watermark before marking read when the messages come first (a deep link)', async () => {
    store.mergeMessages(CID, [1, 2, 3, 4].map((seq) => message(seq)))
    store.setThreadFlags(CID, { loaded: true })
    const w = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(server.callsTo('POST', '/read')).toHaveLength(0)
    expect(seqBelowDivider(w)).toBeNull()
    // The conversation's entry arrives (the list, or its detail): the divider, then the read.
    store.setConversationPage([summary({ lastSeq: 4, lastReadSeq: 1 })], null)
    await flushPromises()
    expect(seqBelowDivider(w)).toBe('2')
    expect(server.callsTo('POST', '/read').map((c) => c.body)).toEqual([{ seq: 4 }])
    expect(seqBelowDivider(w)).toBe('2')
  })
})

/** Gives the (layout-less) scroller a size and a position, and says it scrolled. */
function scrollTo(w: VueWrapper, top: number, height = 2000, client = 500) {
  const el = w.get('[data-testid=thread-scroll]').element as HTMLElement
  let scrollTop = top
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => height })
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => client })
  Object.defineProperty(el, 'scrollTop', { configurable: true, get: () => scrollTop, set: (v: number) => (scrollTop = Math.min(v, height - client)) })
  el.dispatchEvent(new Event('scroll'))
  return el
}

describe('MessageThread: "Jump to latest"', () => {
  it('appears once scrolled up, counts what arrives meanwhile, and goes back to the newest message', async () => {
    openWith(5)
    const w = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(w.find('[data-testid=jump-latest]').exists()).toBe(false)

    const el = scrollTo(w, 600)
    await flushPromises()
    const button = w.get('[data-testid=jump-latest]')
    expect(button.element.tagName).toBe('BUTTON')
    expect(button.attributes('type')).toBe('button')
    expect(button.attributes('aria-label')).toBe('Jump to latest')
    expect(button.text()).toContain('Jump to latest')

    store.mergeMessages(CID, [message(6, { senderId: ANA })])
    await flushPromises()
    store.mergeMessages(CID, [message(7, { senderId: ANA })])
    await flushPromises()
    expect(w.get('[data-testid=jump-latest]').attributes('aria-label')).toBe('Jump to latest, 2 new messages')
    expect(w.get('[data-testid=jump-latest-count]').text()).toBe('2')
    // Not at the bottom: not read yet.
    expect(store.myReadSeq(CID)).toBe(5)

    // Keyboard: focused, then activated (Enter on a button is a click).
    ;(w.get('[data-testid=jump-latest]').element as HTMLButtonElement).focus()
    await w.get('[data-testid=jump-latest]').trigger('click')
    await flushPromises()
    expect(el.scrollTop).toBe(1500)
    expect(w.find('[data-testid=jump-latest]').exists()).toBe(false)
    expect(store.myReadSeq(CID)).toBe(7)
    // The focus goes on to the composer rather than being lost with the button.
    expect(document.activeElement).toBe(w.get('[data-testid=composer-input]').element)
  })

  it('goes away when the reader scrolls back to the bottom by themselves', async () => {
    openWith(5)
    const w = mount(MessageThread, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    scrollTo(w, 600)
    await flushPromises()
    expect(w.find('[data-testid=jump-latest]').exists()).toBe(true)
    scrollTo(w, 1480)
    await flushPromises()
    expect(w.find('[data-testid=jump-latest]').exists()).toBe(false)
  })
})
