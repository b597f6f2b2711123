// Pins: the store's set per conversation (`pins-updated` carries the whole set; the list
// follows at once for unpins and after a fetch for pins), the service (loaded with the
// conversation, fetched again on every change and reconnect, an answer overtaken by a newer
// request dropped), who may pin, and the header's "Pinned (N)", its list and the bubble's
// pin marker and menu.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import MessageBubble from '../../src/components/MessageBubble.vue'
import PinsList from '../../src/components/PinsList.vue'
import ThreadHeader from '../../src/components/ThreadHeader.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useToasts } from '../../src/composables/useToasts'
import { useMessagingStore, type MessagingStore } from '../../src/stores/messagingStore'
import type { Person, ServerEvent } from '../../src/types'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, flush, message, summary } from './fixtures'

const CLIENT: Person = { userId: ANA, name: 'Ana Alvarez', role: 'client', organisation: 'Acme Corp' }

let server: FakeServer
let messaging: Messaging

function setup(me: Person = BEN): MessagingStore {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  const store = useMessagingStore()
  store.setMe(me)
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
  return store
}

async function opened(me: Person = BEN): Promise<MessagingStore> {
  const store = setup(me)
  server.add(5)
  store.upsertSummary(summary({ lastSeq: 5 }))
  store.setDetail(detail())
  await messaging.openConversation(CID)
  return store
}

function pinsUpdated(pinnedSeqs: number[], seq: number, pinned: boolean): ServerEvent {
  return { type: 'pins-updated', data: { conversationId: CID, pinnedSeqs, seq, pinned, userId: ME } }
}

afterEach(() => {
  messaging?.stop()
  setMessaging(null)
  setApi(null)
  useToasts().toasts.splice(0)
  document.body.innerHTML = ''
})

describe('pins: the store', () => {
  it('takes the whole set from pins-updated: an unpinned message leaves the list at once, a pinned one is marked', () => {
    const store = setup()
    store.setPins(CID, [message(4), message(2)])
    expect(store.pins[CID]!.seqs).toEqual([2, 4])
    expect(store.pins[CID]!.items.map((m) => m.seq)).toEqual([2, 4])
    store.applyPinsUpdated(CID, [4, 1])
    expect(store.pins[CID]!.seqs).toEqual([1, 4])
    expect(store.pins[CID]!.items.map((m) => m.seq)).toEqual([4])
    expect([store.isPinned(CID, 1), store.isPinned(CID, 2), store.pinCount(CID)]).toEqual([true, false, 2])
    // A deleted pinned message leaves the list before its pins-updated comes.
    store.applyMessageUpdated(CID, { ...message(4), body: null, deleted: true })
    expect(store.pins[CID]!.items).toEqual([])
    store.removeConversation(CID)
    expect(store.pins[CID]).toBeUndefined()
  })

  it('lets the team and admins pin, in conversations they are in that are not closed; never clients', () => {
    const store = setup()
    store.upsertSummary(summary())
    expect(store.canPin(CID)).toBe(false) // not known to be a member yet
    store.setDetail(detail())
    expect(store.canPin(CID)).toBe(true)
    store.setMe({ ...BEN, role: 'admin' })
    expect(store.canPin(CID)).toBe(true)
    store.upsertSummary(summary({ status: 'closed' }))
    expect(store.canPin(CID)).toBe(false)
    store.upsertSummary(summary({ status: 'open' }))
    store.setMe(CLIENT)
    expect(store.canPin(CID)).toBe(false)
  })
})

describe('pins: the service', () => {
  it('loads the pins with the conversation and again on every pins-updated', async () => {
    server.pinned = []
    const store = await opened()
    expect(server.callsTo('GET', '/pins')).toHaveLength(1)
    expect(store.pins[CID]).toMatchObject({ seqs: [], loaded: true })
    server.pinned = [3]
    messaging.handleEvent(pinsUpdated([3], 3, true))
    expect(store.isPinned(CID, 3)).toBe(true)
    await flush()
    expect(store.pins[CID]!.items.map((m) => m.id)).toEqual(['m3'])
    expect(server.callsTo('GET', '/pins')).toHaveLength(2)
  })

  it('pins and unpins with the answer\'s whole list; an answer overtaken by a newer request is dropped', async () => {
    const store = await opened()
    await messaging.pinMessage(CID, 'm2')
    await messaging.pinMessage(CID, 'm4')
    expect(store.pins[CID]!.items.map((m) => m.seq)).toEqual([2, 4])
    expect(server.callsTo('PUT', '/pin').map((c) => c.path)).toEqual([`/api/messaging/conversations/${CID}/messages/m2/pin`, `/api/messaging/conversations/${CID}/messages/m4/pin`])

    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const before = structuredClone(server.messages.filter((m) => m.seq === 2 || m.seq === 4))
    server.overrides.push({ match: (c) => c.method === 'GET' && c.path.endsWith('/pins'), handler: async () => (await gate, { status: 200, body: { items: before } }) })
    const slow = messaging.loadPins(CID)
    await messaging.unpinMessage(CID, 'm2')
    expect(store.pins[CID]!.seqs).toEqual([4])
    release()
    await slow
    expect(store.pins[CID]!.seqs).toEqual([4])
  })

  it('rejects with the server\'s refusal (a client forcing it gets 403) and leaves the pins as they were', async () => {
    const store = await opened(CLIENT)
    server.failures.push({ match: (c) => c.method === 'PUT', status: 403, times: 1, error: { code: 'forbidden', message: 'only the team pins messages' } })
    await expect(messaging.pinMessage(CID, 'm1')).rejects.toThrow('only the team pins messages')
    expect(store.pinCount(CID)).toBe(0)
  })

  it('fetches the pins again after a reconnect (changed while away)', async () => {
    const store = await opened()
    server.pinned = [5]
    await messaging.handleOpen(true)
    await flush()
    expect(store.pins[CID]!.seqs).toEqual([5])
  })
})

describe('pins: components', () => {
  it('the bubble offers Pin and Unpin to the team (not on deleted messages), marks a pinned message, and says so', async () => {
    const store = await opened()
    const w = mount(MessageBubble, { props: { conversationId: CID, message: store.threads[CID]!.messages[1]!, mine: false }, attachTo: document.body })
    const items = async () => {
      await w.get('[aria-label="Message actions"]').trigger('click')
      return w.findAll('[role=menuitem]')
    }
    expect(w.find('[data-testid=pinned-marker]').exists()).toBe(false)
    const pin = (await items()).find((i) => i.text() === 'Pin')!
    await pin.trigger('click')
    await flush()
    expect(server.pinned).toEqual([2])
    expect(w.find('[data-testid=pinned-marker]').exists()).toBe(true)
    expect(w.get('article').attributes('aria-label')).toMatch(/, pinned$/)
    expect(useToasts().toasts.map((t) => t.text)).toEqual(['Message pinned'])
    await (await items()).find((i) => i.text() === 'Unpin')!.trigger('click')
    await flush()
    expect(server.pinned).toEqual([])
    expect(w.find('[data-testid=pinned-marker]').exists()).toBe(false)
    await w.setProps({ writable: false })
    expect((await items()).map((i) => i.text())).toEqual(['Copy text', 'Report'])
    w.unmount()
  })

  it('a client sees the marker but no pin action', async () => {
    const store = await opened(CLIENT)
    server.pinned = [1]
    messaging.handleEvent(pinsUpdated([1], 1, true))
    const w = mount(MessageBubble, { props: { conversationId: CID, message: store.threads[CID]!.messages[0]!, mine: true }, attachTo: document.body })
    expect(w.find('[data-testid=pinned-marker]').exists()).toBe(true)
    await w.get('[aria-label="Message actions"]').trigger('click')
    expect(w.findAll('[role=menuitem]').map((i) => i.text())).toEqual(['Copy text', 'Reply', 'Add reaction', 'Edit', 'Delete'])
    w.unmount()
  })

  it('the header shows "Pinned (N)" once something is pinned; its list names each message, shows one, unpins, and Escape closes it', async () => {
    const store = await opened()
    const w = mount(ThreadHeader, { props: { conversationId: CID }, attachTo: document.body })
    expect(w.find('[data-testid=pins-button]').exists()).toBe(false)
    server.pinned = [1, 3]
    messaging.handleEvent(pinsUpdated([1, 3], 3, true))
    await flush()
    const button = w.get('[data-testid=pins-button]')
    expect(button.text().replace(/\s+/g, ' ').trim()).toBe('Pinned (2)')
    await button.trigger('click')
    await flushPromises()
    expect(button.attributes('aria-expanded')).toBe('true')
    const rows = w.findAll('[data-testid=pinned-item]')
    expect(rows.map((r) => [r.attributes('data-seq'), r.get('.pins__sender').text(), r.get('[data-testid=pinned-text]').text()])).toEqual([
      ['1', 'Ana Alvarez', 'message 1'],
      ['3', 'Ana Alvarez', 'message 3'],
    ])
    expect(document.activeElement).toBe(rows[0]!.get('[data-testid=pinned-open]').element)

    // Unpin from the list (the team): the row goes, the list keeps the focus.
    await rows[0]!.get('[data-testid=unpin]').trigger('click')
    await flush()
    expect(w.findAll('[data-testid=pinned-item]').map((r) => r.attributes('data-seq'))).toEqual(['3'])
    expect(store.pinCount(CID)).toBe(1)

    // A message picked: the list closes and the header asks to show it.
    await w.get('[data-testid=pinned-open]').trigger('click')
    expect(w.emitted('show')).toEqual([[3]])
    expect(w.find('[data-testid=pins-list]').exists()).toBe(false)

    // Escape closes it and gives the focus back to the button.
    await w.get('[data-testid=pins-button]').trigger('click')
    await flushPromises()
    await w.get('[data-testid=pins-list]').trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect(w.find('[data-testid=pins-list]').exists()).toBe(false)
    expect(document.activeElement).toBe(w.get('[data-testid=pins-button]').element)
    w.unmount()
  })

  it('the list says when nothing is pinned, and offers a client no Unpin', async () => {
    await opened(CLIENT)
    server.pinned = [2]
    messaging.handleEvent(pinsUpdated([2], 2, true))
    await flush()
    const w = mount(PinsList, { props: { conversationId: CID }, attachTo: document.body })
    await flushPromises()
    expect(w.findAll('[data-testid=pinned-item]')).toHaveLength(1)
    expect(w.find('[data-testid=unpin]').exists()).toBe(false)
    server.pinned = []
    messaging.handleEvent(pinsUpdated([], 2, false))
    await flushPromises()
    expect(w.get('[data-testid=pins-empty]').text()).toBe('No pinned messages.')
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    expect(w.emitted('close')).toEqual([['outside']])
    w.unmount()
  })
})
