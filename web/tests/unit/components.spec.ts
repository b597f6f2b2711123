import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick } from 'vue'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import ActionMenu from '../../src/components/ActionMenu.vue'
import ConversationList from '../../src/components/ConversationList.vue'
import MessageBubble from '../../src/components/MessageBubble.vue'
import MessageFile from '../../src/components/MessageFile.vue'
import MessageInput from '../../src/components/MessageInput.vue'
import MembersDialog from '../../src/components/MembersDialog.vue'
import MessageThread from '../../src/components/MessageThread.vue'
import MessagingLayout from '../../src/components/MessagingLayout.vue'
import PeoplePicker from '../../src/components/PeoplePicker.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { SEARCH_DEBOUNCE_MS } from '../../src/timing'
import type { ProfileView } from '../../src/types'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, message, participant, summary } from './fixtures'

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
  store.setMe(BEN)
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
    expect(send).toHaveBeenCalledWith(CID, 'first line', [], null)
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
    const pending = { clientMessageId: 'cm-9', conversationId: CID, body: 'hi', files: [], fileIds: [], createdAt: new Date().toISOString(), status: 'failed' as const, error: 'No connection', attempts: 1, retryAt: null, replyTo: null }
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

describe('MessageFile', () => {
  it('shows a disguised name without its bidi override, with the real type beside it', () => {
    const file = { id: 'f1', name: 'invoice_\u202Efdp.exe', size: 2048, contentType: 'application/pdf' }
    const wrapper = mount(MessageFile, { props: { conversationId: CID, file } })
    expect(wrapper.get('[data-testid=file-name]').text()).toBe('invoice_fdp.exe')
    expect(wrapper.text()).not.toContain('\u202E')
    expect(wrapper.get('[data-testid=file-type]').text()).toBe('PDF')
    expect(wrapper.get('[data-testid=file-mismatch]').text()).toContain('Named .exe, but its content is PDF: saved as .pdf')
    expect(wrapper.get('[data-testid=file-download]').attributes('aria-label')).toBe('Download invoice_fdp.exe (PDF, 2 KB)')
  })

  it('shows an honest name with its type and no warning', () => {
    const file = { id: 'f2', name: 'brief.docx', size: 10, contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }
    const wrapper = mount(MessageFile, { props: { conversationId: CID, file } })
    expect(wrapper.get('[data-testid=file-name]').text()).toBe('brief.docx')
    expect(wrapper.get('[data-testid=file-type]').text()).toBe('DOCX')
    expect(wrapper.find('[data-testid=file-mismatch]').exists()).toBe(false)
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

describe('PeoplePicker keyboard (combobox)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    document.body.innerHTML = ''
    vi.useRealTimers()
  })

  function mountPicker(exclude: string[] = []) {
    const wrapper = mount(PeoplePicker, {
      props: {
        label: 'People',
        exclude,
        modelValue: [] as ProfileView[],
        'onUpdate:modelValue': (value: ProfileView[]) => wrapper.setProps({ modelValue: value }),
      },
      attachTo: document.body,
    })
    return wrapper
  }
  type Picker = ReturnType<typeof mountPicker>

  async function settle() {
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0)
    await nextTick()
  }

  /** Types into the box and waits out the debounce and the search. */
  async function type(picker: Picker, text: string) {
    await picker.get('input').setValue(text)
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    await settle()
  }

  /** A real keydown on the box, so that a test can see whether it was handled. */
  async function press(picker: Picker, key: string): Promise<KeyboardEvent> {
    const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true })
    picker.get('input').element.dispatchEvent(event)
    await settle()
    return event
  }

  const optionNames = (picker: Picker) => picker.findAll('[role=option] .picker__name').map((o) => o.text())
  const highlighted = (picker: Picker) => picker.find('[role=option][aria-selected=true] .picker__name').text()
  const chips = (picker: Picker) => picker.findAll('[data-testid=picked-person] .chip__name').map((c) => c.text())

  it('searches once typing pauses, shows name, role and organisation, and highlights the first match', async () => {
    const picker = mountPicker()
    await picker.get('input').setValue('a')
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 1)
    expect(server.callsTo('GET', '/api/messaging/people')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    await settle()
    expect(server.callsTo('GET', '/api/messaging/people').map((c) => c.query.get('q'))).toEqual(['a'])
    expect(optionNames(picker)).toEqual(['Ana Alvarez', 'Amy Alder', 'Cleo Park'])
    expect(picker.get('[role=option]').text()).toContain('Client · Acme Corp')
    const input = picker.get('input')
    expect(input.attributes('aria-expanded')).toBe('true')
    expect(input.attributes('aria-controls')).toBe(picker.get('[role=listbox]').attributes('id'))
    expect(input.attributes('aria-activedescendant')).toBe(picker.get('[role=option]').attributes('id'))
    expect(highlighted(picker)).toBe('Ana Alvarez')
  })

  it('moves with ArrowDown and ArrowUp (wrapping around), and Enter adds the highlighted person as a chip', async () => {
    const picker = mountPicker()
    await type(picker, 'a')
    await press(picker, 'ArrowDown')
    expect(highlighted(picker)).toBe('Amy Alder')
    await press(picker, 'ArrowUp')
    await press(picker, 'ArrowUp')
    expect(highlighted(picker)).toBe('Cleo Park')
    const enter = await press(picker, 'Enter')
    expect(enter.defaultPrevented).toBe(true)
    const updates = picker.emitted<[ProfileView[]]>('update:modelValue')!
    expect(updates[updates.length - 1]![0]).toMatchObject([{ userId: 'u-team-cleo' }])
    expect(chips(picker)).toEqual(['Cleo Park'])
    expect((picker.get('input').element as HTMLInputElement).value).toBe('')
    expect(picker.get('input').attributes('aria-expanded')).toBe('false')
    // The people added are not offered again.
    await type(picker, 'a')
    expect(optionNames(picker)).toEqual(['Ana Alvarez', 'Amy Alder'])
  })

  it('Backspace in the empty box removes the last person added, but not while a name is being typed', async () => {
    const picker = mountPicker()
    await type(picker, 'ana')
    await press(picker, 'Enter')
    await type(picker, 'amy')
    await press(picker, 'Enter')
    expect(chips(picker)).toEqual(['Ana Alvarez', 'Amy Alder'])
    await picker.get('input').setValue('c')
    expect((await press(picker, 'Backspace')).defaultPrevented).toBe(false)
    expect(chips(picker)).toEqual(['Ana Alvarez', 'Amy Alder'])
    await picker.get('input').setValue('')
    await press(picker, 'Backspace')
    expect(chips(picker)).toEqual(['Ana Alvarez'])
    // Each chip also has its own remove button.
    await picker.get('[aria-label="Remove Ana Alvarez"]').trigger('click')
    expect(chips(picker)).toEqual([])
  })

  it('Escape closes the list (then clears the text) without reaching the dialog; a third Escape does reach it', async () => {
    const picker = mountPicker()
    const reached: string[] = []
    document.body.addEventListener('keydown', (e) => reached.push(e.key))
    await type(picker, 'a')
    const first = await press(picker, 'Escape')
    expect([first.defaultPrevented, picker.get('input').attributes('aria-expanded')]).toEqual([true, 'false'])
    expect((picker.get('input').element as HTMLInputElement).value).toBe('a')
    await press(picker, 'Escape')
    expect((picker.get('input').element as HTMLInputElement).value).toBe('')
    expect(reached).toEqual([])
    const third = await press(picker, 'Escape')
    expect([third.defaultPrevented, reached]).toEqual([false, ['Escape']])
  })

  it('leaves out the people excluded (members already), and Enter on a name nobody has does not submit the form', async () => {
    const picker = mountPicker([ANA])
    await type(picker, 'a')
    expect(optionNames(picker)).toEqual(['Amy Alder', 'Cleo Park'])
    await type(picker, 'zzz')
    expect(picker.find('[role=listbox]').exists()).toBe(false)
    expect(picker.text()).toContain('No one matches.')
    expect((await press(picker, 'Enter')).defaultPrevented).toBe(true)
    expect(picker.emitted('update:modelValue')).toBeUndefined()
    // With the box empty and the list closed, Enter is the form's again.
    await picker.get('input').setValue('')
    await press(picker, 'Escape')
    expect((await press(picker, 'Enter')).defaultPrevented).toBe(false)
  })
})

describe('conversation management views', () => {
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('shows a muted conversation with its icon and a quiet count, and leaves hidden ones out of the list', () => {
    const store = useMessagingStore()
    store.setConversationPage(
      [summary({ lastSeq: 4, lastReadSeq: 1, muted: true }), summary({ id: '01HZCONVERSATION0000000002', title: 'Hidden', hidden: true })],
      null,
    )
    const wrapper = mount(ConversationList, { props: { activeId: null }, global: { stubs: { RouterLink: RouterLinkStub } } })
    const rows = wrapper.findAll('[data-testid=conversation-item]')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.find('[data-testid=muted-icon]').exists()).toBe(true)
    expect(rows[0]!.classes()).not.toContain('conv--unread')
    expect(rows[0]!.get('[data-testid=unread-badge]').classes()).toContain('unread--quiet')
    expect(store.totalUnread).toBe(0)
  })

  it('replaces the thread and its composer with "You were removed" (or "You left") once I am not in it', async () => {
    const store = useMessagingStore()
    store.setConversationPage([summary({ title: 'Budget' })], null)
    store.setDetail(detail({ title: 'Budget' }))
    store.mergeMessages(CID, [message(1)])
    const wrapper = mount(MessageThread, { props: { conversationId: CID } })
    expect(wrapper.find('textarea').exists()).toBe(true)
    store.applyConversationUpdated(detail({ title: 'Budget' }), [participant(ANA)])
    await flushPromises()
    expect(wrapper.get('[data-testid=thread-removed]').text()).toContain('You were removed from this conversation.')
    expect(wrapper.get('[data-testid=thread-title]').text()).toBe('Budget')
    expect(wrapper.find('textarea').exists()).toBe(false)
    expect(wrapper.findAll('[data-testid=message]')).toHaveLength(0)
    expect(wrapper.find('[aria-label="Conversation actions"]').exists()).toBe(false)
    store.removeConversation(CID, 'left')
    await flushPromises()
    expect(wrapper.get('[data-testid=thread-removed]').text()).toContain('You left this conversation.')
  })

  it('lets the team remove and add members, and shows a client the members only', async () => {
    const store = useMessagingStore()
    store.setConversationPage([summary()], null)
    store.setDetail(detail({ participants: [participant(ME), participant(ANA, { online: true })] }))
    server.overrides.push({ match: (c) => c.method === 'DELETE', handler: () => ({ status: 204 }) })
    const team = mount(MembersDialog, { props: { conversationId: CID }, attachTo: document.body })
    expect(team.get(`[data-user-id="${ANA}"]`).text()).toContain('Client · Acme Corp · online')
    expect(team.get(`[data-user-id="${ME}"]`).text()).toContain('Ben Carter (you)')
    expect(team.findAll('[data-testid=remove-member]').map((b) => b.attributes('aria-label'))).toEqual(['Remove Ana Alvarez'])
    expect(team.find('[data-testid=people-picker]').exists()).toBe(true)
    await team.get('[data-testid=remove-member]').trigger('click')
    await flushPromises()
    expect(server.callsTo('DELETE', `/participants/${ANA}`)).toHaveLength(1)
    expect(team.findAll('[data-testid=member]').map((m) => m.attributes('data-user-id'))).toEqual([ME])
    team.unmount()

    store.setDetail(detail({ participants: [participant(ME), participant(ANA)] }))
    store.setMe({ userId: ANA, name: 'Ana Alvarez', role: 'client', organisation: 'Acme Corp' })
    const client = mount(MembersDialog, { props: { conversationId: CID }, attachTo: document.body })
    expect(client.findAll('[data-testid=member]')).toHaveLength(2)
    expect(client.find('[data-testid=remove-member]').exists()).toBe(false)
    expect(client.find('[data-testid=people-picker]').exists()).toBe(false)
    client.unmount()
  })
})

