// Emoji reactions: the vocabulary against the server's, the store's reducer (events and
// answers replace the set; my requests on their way are laid over it), the service's
// optimistic toggle (reconciled, or taken back on a refusal), and the chips and the picker.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../../src/api/client'
import MessageBubble from '../../src/components/MessageBubble.vue'
import MessageReactions from '../../src/components/MessageReactions.vue'
import ReactionPicker from '../../src/components/ReactionPicker.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useToasts } from '../../src/composables/useToasts'
import { useMessagingStore } from '../../src/stores/messagingStore'
import type { Reaction } from '../../src/types'
import { REACTIONS, nameList, withReaction } from '../../src/utils/reactions'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, message, participant, summary } from './fixtures'
// The server's vocabulary from its source: a constant has no generated copy in api/wire.ts
// (vitest.config.ts lets the tests read this one file outside web/).
import reactionsRs from '../../../shared/core/src/reactions.rs?raw'

const CLEO = 'u-team-cleo'

let server: FakeServer
let messaging: Messaging

function setup() {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const store = useMessagingStore()
  store.setMe(BEN)
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
  return store
}

/** A thread holding messages 1..3 (Ana's), with Ben and Ana as participants. */
function withThread() {
  const store = setup()
  server.add(3)
  store.upsertSummary(summary({ lastSeq: 3 }))
  store.setDetail(detail({ participants: [participant(ME), participant(ANA), participant(CLEO, { name: 'Cleo Park' })] }))
  store.mergeMessages(CID, server.messages.map((m) => structuredClone(m)))
  return store
}

function event(messageId: string, seq: number, reactions: Reaction[], userId = ANA, emoji = '👍', added = true) {
  return { type: 'message-reactions' as const, data: { conversationId: CID, messageId, seq, userId, emoji, added, reactions } }
}

/** An answer the test lets go when it wants. */
function held() {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  return { gate, release }
}

afterEach(() => {
  messaging?.stop()
  setMessaging(null)
  useToasts().toasts.splice(0)
})

describe('reactions: the vocabulary', () => {
  it('is the server\'s, in its order (shared/core/src/reactions.rs)', () => {
    const list = /pub const VOCABULARY: &\[&str\] = &\[([^\]]*)\]/.exec(reactionsRs)
    expect(list, 'VOCABULARY found in reactions.rs').not.toBeNull()
    const server = [...list![1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1])
    expect(REACTIONS.map((r) => r.emoji)).toEqual(server)
    expect(new Set(REACTIONS.map((r) => r.name)).size).toBe(REACTIONS.length)
  })

  it('adds and takes away one person\'s reaction, keeping the vocabulary\'s order and sorted ids', () => {
    const start: Reaction[] = [{ emoji: '🎉', userIds: [ANA] }]
    const added = withReaction(start, '👍', ME, true)
    expect(added).toEqual([{ emoji: '👍', userIds: [ME] }, { emoji: '🎉', userIds: [ANA] }])
    expect(withReaction(added, '🎉', CLEO, true)[1]).toEqual({ emoji: '🎉', userIds: [ANA, CLEO] })
    expect(withReaction(added, '👍', ME, false)).toEqual(start)
    expect(withReaction(start, '👍', ME, false)).toEqual(start)
    expect(start).toEqual([{ emoji: '🎉', userIds: [ANA] }]) // not changed in place
  })

  it('names who reacted as a sentence, at most ten names', () => {
    expect(nameList(['Ana'])).toBe('Ana')
    expect(nameList(['You', 'Ana'])).toBe('You and Ana')
    expect(nameList(['You', 'Ana', 'Cleo'])).toBe('You, Ana and Cleo')
    expect(nameList(Array.from({ length: 12 }, (_, i) => `P${i}`))).toBe('P0, P1, P2, P3, P4, P5, P6, P7, P8, P9 and 2 others')
  })
})

describe('reactions: the store', () => {
  it('replaces a message\'s reactions with the set an event carries, found by id and seq', () => {
    const store = withThread()
    store.applyReactions(CID, 'm2', 2, [{ emoji: '👍', userIds: [ANA] }])
    store.applyReactions(CID, 'm2', 2, [{ emoji: '👍', userIds: [ANA, ME] }, { emoji: '🔥', userIds: [CLEO] }])
    expect(store.threads[CID]!.messages[1]!.reactions).toEqual([{ emoji: '👍', userIds: [ANA, ME] }, { emoji: '🔥', userIds: [CLEO] }])
    // A set without an emoji any more: it goes (replaced, not merged).
    store.applyReactions(CID, 'm2', 2, [{ emoji: '🔥', userIds: [CLEO] }])
    expect(store.threads[CID]!.messages[1]!.reactions).toEqual([{ emoji: '🔥', userIds: [CLEO] }])
    expect(store.threads[CID]!.messages[0]!.reactions).toEqual([])
  })

  it('ignores an event for a message it does not hold, or for a deleted one', () => {
    const store = withThread()
    const before = JSON.stringify(store.threads)
    store.applyReactions(CID, 'm99', 99, [{ emoji: '👍', userIds: [ANA] }])
    store.applyReactions('other-conversation', 'm1', 1, [{ emoji: '👍', userIds: [ANA] }])
    // The seq of one message with the id of none: not that message.
    store.applyReactions(CID, 'not-m1', 1, [{ emoji: '👍', userIds: [ANA] }])
    expect(JSON.stringify(store.threads)).toBe(before)
    store.applyMessageUpdated(CID, { ...store.threads[CID]!.messages[0]!, body: null, deleted: true, deletedAt: '2026-11-23T12:00:00.000Z' })
    store.applyReactions(CID, 'm1', 1, [{ emoji: '👍', userIds: [ANA] }])
    expect(store.threads[CID]!.messages[0]!.reactions).toEqual([])
    expect(store.reactionsOf(store.threads[CID]!.messages[0]!)).toEqual([])
  })

  it('shows my reaction on its way over the server\'s set, and nothing once it is cleared', () => {
    const store = withThread()
    store.applyReactions(CID, 'm1', 1, [{ emoji: '👍', userIds: [ANA] }])
    const m1 = store.threads[CID]!.messages[0]!
    store.setReacting('m1', '👍', true)
    store.setReacting('m1', '🚀', true)
    expect(store.reactionsOf(m1)).toEqual([{ emoji: '👍', userIds: [ANA, ME] }, { emoji: '🚀', userIds: [ME] }])
    expect(store.hasMyReaction(m1, '👍')).toBe(true)
    // An event meanwhile replaces the server's part; mine stays laid over it.
    store.applyReactions(CID, 'm1', 1, [{ emoji: '👍', userIds: [ANA, CLEO] }])
    expect(store.reactionsOf(m1)).toEqual([{ emoji: '👍', userIds: [ANA, ME, CLEO].sort() }, { emoji: '🚀', userIds: [ME] }])
    store.clearReacting('m1', '👍')
    store.clearReacting('m1', '🚀')
    expect(store.reacting).toEqual({})
    expect(store.reactionsOf(m1)).toEqual([{ emoji: '👍', userIds: [ANA, CLEO] }])
  })

  it('names people: You, participants, a sender who left, or a former participant', () => {
    const store = withThread()
    expect(store.nameIn(CID, ME)).toBe('You')
    expect(store.nameIn(CID, CLEO)).toBe('Cleo Park')
    store.setDetail(detail({ participants: [participant(ME)] }))
    expect(store.nameIn(CID, ANA)).toBe('Ana Alvarez') // her messages are held
    expect(store.nameIn(CID, 'u-client-zed')).toBe('A former participant')
  })
})

describe('reactions: the service', () => {
  it('applies a message-reactions event from the socket, replacing the set', async () => {
    const store = withThread()
    messaging.handleEvent(event('m3', 3, [{ emoji: '❤️', userIds: [ANA] }]))
    messaging.handleEvent(event('m3', 3, [{ emoji: '❤️', userIds: [ANA, CLEO] }], CLEO, '❤️'))
    expect(store.threads[CID]!.messages[2]!.reactions).toEqual([{ emoji: '❤️', userIds: [ANA, CLEO] }])
    messaging.handleEvent(event('m404', 404, [{ emoji: '❤️', userIds: [ANA] }]))
    expect(store.threads[CID]!.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3'])
  })

  it('toggles at once, sends PUT then DELETE with the emoji, and takes the server\'s answer', async () => {
    const store = withThread()
    const m2 = () => store.threads[CID]!.messages[1]!
    const add = messaging.toggleReaction(CID, 'm2', '❤️')
    expect(store.reactionsOf(m2())).toEqual([{ emoji: '❤️', userIds: [ME] }])
    await add
    expect(store.reacting).toEqual({})
    expect(m2().reactions).toEqual([{ emoji: '❤️', userIds: [ME] }])
    const put = server.callsTo('PUT', '/messages/m2/reactions')
    expect(put.map((c) => c.body)).toEqual([{ emoji: '❤️' }])

    await messaging.toggleReaction(CID, 'm2', '❤️')
    const del = server.callsTo('DELETE', '/messages/m2/reactions')
    expect(del.map((c) => c.query.get('emoji'))).toEqual(['❤️'])
    expect(m2().reactions).toEqual([])
  })

  it('takes a refused reaction back and rejects with the server\'s reason', async () => {
    const store = withThread()
    server.failures.push({ match: (c) => c.path.endsWith('/reactions'), status: 409, times: 1, error: { code: 'limit_reached', message: 'reactions on a message: at most 120' } })
    const add = messaging.toggleReaction(CID, 'm1', '🎉')
    expect(store.hasMyReaction(store.threads[CID]!.messages[0]!, '🎉')).toBe(true)
    await expect(add).rejects.toMatchObject({ status: 409, code: 'limit_reached' })
    expect(store.reactionsOf(store.threads[CID]!.messages[0]!)).toEqual([])
    expect(store.reacting).toEqual({})
  })

  it('a second click while the first is on its way is sent after it: the server ends as clicked last', async () => {
    const store = withThread()
    const { gate, release } = held()
    server.overrides.push({
      match: (c) => c.method === 'PUT',
      handler: async (c) => {
        await gate
        server.messages[0]!.reactions = withReaction(server.messages[0]!.reactions, (c.body as { emoji: string }).emoji, ME, true)
        return { status: 200, body: structuredClone(server.messages[0]) }
      },
    })
    const first = messaging.toggleReaction(CID, 'm1', '👍')
    const second = messaging.toggleReaction(CID, 'm1', '👍')
    expect(store.reactionsOf(store.threads[CID]!.messages[0]!)).toEqual([])
    release()
    await Promise.all([first, second])
    expect(server.calls.filter((c) => c.path.endsWith('/reactions')).map((c) => c.method)).toEqual(['PUT', 'DELETE'])
    expect(store.threads[CID]!.messages[0]!.reactions).toEqual([])
    expect(store.reacting).toEqual({})
  })

  it('an answer overtaken by an event keeps the event\'s set, with my own reaction as answered', async () => {
    const store = withThread()
    const { gate, release } = held()
    server.overrides.push({
      match: (c) => c.method === 'PUT',
      handler: async () => {
        await gate
        // The answer the server wrote before Cleo's reaction reached it.
        return { status: 200, body: { ...structuredClone(server.messages[0]), reactions: [{ emoji: '👍', userIds: [ME] }] } }
      },
    })
    const add = messaging.toggleReaction(CID, 'm1', '👍')
    // Cleo's event (newer: it has both of us) comes over the socket first.
    messaging.handleEvent(event('m1', 1, [{ emoji: '👍', userIds: [ME, CLEO] }], CLEO))
    release()
    await add
    expect(store.threads[CID]!.messages[0]!.reactions).toEqual([{ emoji: '👍', userIds: [ME, CLEO] }])

    server.overrides = []
    // Without an event in between, the answer is the newest word and replaces the set.
    await messaging.toggleReaction(CID, 'm2', '🔥')
    expect(store.threads[CID]!.messages[1]!.reactions).toEqual([{ emoji: '🔥', userIds: [ME] }])
  })
})

describe('reactions: the chips', () => {
  const nameOf = (id: string) => (id === ME ? 'You' : id === ANA ? 'Ana Alvarez' : 'Cleo Park')

  it('shows each emoji with its count, mine pressed, who reacted in the tooltip and the label', async () => {
    const reactions: Reaction[] = [
      { emoji: '👍', userIds: [ANA, ME] },
      { emoji: '🎉', userIds: [ANA] },
    ]
    const w = mount(MessageReactions, { props: { reactions, nameOf, meId: ME } })
    const chips = w.findAll('[data-testid=reaction]')
    expect(chips.map((c) => c.attributes('data-emoji'))).toEqual(['👍', '🎉'])
    expect(chips.map((c) => c.get('[data-testid=reaction-count]').text())).toEqual(['2', '1'])
    expect(chips.map((c) => c.attributes('aria-pressed'))).toEqual(['true', 'false'])
    expect(chips[0]!.attributes('title')).toBe('Thumbs up: You and Ana Alvarez')
    expect(chips[0]!.attributes('aria-label')).toBe('Thumbs up, 2 reactions: You and Ana Alvarez')
    expect(chips[1]!.attributes('aria-label')).toBe('Party popper, 1 reaction: Ana Alvarez')
    await chips[1]!.trigger('click')
    expect(w.emitted('toggle')).toEqual([['🎉']])
  })

  it('only shows where I may not react, and shows nothing without reactions', async () => {
    const w = mount(MessageReactions, { props: { reactions: [{ emoji: '👍', userIds: [ANA] }], nameOf, meId: ME, interactive: false } })
    expect(w.get('[data-testid=reaction]').attributes('aria-disabled')).toBe('true')
    await w.get('[data-testid=reaction]').trigger('click')
    expect(w.emitted('toggle')).toBeUndefined()
    const none = mount(MessageReactions, { props: { reactions: [], nameOf, meId: ME } })
    expect(none.find('[data-testid=reactions]').exists()).toBe(false)
  })
})

describe('reactions: the picker', () => {
  it('offers the twelve emoji, labelled, mine pressed; arrows move, Escape closes, a click picks', async () => {
    const w = mount(ReactionPicker, { props: { chosen: ['👀'] }, attachTo: document.body })
    await flushPromises()
    const options = w.findAll('[data-testid=reaction-option]')
    expect(options.map((o) => o.attributes('data-emoji'))).toEqual(REACTIONS.map((r) => r.emoji))
    expect(options.map((o) => o.attributes('aria-label'))).toEqual(REACTIONS.map((r) => r.name))
    expect(options.filter((o) => o.attributes('aria-pressed') === 'true').map((o) => o.attributes('data-emoji'))).toEqual(['👀'])
    // One tab stop, which has the focus when it opens.
    expect(options.filter((o) => o.attributes('tabindex') === '0')).toHaveLength(1)
    expect(document.activeElement).toBe(options[0]!.element)
    const picker = w.get('[data-testid=reaction-picker]')
    await picker.trigger('keydown', { key: 'ArrowRight' })
    expect(document.activeElement).toBe(options[1]!.element)
    await picker.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(options[7]!.element)
    await picker.trigger('keydown', { key: 'ArrowLeft' })
    await picker.trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(options[0]!.element)
    await picker.trigger('keydown', { key: 'ArrowLeft' })
    expect(document.activeElement).toBe(options[11]!.element)
    expect(options[11]!.attributes('tabindex')).toBe('0')
    await picker.trigger('keydown', { key: 'Home' })
    expect(document.activeElement).toBe(options[0]!.element)
    await picker.trigger('keydown', { key: 'Escape' })
    expect(w.emitted('close')).toEqual([['escape']])
    await options[2]!.trigger('click')
    expect(w.emitted('pick')).toEqual([['❤️']])
    w.unmount()
  })

  it('closes on a click outside, not on its own button', async () => {
    const anchor = document.createElement('button')
    document.body.appendChild(anchor)
    const w = mount(ReactionPicker, { props: { chosen: [], anchor }, attachTo: document.body })
    await flushPromises()
    anchor.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    expect(w.emitted('close')).toBeUndefined()
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    expect(w.emitted('close')).toEqual([['outside']])
    w.unmount()
    anchor.remove()
  })
})

describe('reactions: in a message bubble', () => {
  function bubble(overrides: Parameters<typeof message>[1] = {}, props: { writable?: boolean } = {}) {
    const store = useMessagingStore()
    const m = store.threads[CID]!.messages.find((x) => x.seq === 1)!
    Object.assign(m, overrides)
    return mount(MessageBubble, { props: { conversationId: CID, message: m, mine: false, ...props }, attachTo: document.body })
  }

  it('opens the picker from its button and from the menu; a pick reacts and shows the chip', async () => {
    const store = withThread()
    const w = bubble()
    await w.get('[data-testid=add-reaction]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=add-reaction]').attributes('aria-expanded')).toBe('true')
    await w.get('[data-testid=reaction-option][data-emoji="🚀"]').trigger('click')
    expect(w.find('[data-testid=reaction-picker]').exists()).toBe(false)
    expect(document.activeElement).toBe(w.get('[data-testid=add-reaction]').element)
    await flushPromises()
    expect(w.get('[data-testid=reaction][data-emoji="🚀"]').attributes('aria-pressed')).toBe('true')
    expect(store.threads[CID]!.messages[0]!.reactions).toEqual([{ emoji: '🚀', userIds: [ME] }])

    await w.get('[aria-label="Message actions"]').trigger('click')
    await flushPromises()
    expect(w.findAll('[role=menuitem]').map((m) => m.text())).toEqual(['Copy text', 'Reply', 'Add reaction', 'Pin', 'Report'])
    await w.findAll('[role=menuitem]')[2]!.trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=reaction-option][data-emoji="🚀"]').attributes('aria-pressed')).toBe('true')
    await w.get('[data-testid=reaction-picker]').trigger('keydown', { key: 'Escape' })
    expect(w.find('[data-testid=reaction-picker]').exists()).toBe(false)

    // The chip takes mine away.
    await w.get('[data-testid=reaction][data-emoji="🚀"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=reaction]').exists()).toBe(false)
    w.unmount()
  })

  it('says so when a reaction is refused, and shows the chips as they were', async () => {
    withThread()
    server.failures.push({ match: (c) => c.method === 'PUT', status: 409, times: 1, error: { code: 'conversation_closed', message: 'the conversation is closed' } })
    const w = bubble({ reactions: [{ emoji: '👍', userIds: [ANA] }] })
    await w.get('[data-testid=reaction][data-emoji="👍"]').trigger('click')
    expect(w.get('[data-testid=reaction]').attributes('data-count')).toBe('2')
    await flushPromises()
    expect(w.get('[data-testid=reaction]').attributes('data-count')).toBe('1')
    expect(w.get('[data-testid=reaction]').attributes('aria-pressed')).toBe('false')
    expect(useToasts().toasts.map((t) => [t.text, t.tone])).toEqual([['Could not add the reaction: the conversation is closed', 'error']])
    w.unmount()
  })

  it('offers no reaction on a deleted message, in a closed conversation, or to someone not in it', async () => {
    const store = withThread()
    const closed = bubble({ reactions: [{ emoji: '👍', userIds: [ANA] }] }, { writable: false })
    expect(closed.find('[data-testid=add-reaction]').exists()).toBe(false)
    expect(closed.get('[data-testid=reaction]').attributes('aria-disabled')).toBe('true')
    closed.unmount()

    store.setDetail(detail({ participants: [participant(ANA)] }))
    const admin = bubble()
    expect(admin.find('[data-testid=add-reaction]').exists()).toBe(false)
    admin.unmount()

    store.setDetail(detail())
    const deleted = bubble({ body: null, deleted: true, reactions: [] })
    expect(deleted.find('[data-testid=add-reaction]').exists()).toBe(false)
    expect(deleted.find('[data-testid=reactions]').exists()).toBe(false)
    deleted.unmount()
  })
})
