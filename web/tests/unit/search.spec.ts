// Message search: the query a form's filters make (utils/search.ts), the client's two
// routes, the snippet (matched words in <mark>, hostile text kept as text), the results
// list, the search's pace (debounced, stale requests aborted, nothing asked twice), and a
// result opening a thread far back in its history.

import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { setApi } from '../../src/api'
import { ApiClient, ApiError } from '../../src/api/client'
import MessageThread from '../../src/components/MessageThread.vue'
import SearchResults from '../../src/components/SearchResults.vue'
import SearchSnippet from '../../src/components/SearchSnippet.vue'
import SearchSnippetSource from '../../src/components/SearchSnippet.vue?raw'
import SearchResultsSource from '../../src/components/SearchResults.vue?raw'
import { searchErrorMessage, useMessageSearch, type SearchPageFetcher } from '../../src/composables/useMessageSearch'
import { createMessaging, setMessaging, type Messaging } from '../../src/composables/useMessaging'
import { useMessagingStore } from '../../src/stores/messagingStore'
import { SEARCH_DEBOUNCE_MS } from '../../src/timing'
import type { MessageSearchQuery, SearchResultPage, SearchResultView, SnippetPart } from '../../src/types'
import { emptyFilters, filtersProblem, searchQuery, searchable, startOfDay } from '../../src/utils/search'
import { BEN, CID, FakeServer, FakeWebSocket, message, summary } from './fixtures'

function result(seq: number, snippet: SnippetPart[] = [{ text: `message ${seq}`, match: false }]): SearchResultView {
  return { conversationId: CID, conversationTitle: 'Kickoff', message: message(seq), snippet }
}

describe('the query a search form makes', () => {
  it('sends the words trimmed, a page size, and leaves every filter at "any" out', () => {
    expect(searchQuery({ ...emptyFilters(), q: '  budget  ' })).toEqual({ q: 'budget', limit: 20 })
  })

  it('says nothing for an empty box or punctuation alone (the server would refuse it)', () => {
    expect(searchQuery(emptyFilters())).toBeNull()
    expect(searchQuery({ ...emptyFilters(), q: '   ' })).toBeNull()
    expect(searchQuery({ ...emptyFilters(), q: '"" -- !?' })).toBeNull()
    expect(searchable('é')).toBe(true)
    expect(searchable('42')).toBe(true)
    expect(searchable('…')).toBe(false)
  })

  it('carries the conversation, the sender, attachments, the order and the cursor', () => {
    const filters = { ...emptyFilters(), q: '"final invoice"', conversationId: CID, senderId: 'u-client-ana', files: 'with' as const, order: 'relevance' as const }
    expect(searchQuery(filters, 'c-2', 50)).toEqual({
      q: '"final invoice"',
      conversationId: CID,
      senderId: 'u-client-ana',
      hasFiles: true,
      order: 'relevance',
      cursor: 'c-2',
      limit: 50,
    })
    expect(searchQuery({ ...filters, files: 'without', order: 'newest' })).toMatchObject({ hasFiles: false })
    expect(searchQuery({ ...filters, order: 'newest' })).not.toHaveProperty('order')
  })

  it('sends days as the local midnights around them: "to" includes its whole day', () => {
    const query = searchQuery({ ...emptyFilters(), q: 'x', from: '2026-11-23', to: '2026-11-24' })!
    expect(query.from).toBe(new Date(2026, 10, 23).toISOString())
    expect(query.to).toBe(new Date(2026, 10, 25).toISOString())
    // One day: from its start to the next one's.
    const one = searchQuery({ ...emptyFilters(), q: 'x', from: '2026-12-31', to: '2026-12-31' })!
    expect(one.from).toBe(new Date(2026, 11, 31).toISOString())
    expect(one.to).toBe(new Date(2027, 0, 1).toISOString())
    expect(startOfDay('23/11/2026')).toBeNull()
    expect(searchQuery({ ...emptyFilters(), q: 'x', from: 'nonsense' })).toEqual({ q: 'x', limit: 20 })
  })

  it('says what the server would refuse before asking it', () => {
    expect(filtersProblem({ ...emptyFilters(), q: 'x', from: '2026-11-24', to: '2026-11-23' })).toBe('The last day is before the first day.')
    expect(filtersProblem({ ...emptyFilters(), q: 'a'.repeat(201) })).toBe('Search for at most 200 characters.')
    expect(filtersProblem({ ...emptyFilters(), q: 'a'.repeat(200), from: '2026-11-23', to: '2026-11-23' })).toBeNull()
  })
})

describe('the search routes', () => {
  it('puts the query in the URL, for members and admins, with the abort signal', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ items: [], nextCursor: null }), { status: 200 }))
    const client = new ApiClient({ getToken: () => 't', fetch })
    const signal = new AbortController().signal
    await client.searchMessages({ q: 'a&b "c d"', conversationId: CID, hasFiles: false, order: 'relevance', limit: 20 }, signal)
    await client.adminSearchMessages({ q: 'budget', senderId: 'u-client-ana', cursor: 'next' })
    const [member, admin] = fetch.mock.calls as unknown as [[string, RequestInit], [string, RequestInit]]
    const [memberUrl, memberInit] = member
    const [adminUrl] = admin
    expect(memberUrl).toBe(`/api/messaging/search?q=a%26b+%22c+d%22&conversationId=${CID}&hasFiles=false&order=relevance&limit=20`)
    expect(memberInit.signal).toBe(signal)
    expect(memberInit.method).toBe('GET')
    expect(adminUrl).toBe('/api/admin/messaging/search?q=budget&senderId=u-client-ana&cursor=next')
  })

  it('names search as what is unavailable on a 503, and keeps the server\'s words otherwise', () => {
    expect(searchErrorMessage(new ApiError(503, 'unavailable', 'the service is temporarily unavailable; retry shortly'))).toBe(
      'Search is unavailable right now: the service is temporarily unavailable; retry shortly',
    )
    expect(searchErrorMessage(new ApiError(400, 'invalid', 'q: must contain at least one letter or digit', 'q'))).toBe('q: must contain at least one letter or digit')
    expect(searchErrorMessage(new ApiError(429, 'rate_limited', 'too many search requests', null, 4000))).toBe('too many search requests; try again in 4 s')
  })
})

describe('SearchSnippet', () => {
  it('marks the matched pieces and keeps the others as plain text, in order', () => {
    const w = mount(SearchSnippet, {
      props: { parts: [{ text: 'the ', match: false }, { text: 'budget', match: true }, { text: ' for Q3 ', match: false }, { text: 'Budgets', match: true }] },
    })
    expect(w.text()).toBe('the budget for Q3 Budgets')
    expect(w.findAll('mark').map((m) => m.text())).toEqual(['budget', 'Budgets'])
    expect(w.element.childNodes).toHaveLength(4)
    expect(w.element.childNodes[0]!.nodeType).toBe(Node.TEXT_NODE)
  })

  it('shows hostile text as the text it is: no element but <mark>, no attribute from the message', () => {
    const hostile = [
      '<img src=x onerror="window.__pwned=1">',
      '<script>window.__pwned=1</script>',
      '"><svg onload=alert(1)>',
      '<a href="javascript:alert(1)">x</a>',
      '&lt;b&gt; &amp; \u202Eevil',
    ]
    const parts = hostile.flatMap((text, i) => [{ text, match: i % 2 === 0 }, { text: ' · ', match: false }])
    const w = mount(SearchSnippet, { props: { parts } })
    expect(w.element.textContent).toBe(parts.map((p) => p.text).join(''))
    const elements = [...w.element.querySelectorAll('*')]
    expect(elements.every((el) => el.tagName === 'MARK')).toBe(true)
    expect(elements.every((el) => [...el.attributes].every((a) => a.name === 'class'))).toBe(true)
    expect(w.findAll('mark').map((m) => m.text())).toEqual([hostile[0], hostile[2], hostile[4]])
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined()
  })

  it('shows the fallback when the match was elsewhere (an attachment\'s name)', () => {
    const w = mount(SearchSnippet, { props: { parts: [], fallback: '<b>the body</b>' } })
    expect(w.text()).toBe('<b>the body</b>')
    expect(w.find('b').exists()).toBe(false)
  })

  it('never renders HTML', () => {
    for (const source of [SearchSnippetSource, SearchResultsSource]) {
      expect(source).not.toMatch(/v-html|innerHTML/)
    }
  })
})

describe('SearchResults', () => {
  const base = { loading: false, loadingMore: false, error: null, hasMore: false, answered: true }

  it('lists each result as a button with the conversation, the sender, the time and the snippet; a click opens it', async () => {
    const r = { ...result(7, [{ text: 'the ', match: false }, { text: 'plan', match: true }]), message: message(7, { files: [{ id: 'f1', name: 'plan.pdf', size: 10, contentType: 'application/pdf' }] }) }
    const w = mount(SearchResults, { props: { ...base, results: [r, result(3)], currentId: 'm3' } })
    const buttons = w.findAll('[data-testid=search-result]')
    expect(buttons).toHaveLength(2)
    expect(buttons[0]!.element.tagName).toBe('BUTTON')
    expect(buttons[0]!.attributes('data-seq')).toBe('7')
    expect(buttons[0]!.get('[data-testid=search-result-conversation]').text()).toBe('Kickoff')
    expect(buttons[0]!.get('[data-testid=search-result-sender]').text()).toBe('Ana Alvarez')
    expect(buttons[0]!.get('time').attributes('datetime')).toBe(r.message.createdAt)
    expect(buttons[0]!.get('mark').text()).toBe('plan')
    expect(buttons[0]!.get('[data-testid=search-result-files]').text()).toBe('1 attachment')
    expect(buttons[1]!.attributes('aria-current')).toBe('true')
    expect(buttons[0]!.attributes('aria-current')).toBeUndefined()
    await buttons[0]!.trigger('click')
    expect(w.emitted('open')).toEqual([[r]])
    expect(w.get('[role=status]').text()).toBe('2 messages found')
  })

  it('offers more while there is a cursor', async () => {
    const w = mount(SearchResults, { props: { ...base, results: [result(1)], hasMore: true } })
    expect(w.get('[role=status]').text()).toBe('1+ message found')
    await w.get('[data-testid=search-more]').trigger('click')
    expect(w.emitted('more')).toHaveLength(1)
    await w.setProps({ loadingMore: true })
    expect(w.get('[data-testid=search-more]').attributes('disabled')).toBeDefined()
  })

  it('says when nothing matched, and only once a question was answered', async () => {
    const w = mount(SearchResults, { props: { ...base, results: [], answered: false } })
    expect(w.find('[data-testid=search-empty]').exists()).toBe(false)
    await w.setProps({ answered: true })
    expect(w.get('[data-testid=search-empty]').text()).toBe('No messages match.')
  })

  it('shows the error with a way to try again', async () => {
    const w = mount(SearchResults, { props: { ...base, results: [], error: 'Search is unavailable right now: retry shortly' } })
    expect(w.get('[data-testid=search-error]').text()).toContain('Search is unavailable right now: retry shortly')
    expect(w.get('[data-testid=search-error]').attributes('role')).toBe('alert')
    await w.get('[data-testid=search-error] button').trigger('click')
    expect(w.emitted('retry')).toHaveLength(1)
  })
})

describe('useMessageSearch', () => {
  type Asked = { query: MessageSearchQuery; signal: AbortSignal; resolve: (page: SearchResultPage) => void; reject: (e: unknown) => void }
  let asked: Asked[]
  let fetchPage: SearchPageFetcher

  beforeEach(() => {
    vi.useFakeTimers()
    asked = []
    fetchPage = (query, signal) =>
      new Promise((resolve, reject) => {
        asked.push({ query, signal, resolve, reject })
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function start() {
    const scope = effectScope()
    const search = scope.run(() => useMessageSearch(fetchPage))!
    return { search, stop: () => scope.stop() }
  }

  async function settle() {
    await vi.advanceTimersByTimeAsync(0)
    await flushPromises()
  }

  it('waits for a pause in typing, then asks once', async () => {
    const { search, stop } = start()
    for (const q of ['b', 'bu', 'bud', 'budg']) {
      search.filters.q = q
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 50)
    }
    expect(asked).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(60)
    expect(asked.map((a) => a.query.q)).toEqual(['budg'])
    asked[0]!.resolve({ items: [result(1)], nextCursor: null })
    await settle()
    expect(search.results.value).toHaveLength(1)
    expect(search.answered.value).toEqual({ q: 'budg', limit: 20 })
    stop()
  })

  it('aborts the request a newer one replaces, and only the newest answer shows', async () => {
    const { search, stop } = start()
    search.filters.q = 'first'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    search.filters.q = 'second'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    expect(asked.map((a) => a.query.q)).toEqual(['first', 'second'])
    expect(asked[0]!.signal.aborted).toBe(true)
    expect(asked[1]!.signal.aborted).toBe(false)
    asked[1]!.resolve({ items: [result(2)], nextCursor: null })
    await settle()
    expect(search.results.value.map((r) => r.message.seq)).toEqual([2])
    expect(search.error.value).toBeNull()
    expect(search.loading.value).toBe(false)
    stop()
  })

  it('does not ask again what is on screen (Enter after the pause), nor for punctuation alone', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    asked[0]!.resolve({ items: [], nextCursor: null })
    await settle()
    await search.run()
    expect(asked).toHaveLength(1)
    search.filters.q = '?!'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    expect(asked).toHaveLength(1)
    expect(search.answered.value).toBeNull()
    // A filter that changes the question does ask.
    search.filters.q = 'plan'
    search.filters.order = 'relevance'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    expect(asked.map((a) => a.query)).toEqual([{ q: 'plan', limit: 20 }, { q: 'plan', order: 'relevance', limit: 20 }])
    stop()
  })

  it('clears at once when the box is emptied, aborting what was on its way', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    search.filters.q = ''
    await settle()
    expect(asked[0]!.signal.aborted).toBe(true)
    expect(search.results.value).toEqual([])
    expect(search.loading.value).toBe(false)
    stop()
  })

  it('loads more with the cursor of the same question, adding no result twice', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    search.filters.files = 'with'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    asked[0]!.resolve({ items: [result(9), result(8)], nextCursor: 'p2' })
    await settle()
    const more = search.loadMore()
    expect(search.loadingMore.value).toBe(true)
    expect(asked[1]!.query).toEqual({ q: 'plan', hasFiles: true, limit: 20, cursor: 'p2' })
    asked[1]!.resolve({ items: [result(8), result(7)], nextCursor: null })
    await more
    expect(search.results.value.map((r) => r.message.seq)).toEqual([9, 8, 7])
    expect(search.nextCursor.value).toBeNull()
    await search.loadMore()
    expect(asked).toHaveLength(2)
    stop()
  })

  it('shows a failure, and "Try again" asks the same question again', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    asked[0]!.reject(new ApiError(503, 'unavailable', 'retry shortly'))
    await settle()
    expect(search.error.value).toBe('Search is unavailable right now: retry shortly')
    void search.retry()
    expect(asked).toHaveLength(2)
    expect(asked[1]!.query).toEqual({ q: 'plan', limit: 20 })
    asked[1]!.resolve({ items: [result(1)], nextCursor: null })
    await settle()
    expect(search.error.value).toBeNull()
    expect(search.results.value).toHaveLength(1)
    stop()
  })

  it('does not search while the days are the wrong way round', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    search.filters.from = '2026-11-24'
    search.filters.to = '2026-11-23'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    expect(asked).toHaveLength(0)
    expect(search.problem.value).toBe('The last day is before the first day.')
    stop()
  })

  it('aborts what is on its way when its component goes', async () => {
    const { search, stop } = start()
    search.filters.q = 'plan'
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    stop()
    expect(asked[0]!.signal.aborted).toBe(true)
  })
})

describe('opening a result far back in a thread', () => {
  let messaging: Messaging
  let server: FakeServer

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
    document.body.innerHTML = ''
  })

  it('pages back until the message is held, the thread unbroken down to the newest', async () => {
    server.add(260)
    await messaging.openConversation(CID)
    expect(messaging.store.firstSeqOf(CID)).toBe(211)
    expect(await messaging.loadBackTo(CID, 7)).toBe(true)
    const seqs = messaging.store.threads[CID]!.messages.map((m) => m.seq)
    expect(seqs[0]).toBeLessThanOrEqual(7)
    expect(seqs).toEqual(Array.from({ length: 260 - seqs[0]! + 1 }, (_, i) => seqs[0]! + i))
    expect(server.callsTo('GET', '/messages').map((c) => c.query.get('before'))).toEqual([null, '211', '111', '11'])
    // Held already: nothing more to fetch.
    expect(await messaging.loadBackTo(CID, 100)).toBe(true)
    expect(server.callsTo('GET', '/messages')).toHaveLength(4)
    expect(messaging.store.threads[CID]!.loadingOlder).toBe(false)
  })

  it('says so when the message is not there any more', async () => {
    server.add(30)
    await messaging.openConversation(CID)
    expect(await messaging.loadBackTo(CID, 31)).toBe(false)
  })

  it('MessageThread shows the message a search result opened, marked and focused', async () => {
    server.add(180)
    messaging.store.setConversationPage([summary({ lastSeq: 180, lastReadSeq: 180 })], null)
    void messaging.openConversation(CID)
    const w = mount(MessageThread, { props: { conversationId: CID, jump: { seq: 12 } }, attachTo: document.body })
    await flushPromises()
    await flushPromises()
    const found = w.get('[data-testid=message][data-seq="12"]')
    expect(found.attributes('data-found')).toBe('true')
    expect(found.classes()).toContain('msg--found')
    expect(document.activeElement).toBe(found.element)
    expect(w.findAll('[data-found=true]')).toHaveLength(1)
    // Asked again for the same message (a new request): shown again.
    await w.setProps({ jump: { seq: 150 } })
    await flushPromises()
    expect(w.get('[data-testid=message][data-seq="150"]').attributes('data-found')).toBe('true')
    expect(w.find('[data-testid=message][data-seq="12"]').attributes('data-found')).toBeUndefined()
    w.unmount()
  })
})
