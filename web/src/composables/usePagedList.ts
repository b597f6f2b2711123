// A list the server pages with a cursor (`{items, nextCursor}`), as the admin screens show
// them: the first page for the current filters, then "Load more" with the cursor. Only the
// answer to the latest request counts, so a slow page of an old search never replaces a
// newer one, and a page that overlaps the one before adds nobody twice.

import { ref, type Ref } from 'vue'
import { errorMessage } from '../api/client'
import type { ListPage } from '../types'

export function usePagedList<T>(
  fetchPage: (cursor: string | null) => Promise<ListPage<T>>,
  keyOf: (item: T) => string,
  /** Each page as it arrives (to fetch what its rows refer to). */
  onPage?: (items: T[]) => void,
) {
  const items = ref([]) as Ref<T[]>
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let request = 0

  /** The first page for the filters as they are now, or with `append` the next one. */
  async function load(append = false): Promise<void> {
    if (append && !cursor.value) return
    const r = ++request
    loading.value = true
    error.value = null
    try {
      const page = await fetchPage(append ? cursor.value : null)
      if (r !== request) return
      const held = new Set(append ? items.value.map(keyOf) : [])
      items.value = append ? [...items.value, ...page.items.filter((x) => !held.has(keyOf(x)))] : page.items
      cursor.value = page.nextCursor
      onPage?.(page.items)
    } catch (e) {
      if (r === request) error.value = errorMessage(e)
    } finally {
      if (r === request) loading.value = false
    }
  }

  /** Puts the server's new copy of an item (after a change) in the place of the old one. */
  function replace(item: T): void {
    const key = keyOf(item)
    items.value = items.value.map((x) => (keyOf(x) === key ? item : x))
  }

  return { items, cursor, loading, error, load, replace }
}
