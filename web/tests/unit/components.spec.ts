import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import ActionMenu from '../../src/components/ActionMenu.vue'
import ConversationList from '../../src/components/ConversationList.vue'
import MessageBubble from '../../src/components/MessageBubble.vue'
import MessageInput from '../../src/components/MessageInput.vue'
import MessagingLayout from '../../src/components/MessagingLayout.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { ANA, CID, FakeServer, FakeWebSocket, ME, detail, message, participant, summary } from './fixtures'

let messaging: Messaging
let server: FakeServer

const RouterLinkStub = defineComponent({
  props: { to: { type: [String, Object], required: true } },
  setup(_, { slots, attrs }) {
    return () => h('a', { ...attrs, href: '#' }, slots.default?.())
  },
})

beforeEach(() => {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  server = new FakeServer()
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  const store = useMessagingStore()
  store.setMe({ userId: ME, name: 'Ben Carter', role: 'team' })
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
})

afterEach(() => {
  messaging.stop()
  setMessaging(null)
  setApi(null)
})

describe('MessageInput', () => {
  it('sends on Enter, adds a line on Shift+Enter, and clears after sending', async () => {
    const send = vi.spyOn(messaging, 'sendMessage').mockReturnValue('cm')
    const wrapper = mount(MessageInput, { props: { conversationId: CID } })
    const textarea = wrapper.get('textarea')
    await textarea.setValue('first line')
    await textarea.trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(send).not.toHaveBeenCalled()
    await textarea.trigger('keydown', { key: 'Enter' })
    expect(send).toHaveBeenCalledWith(CID, 'first line', [])
    expect((textarea.element as HTMLTextAreaElement).value).toBe('')
  })

  it('does not send while composing with an IME, nor an empty message', async () => {
    const send = vi.spyOn(messaging, 'sendMessage').mockReturnValue('cm')
    const wrapper = mount(MessageInput, { props: { conversationId: CID } })
    const textarea = wrapper.get('textarea')
    await textarea.trigger('keydown', { key: 'Enter' })
    await textarea.setValue('にほん')
    await textarea.trigger('keydown', { key: 'Enter', isComposing: true })
    expect(send).not.toHaveBeenCalled()
  })

  it('shows a counter near the 5,000-character limit and blocks sending over it', async () => {
    const send = vi.spyOn(messaging, 'sendMessage').mockReturnValue('cm')
    const wrapper = mount(MessageInput, { props: { conversationId: CID } })
    const textarea = wrapper.get('textarea')
    await textarea.setValue('a'.repeat(4000))
    expect(wrapper.get('.counter').text()).toBe('')
    await textarea.setValue('a'.repeat(4600))
    expect(wrapper.get('.counter').text()).toBe('4,600 / 5,000')
    await textarea.setValue('😀'.repeat(5001))
    expect(wrapper.get('.counter').text()).toContain('5,001 / 5,000')
    expect(wrapper.get('[data-testid=send]').attributes('disabled')).toBeDefined()
    await textarea.trigger('keydown', { key: 'Enter' })
    expect(send).not.toHaveBeenCalled()
  })

  it('shows the attachment limits up front and refuses a disallowed file before uploading', async () => {
    const wrapper = mount(MessageInput, { props: { conversationId: CID } })
    expect(wrapper.text()).toContain('Up to 5 files, 10 MB each')
    const input = wrapper.get('[data-testid=file-input]')
    const file = new File(['<svg/>'], 'x.svg', { type: 'image/svg+xml' })
    Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect(wrapper.text()).toContain('x.svg: this type of file is not allowed')
    expect(server.callsTo('POST', '/attachments')).toHaveLength(0)
  })

  it('is replaced by a notice when the conversation is closed', () => {
    const wrapper = mount(MessageInput, { props: { conversationId: CID, disabled: true, disabledReason: 'This conversation is closed.' } })
    expect(wrapper.find('textarea').exists()).toBe(false)
    expect(wrapper.get('[data-testid=composer-disabled]').text()).toBe('This conversation is closed.')
  })
})

describe('MessageBubble', () => {
  it('shows ✓ for sent and ✓✓ for read on my messages, nothing on others\'', () => {
    const mine = mount(MessageBubble, { props: { conversationId: CID, message: message(3, { senderId: ME }), mine: true, receipt: 'sent' } })
    expect(mine.get('[data-testid=receipt]').text()).toBe('✓')
    expect(mine.get('[data-testid=receipt]').attributes('aria-label')).toBe('Sent')
    const read = mount(MessageBubble, { props: { conversationId: CID, message: message(3, { senderId: ME }), mine: true, receipt: 'read' } })
    expect(read.get('[data-testid=receipt]').text()).toBe('✓✓')
    expect(read.get('[data-testid=receipt]').attributes('aria-label')).toBe('Read')
    const theirs = mount(MessageBubble, { props: { conversationId: CID, message: message(3), mine: false } })
    expect(theirs.find('[data-testid=receipt]').exists()).toBe(false)
  })

  it('shows edited and deleted states', () => {
    const edited = mount(MessageBubble, { props: { conversationId: CID, message: message(1, { editedAt: '2026-11-23T10:00:00.000Z' }), mine: false } })
    expect(edited.text()).toContain('edited')
    const deleted = mount(MessageBubble, { props: { conversationId: CID, message: message(1, { body: null, deleted: true }), mine: false } })
    expect(deleted.text()).toContain('This message was deleted')
    expect(deleted.find('[aria-label="Message actions"]').exists()).toBe(false)
  })

  it('offers Retry on a failed send, which resends the same clientMessageId', async () => {
    const retry = vi.spyOn(messaging, 'retrySend').mockResolvedValue()
    const pending = { clientMessageId: 'cm-9', conversationId: CID, body: 'hi', files: [], fileIds: [], createdAt: new Date().toISOString(), status: 'failed' as const, error: 'No connection', attempts: 1 }
    const wrapper = mount(MessageBubble, { props: { conversationId: CID, pending, mine: true } })
    expect(wrapper.get('[data-testid=receipt]').attributes('data-receipt')).toBe('failed')
    expect(wrapper.text()).toContain('Not sent: No connection')
    await wrapper.get('[data-testid=retry-send]').trigger('click')
    expect(retry).toHaveBeenCalledWith(CID, 'cm-9')
  })

  it('offers edit and delete on my messages and report on others\'', async () => {
    const mine = mount(MessageBubble, { props: { conversationId: CID, message: message(1, { senderId: ME }), mine: true }, attachTo: document.body })
    await mine.get('[aria-label="Message actions"]').trigger('click')
    expect(mine.findAll('[role=menuitem]').map((m) => m.text())).toEqual(['Copy text', 'Edit', 'Delete'])
    mine.unmount()
    const theirs = mount(MessageBubble, { props: { conversationId: CID, message: message(1), mine: false }, attachTo: document.body })
    await theirs.get('[aria-label="Message actions"]').trigger('click')
    expect(theirs.findAll('[role=menuitem]').map((m) => m.text())).toEqual(['Copy text', 'Report'])
    theirs.unmount()
  })
})

describe('ActionMenu keyboard', () => {
  it('opens on ArrowDown with focus on the first item, moves with arrows, closes on Escape back to its button', async () => {
    const wrapper = mount(ActionMenu, {
      props: { label: 'Actions', items: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }, { id: 'c', label: 'C' }] },
      attachTo: document.body,
    })
    const button = wrapper.get('button')
    await button.trigger('keydown', { key: 'ArrowDown' })
    await flushPromises()
    expect(button.attributes('aria-expanded')).toBe('true')
    expect(document.activeElement?.textContent?.trim()).toBe('A')
    await wrapper.get('[role=menu]').trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement?.textContent?.trim()).toBe('C')
    await wrapper.get('[role=menu]').trigger('keydown', { key: 'Home' })
    expect(document.activeElement?.textContent?.trim()).toBe('A')
    await wrapper.get('[role=menu]').trigger('keydown', { key: 'Escape' })
    expect(wrapper.find('[role=menu]').exists()).toBe(false)
    expect(document.activeElement).toBe(button.element)
    wrapper.unmount()
  })

  it('emits the chosen item', async () => {
    const wrapper = mount(ActionMenu, { props: { label: 'Actions', items: [{ id: 'copy', label: 'Copy' }] }, attachTo: document.body })
    await wrapper.get('button').trigger('click')
    await flushPromises()
    await wrapper.get('[role=menuitem]').trigger('click')
    expect(wrapper.emitted('select')).toEqual([['copy']])
    wrapper.unmount()
  })
})

describe('ConversationList', () => {
  it('shows unread badges, previews and presence dots for the other participants', async () => {
    const store = useMessagingStore()
    const lastMessage = { messageId: 'm4', seq: 4, senderId: ANA, senderName: 'Ana Alvarez', text: 'See you', deleted: false, at: '2026-11-23T10:00:00.000Z' }
    store.setConversationPage([summary({ lastSeq: 4, lastReadSeq: 1, lastMessage })], null)
    store.setDetail(detail({ lastSeq: 4, lastReadSeq: 1, lastMessage, participants: [participant(ME, { lastReadSeq: 1 }), participant(ANA, { online: true })] }))
    const wrapper = mount(ConversationList, { props: { activeId: null }, global: { stubs: { RouterLink: RouterLinkStub } } })
    expect(wrapper.get('[data-testid=unread-badge]').text()).toBe('3 unread')
    expect(wrapper.get('[data-testid=conversation-item]').text()).toContain('Ana Alvarez online')
    expect(wrapper.text()).toContain('Ana: See you')
    const dots = wrapper.findAll('[data-testid=presence-dot]')
    expect(dots.map((d) => [d.attributes('data-user'), d.attributes('data-online')])).toEqual([[ANA, 'true']])
    store.setPresence(ANA, false)
    await flushPromises()
    expect(wrapper.get('[data-testid=presence-dot]').attributes('data-online')).toBe('false')
    expect(wrapper.get('[data-testid=connection-status]').attributes('data-state')).toBe('idle')
  })
})

describe('MessagingLayout', () => {
  it('switches the mobile stack between list and thread', () => {
    const list = mount(MessagingLayout, { props: { showThread: false }, slots: { list: 'L', thread: 'T' } })
    expect(list.classes()).not.toContain('layout--thread')
    const thread = mount(MessagingLayout, { props: { showThread: true }, slots: { list: 'L', thread: 'T' } })
    expect(thread.classes()).toContain('layout--thread')
  })
})
