// A message search as a form runs it, for members and admins alike (the page fetcher
// says which route): the filters, the results, the cursor for "Load more".
//
// Every search spends the caller's allowance (30 per 10 s), so typing waits for a pause
// (SEARCH_DEBOUNCE_MS), a request a newer one replaces is aborted, and a question whose
// answer is already on screen is not asked again. Only the latest request's answer counts.

import { computed, onScopeDispose, reactive, ref, watch } from 'vue'
import { ApiError, errorMessage } from '../api/client'
import { SEARCH_DEBOUNCE_MS } from '../timing'
import type { MessageSearchQuery, SearchResultPage, SearchResultView } from '../types'
import { emptyFilters, filtersProblem, searchQuery, type SearchFilters } from '../utils/search'

export type SearchPageFetcher = (query: MessageSearchQuery, signal: AbortSignal) => Promise<SearchResultPage>

/** What to tell the reader when a search failed: the server's words, named as search's. */
export function searchErrorMessage(e: unknown): string {
  // 503: the index is down, not the conversation; the rest of the app still works.
  if (e instanceof ApiError && e.status === 503) return `Search is unavailable right now: ${e.message}`
  return errorMessage(e)
}

export function useMessageSearch(fetchPage: SearchPageFetcher, options: { debounceMs?: number; initial?: Partial<SearchFilters> } = {}) {
  const debounceMs = options.debounceMs ?? SEARCH_DEBOUNCE_MS
  const filters = reactive<SearchFilters>({ ...emptyFilters(), ...options.initial })
  const results = ref<SearchResultView[]>([])
  const nextCursor = ref<string | null>(null)
  /** The first page is on its way. */
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref<string | null>(null)
  /** The query the results answer; null before any answer, or once the box is emptied. */
  const answered = ref<MessageSearchQuery | null>(null)
  const problem = computed(() => filtersProblem(filters))

  let debounce: ReturnType<typeof setTimeout> | null = null
  let inFlight: AbortController | null = null
  /** The query asked last (answered or on its way), to tell a new question from the same one. */
  let askedKey = ''
  /** Which request failed last, for "Try again". */
  let failed: 'first' | 'more' | null = null

  function stopTimer() {
    if (debounce) clearTimeout(debounce)
    debounce = null
  }

  function cancel() {
    stopTimer()
    inFlight?.abort()
    inFlight = null
    loading.value = false
    loadingMore.value = false
  }

  async function fetchInto(query: MessageSearchQuery, append: boolean): Promise<void> {
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    loading.value = !append
    loadingMore.value = append
    error.value = null
    failed = null
    try {
      const page = await fetchPage(query, controller.signal)
      if (inFlight !== controller) return
      if (append) {
        // Pages of a newest-first search may overlap when messages arrive between them.
        const held = new Set(results.value.map((r) => r.message.id))
        results.value = [...results.value, ...page.items.filter((r) => !held.has(r.message.id))]
      } else {
        results.value = page.items
        answered.value = query
      }
      nextCursor.value = page.nextCursor
    } catch (e) {
      if (inFlight !== controller) return
      error.value = searchErrorMessage(e)
      failed = append ? 'more' : 'first'
      if (!append) {
        // The results on screen answer another question: they go with the failed one.
        results.value = []
        nextCursor.value = null
        answered.value = null
        // Asking the same again is what "Try again" is for.
        askedKey = ''
      }
    } finally {
      if (inFlight === controller) {
        inFlight = null
        loading.value = false
        loadingMore.value = false
      }
    }
  }

  /** Searches for the filters as they are now, at once (Enter, or after the pause in typing). */
  function run(options: { force?: boolean } = {}): Promise<void> {
    stopTimer()
    const query = problem.value ? null : searchQuery(filters)
    if (!query) {
      cancel()
      askedKey = ''
      results.value = []
      nextCursor.value = null
      answered.value = null
      error.value = null
      failed = null
      return Promise.resolve()
    }
    const key = JSON.stringify(query)
    if (key === askedKey && !options.force) return Promise.resolve()
    askedKey = key
    return fetchInto(query, false)
  }

  /** The next page of the question answered. */
  function loadMore(): Promise<void> {
    if (!answered.value || !nextCursor.value || loading.value || loadingMore.value) return Promise.resolve()
    return fetchInto({ ...answered.value, cursor: nextCursor.value }, true)
  }

  /** After a failure: the first page again, or the page that failed. */
  function retry(): Promise<void> {
    return failed === 'more' ? loadMore() : run({ force: true })
  }

  watch(
    () => ({ ...filters }),
    (now) => {
      stopTimer()
      // Emptied: clear at once. Otherwise wait for the reader to pause.
      if (!now.q.trim()) void run()
      else debounce = setTimeout(() => void run(), debounceMs)
    },
  )

  onScopeDispose(cancel)

  return { filters, results, nextCursor, loading, loadingMore, error, answered, problem, run, loadMore, retry, cancel }
}

export type MessageSearch = ReturnType<typeof useMessageSearch>
