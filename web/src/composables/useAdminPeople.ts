// The admins' People screen: everyone in the directory, disabled people too, searched by
// name or email (once typing pauses) and filtered by state, a page at a time; disabling
// someone (every token of theirs gets 401 at once and their sockets close) or enabling
// them again. An admin cannot disable themselves (the server answers 400), so their own
// row offers no change.

import { onScopeDispose, ref, watch } from 'vue'
import type { ApiClient } from '../api/client'
import { SEARCH_DEBOUNCE_MS } from '../timing'
import type { ProfileView, UserStatus } from '../types'
import { usePagedList } from './usePagedList'

export const PEOPLE_PAGE_SIZE = 20

export function useAdminPeople(api: ApiClient, me: () => string | null | undefined) {
  const q = ref('')
  const status = ref<UserStatus | ''>('')
  const list = usePagedList(
    (cursor) => api.adminListUsers({ q: q.value.trim() || undefined, status: status.value || undefined, cursor, limit: PEOPLE_PAGE_SIZE }),
    (person) => person.userId,
  )

  let debounce: ReturnType<typeof setTimeout> | null = null
  watch(q, () => {
    if (debounce) clearTimeout(debounce)
    debounce = setTimeout(() => void list.load(), SEARCH_DEBOUNCE_MS)
  })
  watch(status, () => void list.load())
  onScopeDispose(() => {
    if (debounce) clearTimeout(debounce)
  })

  /** Whether the admin may disable or enable this person: anyone but themselves. */
  function canChange(person: ProfileView): boolean {
    return person.userId !== me()
  }

  /**
   * Disables or enables someone; their row shows the new state at once (it stays listed
   * under a filter it no longer matches until the next search, so the change is seen).
   */
  async function setActive(person: ProfileView, active: boolean): Promise<ProfileView> {
    const updated = await api.adminSetUserState(person.userId, { active })
    list.replace(updated)
    return updated
  }

  return { q, status, ...list, canChange, setActive }
}
