import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { setApi } from '../../src/api'
import { ApiClient } from '../../src/api/client'
import AdminPeople from '../../src/components/admin/AdminPeople.vue'
import { PEOPLE_PAGE_SIZE, useAdminPeople } from '../../src/composables/useAdminPeople'
import { usePagedList } from '../../src/composables/usePagedList'
import { useSessionStore } from '../../src/stores/sessionStore'
import { SEARCH_DEBOUNCE_MS } from '../../src/timing'
import type { ListPage } from '../../src/types'
import { FakeServer, profile } from './fixtures'

const DANA = 'u-admin-dana'

let server: FakeServer
let api: ApiClient

function directory() {
  return [
    profile('u-client-ana', { name: 'Ana Alvarez', email: 'ana@acme.example' }),
    profile('u-client-zed', { name: 'Zed Zimmer', email: 'zed@globex.example', organisation: 'Globex', active: false }),
    profile('u-team-ben', { name: 'Ben Carter', email: 'ben@example.com' }),
    profile(DANA, { name: 'Dana Reyes', role: 'admin', organisation: null, email: 'dana@example.com' }),
  ]
}

function people() {
  const scope = effectScope()
  const state = scope.run(() => useAdminPeople(api, () => DANA))!
  return { ...state, stop: () => scope.stop() }
}

const lastCall = () => server.calls[server.calls.length - 1]!
const names = (items: { name: string }[]) => items.map((p) => p.name)

beforeEach(() => {
  setActivePinia(createPinia())
  server = new FakeServer()
  server.people = directory()
  api = new ApiClient({ getToken: () => 't', fetch: server.fetch })
})

describe('useAdminPeople', () => {
  afterEach(() => vi.useRealTimers())

  it('searches name and email once typing pauses, and filters by state at once', async () => {
    vi.useFakeTimers()
    const p = people()
    await p.load()
    expect(names(p.items.value)).toEqual(['Ana Alvarez', 'Ben Carter', 'Dana Reyes', 'Zed Zimmer'])

    p.q.value = 'g'
    await nextTick()
    p.q.value = 'globex'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 10)
    expect(server.callsTo('GET', '/admin/messaging/users')).toHaveLength(1) // not yet
    await vi.advanceTimersByTimeAsync(10)
    await flushPromises()
    const searches = server.callsTo('GET', '/admin/messaging/users')
    expect(searches.map((c) => c.query.get('q'))).toEqual([null, 'globex']) // one search for both keystrokes
    expect(names(p.items.value)).toEqual(['Zed Zimmer'])

    p.q.value = ''
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS)
    p.status.value = 'disabled'
    await nextTick()
    await flushPromises()
    expect(lastCall().query.get('status')).toBe('disabled')
    expect(names(p.items.value)).toEqual(['Zed Zimmer'])
    p.status.value = 'active'
    await nextTick()
    await flushPromises()
    expect(names(p.items.value)).toEqual(['Ana Alvarez', 'Ben Carter', 'Dana Reyes'])
    p.stop()
  })

  it('pages with the cursor: "Load more" appends the next page until there is none', async () => {
    server.people = Array.from({ length: PEOPLE_PAGE_SIZE + 5 }, (_, i) => profile(`u-client-${i}`, { name: `Person ${String(i).padStart(2, '0')}` }))
    const p = people()
    await p.load()
    expect(p.items.value).toHaveLength(PEOPLE_PAGE_SIZE)
    expect(p.cursor.value).toBe(String(PEOPLE_PAGE_SIZE))
    await p.load(true)
    expect(lastCall().query.get('cursor')).toBe(String(PEOPLE_PAGE_SIZE))
    expect(p.items.value.map((x) => x.userId)).toEqual(server.people.map((x) => x.userId))
    expect(p.cursor.value).toBeNull()
    await p.load(true) // nothing more to fetch
    expect(server.callsTo('GET', '/admin/messaging/users')).toHaveLength(2)
    p.stop()
  })

  it('disables and enables someone, showing their new state in place; the admin\'s own row offers no change', async () => {
    const p = people()
    await p.load()
    const ana = p.items.value.find((x) => x.userId === 'u-client-ana')!
    expect(p.canChange(ana)).toBe(true)
    expect(p.canChange(p.items.value.find((x) => x.userId === DANA)!)).toBe(false)

    await p.setActive(ana, false)
    expect(server.callsTo('PATCH', '/admin/messaging/users/u-client-ana').map((c) => c.body)).toEqual([{ active: false }])
    expect(p.items.value.find((x) => x.userId === 'u-client-ana')!.active).toBe(false)
    await p.setActive(p.items.value.find((x) => x.userId === 'u-client-ana')!, true)
    expect(p.items.value.find((x) => x.userId === 'u-client-ana')!.active).toBe(true)
    expect(names(p.items.value)).toEqual(['Ana Alvarez', 'Ben Carter', 'Dana Reyes', 'Zed Zimmer'])
    p.stop()
  })
})

describe('usePagedList', () => {
  it('keeps the answer to the latest request only, and adds nobody twice from overlapping pages', async () => {
    const answers: ((page: ListPage<{ id: string }>) => void)[] = []
    const list = usePagedList<{ id: string }>(
      () => new Promise((resolve) => answers.push(resolve)),
      (x) => x.id,
    )
    const first = list.load()
    const second = list.load()
    answers[1]!({ items: [{ id: 'new' }], nextCursor: 'c1' })
    answers[0]!({ items: [{ id: 'old' }], nextCursor: null })
    await Promise.all([first, second])
    expect(list.items.value).toEqual([{ id: 'new' }])
    expect([list.cursor.value, list.loading.value]).toEqual(['c1', false])

    const more = list.load(true)
    answers[2]!({ items: [{ id: 'new' }, { id: 'next' }], nextCursor: null })
    await more
    expect(list.items.value.map((x) => x.id)).toEqual(['new', 'next'])
  })

  it('says what went wrong and keeps what it had', async () => {
    const list = usePagedList<{ id: string }>(async () => Promise.reject(new Error('boom')), (x) => x.id)
    await list.load()
    expect([list.error.value, list.loading.value, list.items.value]).toEqual(['boom', false, []])
  })
})

describe('AdminPeople', () => {
  afterEach(() => {
    setApi(null)
    useSessionStore().signOut()
    document.body.innerHTML = ''
  })

  it('lists name, role, organisation, email and state; disabling asks first; the admin\'s own row has no button', async () => {
    setApi(api)
    useSessionStore().signIn(DANA, { userId: DANA, name: 'Dana Reyes', role: 'admin', organisation: null })
    const wrapper = mount(AdminPeople, { attachTo: document.body })
    await flushPromises()
    const row = (id: string) => wrapper.get(`[data-testid=admin-person][data-user-id="${id}"]`)
    expect(row('u-client-ana').text()).toContain('Client · Acme Corp · ana@acme.example')
    expect(row('u-client-ana').get('[data-testid=admin-person-state]').text()).toBe('active')
    expect(row('u-client-zed').get('[data-testid=admin-person-state]').text()).toBe('disabled')
    expect(row('u-client-zed').get('[data-testid=admin-person-toggle]').text()).toBe('Enable')
    expect(row(DANA).text()).toContain('Dana Reyes (you)')
    expect(row(DANA).find('[data-testid=admin-person-toggle]').exists()).toBe(false)

    await row('u-client-ana').get('[data-testid=admin-person-toggle]').trigger('click')
    const dialog = wrapper.get('dialog')
    expect(dialog.text()).toContain('Disable Ana Alvarez?')
    expect(server.callsTo('PATCH', '/admin/messaging/users')).toEqual([]) // nothing before confirming
    await dialog.get('form').trigger('submit')
    await flushPromises()
    expect(server.callsTo('PATCH', '/admin/messaging/users/u-client-ana').map((c) => c.body)).toEqual([{ active: false }])
    expect(wrapper.find('dialog').exists()).toBe(false)
    expect(row('u-client-ana').attributes('data-active')).toBe('false')
    expect(row('u-client-ana').get('[data-testid=admin-person-toggle]').text()).toBe('Enable')
    wrapper.unmount()
  })
})
