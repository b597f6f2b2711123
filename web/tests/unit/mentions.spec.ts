// Mentions: finding the `@…` being typed, the participants offered, inserting a name, and
// highlighting in a stored body the mentions the server resolved — as text and spans.
// Then the composer's autocompletion (keyboard, mouse, ARIA) and the bubble.

import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import MessageBubble from '../../src/components/MessageBubble.vue'
import MessageInput from '../../src/components/MessageInput.vue'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { foldName, insertMention, matchParticipants, mentionQueryAt, mentionSegments, type BodySegment } from '../../src/utils/mentions'
import { ANA, BEN, CID, FakeServer, FakeWebSocket, ME, detail, message, participant } from './fixtures'

const people = [
  { userId: ME, name: 'Ben Carter' },
  { userId: ANA, name: 'Ana Alvarez' },
  { userId: 'u-client-anael', name: 'Anaël Lima' },
  { userId: 'u-team-zoe', name: 'Zoë Brandt' },
  { userId: 'u-team-cleo', name: 'Cleo Park' },
]

/** The segments as `[kind, text]`, easy to compare. */
function shape(segments: BodySegment[]): [string, string][] {
  return segments.map((s) => [s.kind === 'mention' ? `@${s.userId}${s.mine ? ' (me)' : ''}` : 'text', s.text])
}

describe('mentionQueryAt: the mention being typed at the caret', () => {
  it('is an @ at the start or after a space or punctuation, then letters up to the caret', () => {
    expect(mentionQueryAt('@an', 3)).toEqual({ start: 0, query: 'an' })
    expect(mentionQueryAt('hello @Ana Al', 13)).toEqual({ start: 6, query: 'Ana Al' })
    expect(mentionQueryAt('(@zo', 4)).toEqual({ start: 1, query: 'zo' })
    // Only up to the caret: what follows it is not part of the query.
    expect(mentionQueryAt('@anabc', 3)).toEqual({ start: 0, query: 'an' })
  })

  it('is nothing for a bare @, an email address, digits, or a caret before the @', () => {
    expect(mentionQueryAt('@', 1)).toBeNull()
    expect(mentionQueryAt('ana@example', 11)).toBeNull()
    expect(mentionQueryAt('@123', 4)).toBeNull()
    expect(mentionQueryAt('hi @ana', 2)).toBeNull()
    expect(mentionQueryAt('@ana\nnext', 9)).toBeNull()
    expect(mentionQueryAt('@ana  two spaces', 6)).toBeNull()
  })
})

describe('matchParticipants: who is offered', () => {
  it('filters by the start of the display name, in any case and without diacritics, leaving me out, alphabetically', () => {
    expect(matchParticipants(people, 'an', ME).map((p) => p.name)).toEqual(['Ana Alvarez', 'Anaël Lima'])
    expect(matchParticipants(people, 'ANAE', ME).map((p) => p.name)).toEqual(['Anaël Lima'])
    expect(matchParticipants(people, 'zoe', ME).map((p) => p.name)).toEqual(['Zoë Brandt'])
    expect(matchParticipants(people, 'ana al', ME).map((p) => p.name)).toEqual(['Ana Alvarez'])
    expect(matchParticipants(people, 'ben', ME)).toEqual([])
    expect(matchParticipants(people, 'alvarez', ME)).toEqual([])
    expect(foldName('Zoë ÅSA')).toBe('zoe asa')
  })
})

describe('insertMention', () => {
  it('replaces the typed @query with @<full name> and a space, the caret after it', () => {
    expect(insertMention('hi @an', 3, 6, 'Ana Alvarez')).toEqual({ text: 'hi @Ana Alvarez ', caret: 16 })
    expect(insertMention('@an and more', 0, 3, 'Ana Alvarez')).toEqual({ text: '@Ana Alvarez and more', caret: 13 })
  })
})

describe('mentionSegments: highlighting what the server resolved', () => {
  it('cuts out the @names of the mentioned participants, any case, and keeps everything else as text', () => {
    const body = 'Thanks @Ana Alvarez and @cleo park, see @Zoë Brandt'
    const segments = mentionSegments(body, [ANA, 'u-team-cleo'], people, ME)
    expect(shape(segments)).toEqual([
      ['text', 'Thanks '],
      [`@${ANA}`, '@Ana Alvarez'],
      ['text', ' and '],
      ['@u-team-cleo', '@cleo park'],
      // Zoë is a participant, but the server did not say she was mentioned.
      ['text', ', see @Zoë Brandt'],
    ])
    expect(segments.map((s) => s.text).join('')).toBe(body)
  })

  it('marks my own mention, takes a unique first name, and prefers the longest name', () => {
    expect(shape(mentionSegments('@Ben, @Ana Alvarez!', [ME, ANA], people, ME))).toEqual([
      [`@${ME} (me)`, '@Ben'],
      ['text', ', '],
      [`@${ANA}`, '@Ana Alvarez'],
      ['text', '!'],
    ])
    // "Ana" alone: Anaël's first name differs, so it is Ana's.
    expect(shape(mentionSegments('ok @ana', [ANA], people, ME))).toEqual([['text', 'ok '], [`@${ANA}`, '@ana']])
  })

  it('is no mention inside a word, before a letter, in an email address, or for an unknown id', () => {
    for (const body of ['mail ana@Ana Alvarez', '@Anabel', '@Ana2 hi']) {
      expect(shape(mentionSegments(body, [ANA], people, ME)), body).toEqual([['text', body]])
    }
    expect(shape(mentionSegments('@Nobody here', ['u-nobody'], people, ME))).toEqual([['text', '@Nobody here']])
    expect(mentionSegments('no mentions', undefined, people, ME)).toEqual([{ kind: 'text', text: 'no mentions' }])
    expect(mentionSegments('', [ANA], people, ME)).toEqual([])
  })
})

// --- components ----------------------------------------------------------------------------

let messaging: Messaging

beforeEach(() => {
  setActivePinia(createPinia())
  FakeWebSocket.reset()
  const server = new FakeServer()
  const api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
  setApi(api)
  const store = useMessagingStore()
  store.setMe(BEN)
  store.setDetail(
    detail({
      participants: [participant(ME), participant(ANA), participant('u-client-amy', { name: 'Amy Alder' }), participant('u-team-cleo', { name: 'Cleo Park' })],
    }),
  )
  messaging = createMessaging({ api, store, createSocket: (url) => new FakeWebSocket(url), buildSocketUrl: (t) => `ws://x/ws?ticket=${t}` })
  setMessaging(messaging)
})

afterEach(() => {
  messaging.stop()
  setMessaging(null)
  setApi(null)
  document.body.innerHTML = ''
})

describe('the composer offers the participants to mention', () => {
  function mountInput() {
    return mount(MessageInput, { props: { conversationId: CID }, attachTo: document.body })
  }

  /** Types `text` with the caret at its end, as a person would. */
  async function type(wrapper: VueWrapper, text: string) {
    const el = wrapper.get('textarea').element as HTMLTextAreaElement
    el.focus()
    await wrapper.get('textarea').setValue(text)
    el.setSelectionRange(text.length, text.length)
    await wrapper.get('textarea').trigger('input')
    await nextTick()
    await nextTick()
  }

  async function press(wrapper: VueWrapper, key: string, init: KeyboardEventInit = {}): Promise<KeyboardEvent> {
    const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init })
    wrapper.get('textarea').element.dispatchEvent(event)
    await nextTick()
    await nextTick()
    return event
  }

  const options = (w: VueWrapper) => w.findAll('[data-testid=mention-option]').map((o) => o.get('.mentions__name').text())
  const highlighted = (w: VueWrapper) => w.find('[data-testid=mention-option][aria-selected=true] .mentions__name').text()
  const value = (w: VueWrapper) => (w.get('textarea').element as HTMLTextAreaElement).value

  it('opens on @ and letters with the matching participants (not me), the first highlighted, wired for assistive technology', async () => {
    const w = mountInput()
    await type(w, 'Hi @a')
    expect(options(w)).toEqual(['Amy Alder', 'Ana Alvarez'])
    const list = w.get('[data-testid=mention-suggestions]')
    expect(list.attributes('role')).toBe('listbox')
    const textarea = w.get('textarea')
    expect(textarea.attributes('aria-autocomplete')).toBe('list')
    expect(textarea.attributes('aria-controls')).toBe(list.attributes('id'))
    expect(textarea.attributes('aria-activedescendant')).toBe(w.get('[role=option]').attributes('id'))
    expect(highlighted(w)).toBe('Amy Alder')
    expect(w.get('.mentions [role=status]').text()).toContain('2 people match')
    await type(w, 'Hi @an')
    expect(options(w)).toEqual(['Ana Alvarez'])
    await type(w, 'Hi @ben')
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
    expect(textarea.attributes('aria-activedescendant')).toBeUndefined()
    expect(textarea.attributes('aria-controls')).toBeUndefined()
  })

  it('moves with the arrows (wrapping), and Enter inserts the full name and a space instead of sending', async () => {
    const send = vi.spyOn(messaging, 'sendMessage').mockReturnValue('cm')
    const w = mountInput()
    await type(w, 'Hi @a')
    await press(w, 'ArrowDown')
    expect(highlighted(w)).toBe('Ana Alvarez')
    await press(w, 'ArrowDown')
    expect(highlighted(w)).toBe('Amy Alder')
    await press(w, 'ArrowUp')
    const enter = await press(w, 'Enter')
    expect(enter.defaultPrevented).toBe(true)
    expect(send).not.toHaveBeenCalled()
    expect(value(w)).toBe('Hi @Ana Alvarez ')
    const el = w.get('textarea').element as HTMLTextAreaElement
    expect(el.selectionStart).toBe('Hi @Ana Alvarez '.length)
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
    // Now Enter sends, with the name in it.
    await press(w, 'Enter')
    expect(send).toHaveBeenCalledWith(CID, 'Hi @Ana Alvarez', [], null)
  })

  it('Tab inserts too; Escape closes the list without reaching what is around, until another @ is typed', async () => {
    const w = mountInput()
    await type(w, '@cl')
    await press(w, 'Tab')
    expect(value(w)).toBe('@Cleo Park ')
    await type(w, '@Cleo Park @a')
    const reached: string[] = []
    document.body.addEventListener('keydown', (e) => reached.push(e.key))
    const escape = await press(w, 'Escape')
    expect(escape.defaultPrevented).toBe(true)
    expect(reached).toEqual([])
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
    await type(w, '@Cleo Park @am')
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
    // Closed, Enter is the composer's again (it sends).
    const send = vi.spyOn(messaging, 'sendMessage').mockReturnValue('cm')
    await press(w, 'Enter')
    expect(send).toHaveBeenCalledWith(CID, '@Cleo Park @am', [], null)
    await type(w, 'and @am')
    expect(options(w)).toEqual(['Amy Alder'])
  })

  it('a click on an option inserts it, keeping the focus in the text', async () => {
    const w = mountInput()
    await type(w, 'cc @an')
    const option = w.get('[data-testid=mention-option]')
    const down = new MouseEvent('mousedown', { bubbles: true, cancelable: true })
    option.element.dispatchEvent(down)
    await nextTick()
    await nextTick()
    expect(down.defaultPrevented).toBe(true)
    expect(value(w)).toBe('cc @Ana Alvarez ')
    expect(document.activeElement).toBe(w.get('textarea').element)
  })

  it('does not open for a draft that ends in "@an" (switching conversations) until the text is typed in', async () => {
    const { drafts } = await import('../../src/composables/drafts')
    drafts.set(CID, 'ask @an')
    const w = mount(MessageInput, { props: { conversationId: 'another' }, attachTo: document.body })
    await w.setProps({ conversationId: CID })
    await nextTick()
    await nextTick()
    expect(value(w)).toBe('ask @an')
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
    await type(w, 'ask @an')
    expect(options(w)).toEqual(['Ana Alvarez'])
    drafts.delete(CID)
  })

  it('closes when the text loses the focus', async () => {
    const w = mountInput()
    await type(w, '@an')
    expect(options(w)).toEqual(['Ana Alvarez'])
    await w.get('textarea').trigger('blur')
    expect(w.find('[data-testid=mention-suggestions]').exists()).toBe(false)
  })
})

describe('a bubble highlights the mentions', () => {
  it('shows the mentioned names as spans (mine stronger), the rest as plain text, never as HTML', () => {
    const body = '<b>@Ana Alvarez</b> and @Ben Carter: <img src=x onerror=alert(1)>'
    const w = mount(MessageBubble, { props: { conversationId: CID, message: message(1, { senderId: 'u-team-cleo', senderName: 'Cleo Park', body, mentions: [ANA, ME] }), mine: false } })
    const text = w.get('[data-testid=message-body]')
    expect(text.text()).toBe(body)
    expect(text.element.textContent).toBe(body)
    expect(text.find('b').exists()).toBe(false)
    expect(text.find('img').exists()).toBe(false)
    const mentions = w.findAll('[data-testid=mention]')
    expect(mentions.map((m) => [m.text(), m.attributes('data-user-id'), m.classes('mention--me')])).toEqual([
      ['@Ana Alvarez', ANA, false],
      ['@Ben Carter', ME, true],
    ])
    expect(mentions.every((m) => m.classes('mention'))).toBe(true)
    // Said in the message's label too, and marked on the bubble.
    expect(w.get('article').attributes('aria-label')).toMatch(/, mentions you$/)
    expect(w.get('[data-testid=message]').classes()).toContain('msg--mentions-me')
  })

  it('shows a body without `mentions` (an older server) as plain text, and a name nobody mentioned stays plain', () => {
    const old = message(2, { body: 'hi @Ana Alvarez' })
    delete (old as { mentions?: string[] }).mentions
    const w = mount(MessageBubble, { props: { conversationId: CID, message: old, mine: false } })
    expect(w.get('[data-testid=message-body]').text()).toBe('hi @Ana Alvarez')
    expect(w.find('[data-testid=mention]').exists()).toBe(false)
    expect(w.get('article').attributes('aria-label')).not.toContain('mentions you')
  })
})
