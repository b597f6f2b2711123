// The messaging service: REST calls and socket events applied to the store.
//
// - Threads load their newest page, page back with `before` (by hand, or down to a search
//   result's message), and catch up with `after` (looping while `hasMore`) after every
//   (re)connect, so that nothing sent while the socket was down is missed. A hole in the
//   seqs (an event with seq > last + 1, a `resync`) is filled with `after` too. Duplicates
//   from overlapping sources are harmless: the store dedupes by id and seq.
// - Sends are optimistic: the message shows at once with a client message id; a retry
//   resends the same id, so the server stores it once (201 new / 200 replay). A send
//   refused by the rate limit (429) stays pending, "paused", and goes again by itself
//   after the answer's Retry-After (at most 60 s; a backoff when it does not say). A send
//   refused with 401 (the session expired) stays pending too, for after the next sign-in.
// - Typing is throttled to one `typing` action every 2 s, with `stop-typing` when the
//   text is cleared or sent, or after a few idle seconds.
// - Managing conversations (create, rename, add and remove people, leave, mute, hide)
//   applies the server's answer at once; the `conversation-updated` event that follows
//   tells the other members, and is harmless here. An event that no longer lists me
//   means I left or was removed: the conversation is forgotten and its open thread says so.
//   My mute, hide and notification settings reach my other devices as `preferences-updated`.
// - Reactions show at once: a click toggles what the store shows, and one request at a
//   time per message and emoji brings the server to what was clicked last. The answer's
//   set replaces the message's unless a `message-reactions` event came while it was on its
//   way (that event may be the newer word: then only my own reaction is set as answered).
//   A refusal takes the click back and rejects, for the caller to say so.
// - Replies are sends with a `replyToId`, pending like any other (their target travels with
//   them, through retries and a sign-in again). The thread panel pages a thread forward
//   (`GET .../thread?after=`); replies arriving live join it. A root whose count a page
//   may have left behind (replies caught up on, not heard live) is fetched again.
// - Pins load with the conversation and again on every `pins-updated` (and reconnect);
//   pinning answers with the whole list, which replaces what is shown.

import { shallowRef } from 'vue'
import { ApiError, errorMessage, type ApiClient } from '../api/client'
import { useMessagingStore, type MessagingStore } from '../stores/messagingStore'
import type {
  ConversationSummary,
  FileMeta,
  MessageView,
  PinnedMessages,
  PreferencesRequest,
  PreferencesState,
  ReplyTarget,
  ServerEvent,
} from '../types'
import { newClientMessageId } from '../utils/id'
import { withReaction } from '../utils/reactions'
import { isolate } from '../utils/text'
import {
  RATE_LIMIT_BACKOFF_BASE_MS,
  RATE_LIMIT_MAX_RETRIES,
  RATE_LIMIT_MAX_WAIT_MS,
  TYPING_IDLE_MS,
  TYPING_MARGIN_MS,
  TYPING_SWEEP_SLACK_MS,
  TYPING_THROTTLE_MS,
} from '../timing'
import { backoffDelay, socketUrl, useSocket, type SocketClientOptions, type UseSocket, type WebSocketFactory } from './useSocket'

export const PAGE_SIZE = 50
export const CATCH_UP_PAGE = 100
/** Re-exported for the tests that drive typing. */
export { TYPING_IDLE_MS, TYPING_THROTTLE_MS }
/** Upper bound on pages fetched by one catch-up (100 × 100 messages). */
const MAX_CATCH_UP_PAGES = 100

/**
 * How long a send refused with 429 waits before it goes again: the answer's Retry-After,
 * else a backoff (2 s, 4 s, 8 s…, jittered) by the number of refusals so far; never
 * more than 60 s.
 */
export function rateLimitWait(e: ApiError, refusals: number, random: () => number = Math.random): number {
  if (e.retryAfterMs !== null) return Math.min(RATE_LIMIT_MAX_WAIT_MS, Math.max(0, e.retryAfterMs))
  return backoffDelay(refusals, { baseMs: RATE_LIMIT_BACKOFF_BASE_MS, maxMs: RATE_LIMIT_MAX_WAIT_MS }, random)
}

export interface MessagingDeps {
  api: ApiClient
  store?: MessagingStore
  createSocket?: WebSocketFactory
  buildSocketUrl?: (ticket: string) => string
  socketOptions?: Partial<SocketClientOptions>
}

export type Messaging = ReturnType<typeof createMessaging>

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item) => run(item).catch(() => undefined)))
  }
}

export function createMessaging(deps: MessagingDeps) {
  const api = deps.api
  const store = deps.store ?? useMessagingStore()

  const socket: UseSocket = useSocket({
    getTicket: async () => (await api.wsTicket()).ticket,
    buildUrl: deps.buildSocketUrl ?? ((ticket) => socketUrl(ticket)),
    createSocket: deps.createSocket,
    onEvent: (event) => handleEvent(event),
    onOpen: (info) => void handleOpen(info.reconnect),
    // The connection may have been expired by the server while unheard: catch up.
    onResume: () => void handleOpen(true),
    onStateChange: (state) => store.setConnection(state),
    ...deps.socketOptions,
  })

  // --- conversations --------------------------------------------------------------------

  let listRequest = 0
  const detailRequests = new Map<string, Promise<void>>()

  async function loadConversations(q: string = store.listQuery): Promise<void> {
    store.listError = null
    await fetchConversations(q, null)
  }

  async function loadMoreConversations(): Promise<void> {
    if (!store.listCursor || store.listLoading) return
    await fetchConversations(store.listQuery, store.listCursor)
  }

  /** A page of my conversations: the first for `q` (cursor null), or the next one. */
  async function fetchConversations(q: string, cursor: string | null): Promise<void> {
    const request = ++listRequest
    store.listLoading = true
    try {
      const page = await api.listConversations({ q: q.trim() || undefined, ...(cursor ? { cursor } : {}), limit: 30 })
      if (request !== listRequest) return
      store.setConversationPage(page.items, page.nextCursor, cursor ? { append: true } : { query: q })
      void loadMissingDetails(page.items)
    } catch (e) {
      if (request === listRequest) store.listError = errorMessage(e)
    } finally {
      if (request === listRequest) store.listLoading = false
    }
  }

  /** My own profile as the directory has it now (a name changed on another device). */
  async function loadProfile(): Promise<void> {
    try {
      store.setMe(await api.me())
    } catch {
      // The session's copy stays; a 401 has already signed the user out.
    }
  }

  /** Participants (names, presence, watermarks) for the list's presence dots. */
  async function loadMissingDetails(items: ConversationSummary[]): Promise<void> {
    const missing = items.filter((c) => !store.details[c.id]).map((c) => c.id)
    await inBatches(missing, 4, (id) => loadDetail(id))
  }

  function loadDetail(id: string): Promise<void> {
    const running = detailRequests.get(id)
    if (running) return running
    const promise = (async () => {
      try {
        store.setDetail(await api.getConversation(id))
      } catch (e) {
        // Not (or no longer) mine: removed while this page was away, or never known.
        if (e instanceof ApiError && e.status === 404) {
          store.removeConversation(id, store.conversations[id] ? 'removed' : 'unavailable')
        } else throw e
      } finally {
        detailRequests.delete(id)
      }
    })()
    detailRequests.set(id, promise)
    return promise
  }

  /** A conversation we hear about for the first time (added to it, or a first message). */
  async function discoverConversation(id: string): Promise<void> {
    if (store.conversations[id]) return
    await loadDetail(id).catch(() => undefined)
    showInList(id)
  }

  /** Lists a conversation that became mine or active again (the current list is not a search). */
  function showInList(id: string): void {
    if (store.conversations[id] && !store.listQuery.trim()) store.includeInList(id)
  }

  // --- managing conversations -------------------------------------------------------------

  /** Starts a conversation with people picked by id; returns its id (it is in the list). */
  async function createConversation(title: string, participantIds: string[]): Promise<string> {
    const detail = await api.createConversation({ title, participantIds })
    store.setDetail(detail)
    showInList(detail.id)
    return detail.id
  }

  async function renameConversation(id: string, title: string): Promise<void> {
    store.applyConversationView(await api.renameConversation(id, { title }))
  }

  async function addParticipants(id: string, participantIds: string[]): Promise<void> {
    store.setDetail(await api.addParticipants(id, { participantIds }))
  }

  /** Removes someone else (team and admins). */
  async function removeParticipant(id: string, userId: string): Promise<void> {
    await api.removeParticipant(id, userId)
    store.dropParticipant(id, userId)
  }

  /**
   * Conversations I am leaving: their `conversation-updated` (which usually overtakes
   * the DELETE's answer) then says "you left", not "you were removed".
   */
  const leaving = new Set<string>()

  async function leaveConversation(id: string): Promise<void> {
    const me = store.me?.userId
    if (!me) return
    stopTyping(id)
    leaving.add(id)
    try {
      await api.removeParticipant(id, me)
      store.removeConversation(id, 'left')
    } finally {
      leaving.delete(id)
    }
  }

  async function setPreferences(id: string, change: PreferencesRequest): Promise<void> {
    applyPreferences(await api.setPreferences(id, change))
  }

  /**
   * My settings for a conversation, from my own PATCH's answer or from
   * `preferences-updated` (set on another device): muted at once; hidden leaves the list
   * (the store's list leaves hidden ones out); shown again comes back to it, fetched first
   * when this page never held it (it was hidden when the list was loaded).
   */
  function applyPreferences(view: PreferencesState): void {
    const id = view.conversationId
    if (!store.conversations[id]) {
      if (!view.hidden) void discoverConversation(id)
      return
    }
    store.applyPreferences(view)
    if (!view.hidden) showInList(id)
  }

  async function renameMe(name: string): Promise<void> {
    store.applyPerson(await api.renameMe({ name }))
  }

  // --- threads --------------------------------------------------------------------------

  /**
   * Merges messages into a thread (`live`: an event or my POST's answer) and fetches again
   * the roots whose reply count the page may have left behind.
   */
  function merge(id: string, items: MessageView[], live = false) {
    const result = store.mergeMessages(id, items, { live })
    for (const seq of result.staleRoots) void refreshRoot(id, seq)
    return result
  }

  const rootRequests = new Map<string, Promise<void>>()

  /** A root's reply count as the server has it now (`GET .../thread?limit=1`). */
  function refreshRoot(id: string, seq: number): Promise<void> {
    const key = `${id} ${seq}`
    const running = rootRequests.get(key)
    if (running) return running
    const panel = store.replyThread?.conversationId === id ? store.replyThread : null
    const root = store.threads[id]?.messages.find((m) => m.seq === seq) ?? (panel?.root?.seq === seq ? panel.root : undefined)
    if (!root) return Promise.resolve()
    const promise = api
      .getThread(id, root.id, { limit: 1 })
      .then((page) => store.applyRoot(id, page.root))
      .catch(() => undefined)
      .finally(() => rootRequests.delete(key))
    rootRequests.set(key, promise)
    return promise
  }

  async function openConversation(id: string): Promise<void> {
    store.activeConversationId = id
    const thread = store.ensureThread(id)
    const tasks: Promise<unknown>[] = [loadDetail(id).catch(() => undefined), loadPins(id)]
    if (!thread.loaded && !thread.loading) tasks.push(loadLatest(id))
    else if (thread.loaded && store.connection !== 'online') tasks.push(catchUp(id).catch(() => undefined))
    await Promise.all(tasks)
  }

  function closeConversation(id: string): void {
    stopTyping(id)
    if (store.activeConversationId === id) store.activeConversationId = null
    if (store.replyThread?.conversationId === id) closeReplyThread()
  }

  async function loadLatest(id: string): Promise<void> {
    store.setThreadFlags(id, { loading: true, error: null })
    try {
      const page = await api.listMessages(id, { limit: PAGE_SIZE })
      merge(id, page.items)
      store.setThreadFlags(id, { loaded: true, hasMoreBefore: page.hasMore })
      // Events that arrived while this page was on its way may sit past a hole.
      await fillGaps(id)
    } catch (e) {
      store.setThreadFlags(id, { error: errorMessage(e) })
    } finally {
      store.setThreadFlags(id, { loading: false })
    }
  }

  /** One page of older messages (`before=<first seq held>`). */
  async function loadOlder(id: string): Promise<void> {
    const thread = store.threads[id]
    if (!thread || !thread.loaded || !thread.hasMoreBefore || thread.loadingOlder) return
    const first = store.firstSeqOf(id)
    if (first === null || first <= 1) {
      store.setThreadFlags(id, { hasMoreBefore: false })
      return
    }
    store.setThreadFlags(id, { loadingOlder: true, error: null })
    try {
      const page = await api.listMessages(id, { before: first, limit: PAGE_SIZE })
      merge(id, page.items)
      store.setThreadFlags(id, { hasMoreBefore: page.hasMore })
    } catch (e) {
      store.setThreadFlags(id, { error: errorMessage(e) })
    } finally {
      store.setThreadFlags(id, { loadingOlder: false })
    }
  }

  /**
   * Pages back (`before=<first seq held>`, 100 at a time) until the thread holds `seq`:
   * a search result far back in the history. The thread stays one unbroken run of
   * messages down to the newest, as paging up by hand leaves it. Resolves whether the
   * message is held (false: not in this conversation any more, or the thread not loaded).
   */
  async function loadBackTo(id: string, seq: number): Promise<boolean> {
    const holds = () => store.threads[id]?.messages.some((m) => m.seq === seq) ?? false
    const thread = store.threads[id]
    if (!thread?.loaded) return false
    if (holds()) return true
    store.setThreadFlags(id, { loadingOlder: true, error: null })
    try {
      for (let pages = 0; pages < MAX_CATCH_UP_PAGES; pages++) {
        const first = store.firstSeqOf(id)
        if (first === null || first <= seq || !store.threads[id]?.hasMoreBefore) break
        const page = await api.listMessages(id, { before: first, limit: CATCH_UP_PAGE })
        merge(id, page.items)
        store.setThreadFlags(id, { hasMoreBefore: page.hasMore && page.items.length > 0 })
      }
    } catch (e) {
      store.setThreadFlags(id, { error: errorMessage(e) })
    } finally {
      store.setThreadFlags(id, { loadingOlder: false })
    }
    return holds()
  }

  type Running = { promise: Promise<void>; again: boolean }
  const catchingUp = new Map<string, Running>()
  const filling = new Map<string, Running>()

  /**
   * Runs `work` for one thread at a time: a call while it runs is folded into one more
   * run after it (so that two events past the same hole cost one fetch, not two).
   */
  function coalesce(running: Map<string, Running>, id: string, work: () => Promise<void>): Promise<void> {
    const current = running.get(id)
    if (current) {
      current.again = true
      return current.promise
    }
    const entry: Running = { promise: Promise.resolve(), again: false }
    entry.promise = (async () => {
      try {
        do {
          entry.again = false
          await work()
        } while (entry.again)
      } finally {
        running.delete(id)
      }
    })()
    running.set(id, entry)
    return entry.promise
  }

  /**
   * Fetches everything after the newest message held (`after=<last seq>`, looping while
   * `hasMore`), then fills any hole. Concurrent calls for one thread coalesce.
   */
  function catchUp(id: string): Promise<void> {
    return coalesce(catchingUp, id, () => catchUpOnce(id))
  }

  async function catchUpOnce(id: string): Promise<void> {
    for (let pages = 0; pages < MAX_CATCH_UP_PAGES; pages++) {
      const after = store.lastSeqOf(id)
      const page = await api.listMessages(id, { after, limit: CATCH_UP_PAGE })
      merge(id, page.items)
      if (!page.hasMore || page.items.length === 0) break
    }
    await fillGaps(id)
  }

  /** Fetches the messages missing between held ones (`after=<seq before the hole>`). */
  function fillGaps(id: string): Promise<void> {
    return coalesce(filling, id, async () => {
      for (let pages = 0; pages < MAX_CATCH_UP_PAGES; pages++) {
        const gap = store.gapOf(id)
        if (gap === null) return
        const page = await api.listMessages(id, { after: gap, limit: CATCH_UP_PAGE })
        merge(id, page.items)
        if (page.items.length === 0) return
      }
    })
  }

  /**
   * A `new-message` or `message-updated` too large for a frame: the page after `afterSeq`
   * starts with the affected message (an edit may be far below the newest one held).
   */
  async function resync(id: string, afterSeq: number): Promise<void> {
    const page = await api.listMessages(id, { after: afterSeq, limit: CATCH_UP_PAGE })
    merge(id, page.items)
    if (page.hasMore) await catchUp(id)
    else await fillGaps(id)
  }

  // --- sending --------------------------------------------------------------------------

  const random = deps.socketOptions?.random ?? Math.random
  /**
   * Set by stop(): paused sends give up instead of going again, and new ones wait, pending
   * (a session that expired stops the service but keeps the page).
   */
  let stopped = false
  const pauses = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>()

  /** Waits `ms` (a rate-limited send); stop() ends every wait at once. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          pauses.delete(entry)
          resolve()
        }, ms),
      }
      pauses.add(entry)
    })
  }

  /** Shows the message at once and sends it (a reply to `replyTo`); returns its client message id. */
  function sendMessage(id: string, body: string, files: FileMeta[] = [], replyTo: ReplyTarget | null = null): string {
    const clientMessageId = newClientMessageId()
    store.addPending(id, { clientMessageId, body, files, fileIds: files.map((f) => f.id), replyTo })
    stopTyping(id)
    void deliver(id, clientMessageId)
    return clientMessageId
  }

  /**
   * Per conversation, the end of the chain of sends. Sends leave one at a time in the
   * order they were written: the server numbers messages in the order their POSTs land,
   * and three quick Enters must not come out as 1, 3, 2. A failed send does not hold up
   * the ones after it (it waits for Retry); a rate-limited one does, while it waits to go
   * again by itself (the ones after it would be refused too, or overtake it).
   */
  const sendChains = new Map<string, Promise<void>>()

  /** Sends (or resends) a pending message, always with its original client message id. */
  function deliver(id: string, clientMessageId: string): Promise<void> {
    const pending = store.findPending(id, clientMessageId)
    if (!pending) return Promise.resolve()
    // Paused by the rate limit: it goes again by itself, when the server said.
    if (pending.retryAt !== null) return sendChains.get(id) ?? Promise.resolve()
    store.markPendingSending(id, clientMessageId)
    const next = (sendChains.get(id) ?? Promise.resolve()).then(() => post(id, clientMessageId))
    sendChains.set(id, next)
    void next.then(() => {
      if (sendChains.get(id) === next) sendChains.delete(id)
    })
    return next
  }

  /**
   * POSTs a pending message; never rejects (a failure marks the message failed). A 429
   * pauses it — still pending, with the time it goes again — and resends it, same
   * clientMessageId, after the wait; after RATE_LIMIT_MAX_RETRIES refusals it fails.
   */
  async function post(id: string, clientMessageId: string): Promise<void> {
    for (let refusals = 0; ; refusals++) {
      const pending = store.findPending(id, clientMessageId)
      if (!pending || stopped) return
      try {
        const { message } = await api.sendMessage(id, {
          body: pending.body,
          clientMessageId: pending.clientMessageId,
          ...(pending.fileIds.length ? { fileIds: [...pending.fileIds] } : {}),
          ...(pending.replyTo ? { replyToId: pending.replyTo.messageId } : {}),
        })
        if (merge(id, [message], true).gapAfter !== null) void fillGaps(id).catch(() => undefined)
        return
      } catch (e) {
        // The session ended, not the message: it stays pending (not failed), and goes again
        // with the same clientMessageId once the user signed in again (composables/outbox.ts).
        if (e instanceof ApiError && e.status === 401) return
        if (!(e instanceof ApiError && e.rateLimited) || refusals >= RATE_LIMIT_MAX_RETRIES) {
          store.markPendingFailed(id, clientMessageId, errorMessage(e))
          return
        }
        const wait = rateLimitWait(e, refusals, random)
        store.markPendingPaused(id, clientMessageId, Date.now() + wait)
        if (refusals === 0) store.announce(`Sending paused — retrying in ${Math.max(1, Math.ceil(wait / 1000))} seconds`)
        await pause(wait)
        if (stopped || !store.findPending(id, clientMessageId)) return
        store.markPendingSending(id, clientMessageId)
      }
    }
  }

  function retrySend(id: string, clientMessageId: string): Promise<void> {
    return deliver(id, clientMessageId)
  }

  function discardPending(id: string, clientMessageId: string): void {
    store.removePending(id, clientMessageId)
  }

  async function editMessage(id: string, messageId: string, body: string): Promise<void> {
    const updated = await api.editMessage(id, messageId, body)
    store.applyMessageUpdated(id, updated)
  }

  async function deleteMessage(id: string, messageId: string): Promise<void> {
    const tombstone = await api.deleteMessage(id, messageId)
    store.applyMessageUpdated(id, tombstone)
  }

  async function reportMessage(id: string, messageId: string, reason: string): Promise<void> {
    await api.reportMessage(id, messageId, reason)
  }

  // --- reactions ------------------------------------------------------------------------

  /** Per message and emoji (`messageId emoji`): the requests bringing the server to my last click. */
  const reactionRuns = new Map<string, Promise<void>>()
  /**
   * Per message with requests on their way: how many `message-reactions` events came
   * for it. An answer that none overtook is the newest word on the whole set.
   */
  const reactionEvents = new Map<string, number>()

  /**
   * Adds my `emoji` to a message, or takes it away when I have it (as shown). Rejects with
   * the server's refusal, once the message shows again what the server holds; a click
   * made while an earlier one is on its way resolves (the first one's caller is told).
   */
  function toggleReaction(id: string, messageId: string, emoji: string): Promise<void> {
    const message = store.heldMessage(id, messageId)
    if (!message || message.deleted || !store.me) return Promise.resolve()
    store.setReacting(messageId, emoji, !store.hasMyReaction(message, emoji))
    const key = `${messageId} ${emoji}`
    const running = reactionRuns.get(key)
    if (running) return running.catch(() => undefined)
    if (!reactionEvents.has(messageId)) reactionEvents.set(messageId, 0)
    const run = react(id, messageId, emoji).finally(() => {
      reactionRuns.delete(key)
      if (![...reactionRuns.keys()].some((k) => k.startsWith(`${messageId} `))) reactionEvents.delete(messageId)
    })
    reactionRuns.set(key, run)
    return run
  }

  async function react(id: string, messageId: string, emoji: string): Promise<void> {
    for (;;) {
      const add = store.reacting[messageId]?.[emoji]
      if (add === undefined) return
      const seen = reactionEvents.get(messageId)
      let view: MessageView
      try {
        view = add ? await api.addReaction(id, messageId, emoji) : await api.removeReaction(id, messageId, emoji)
      } catch (e) {
        store.clearReacting(messageId, emoji)
        throw e
      }
      const held = store.heldMessage(id, messageId)
      if (reactionEvents.get(messageId) === seen) store.applyReactions(id, messageId, view.seq, view.reactions ?? [])
      else if (held) store.applyReactions(id, messageId, held.seq, withReaction(held.reactions ?? [], emoji, store.me?.userId ?? '', add))
      // Clicked again meanwhile: the server now has to go the other way.
      if (store.reacting[messageId]?.[emoji] === add) {
        store.clearReacting(messageId, emoji)
        return
      }
    }
  }

  // --- the thread panel -----------------------------------------------------------------

  /** Bumped on every open and close: an answer for a panel closed since is dropped. */
  let replyThreadRequest = 0

  /** Opens the thread of `message` (its root, or a reply) in the panel and loads its first page. */
  async function openReplyThread(id: string, message: MessageView): Promise<void> {
    replyThreadRequest++
    store.openReplyThread(id, message)
    await loadReplies(id)
  }

  function closeReplyThread(): void {
    replyThreadRequest++
    store.closeReplyThread()
  }

  /** The panel's next page (`after` = its cursor); the first one when nothing was fetched yet. */
  async function loadReplies(id: string): Promise<void> {
    const panel = store.replyThread
    if (!panel || panel.conversationId !== id || panel.loading) return
    if (panel.loaded && !panel.hasMore) return
    const request = replyThreadRequest
    store.setReplyThreadFlags({ loading: true, error: null })
    try {
      const page = await api.getThread(id, panel.root?.id ?? panel.openedFrom, {
        ...(panel.cursor > 0 ? { after: panel.cursor } : {}),
        limit: PAGE_SIZE,
      })
      if (request !== replyThreadRequest) return
      store.applyThreadPage(id, page)
    } catch (e) {
      if (request === replyThreadRequest) store.setReplyThreadFlags({ error: errorMessage(e) })
    } finally {
      if (request === replyThreadRequest) store.setReplyThreadFlags({ loading: false })
    }
  }

  // --- pins -----------------------------------------------------------------------------

  /** Per conversation, the last pins request made: only its answer is shown (a later one knows more). */
  const pinsRequests = new Map<string, number>()
  let pinsRequest = 0

  /** Applies a pins answer unless a newer request was made meanwhile. */
  async function pinsCall(id: string, call: () => Promise<PinnedMessages>): Promise<void> {
    const request = ++pinsRequest
    pinsRequests.set(id, request)
    const answer = await call()
    if (pinsRequests.get(id) === request) store.setPins(id, answer.items)
  }

  /** The pinned messages of a conversation (on opening it, and after every `pins-updated`). */
  async function loadPins(id: string): Promise<void> {
    store.setPinsFlags(id, { loading: true })
    try {
      await pinsCall(id, () => api.listPins(id))
    } catch (e) {
      store.setPinsFlags(id, { error: errorMessage(e) })
    } finally {
      store.setPinsFlags(id, { loading: false })
    }
  }

  /** Pins a message (team and admins); rejects with the server's refusal. */
  function pinMessage(id: string, messageId: string): Promise<void> {
    return pinsCall(id, () => api.pinMessage(id, messageId))
  }

  function unpinMessage(id: string, messageId: string): Promise<void> {
    return pinsCall(id, () => api.unpinMessage(id, messageId))
  }

  // --- read receipts --------------------------------------------------------------------

  const readInFlight = new Map<string, number>()

  /** Moves my watermark to the newest message held, if it is not there yet. */
  async function markRead(id: string): Promise<void> {
    const me = store.me?.userId
    const target = store.lastSeqOf(id)
    if (!me || target <= 0 || target <= store.myReadSeq(id)) return
    if ((readInFlight.get(id) ?? 0) >= target) return
    const detail = store.details[id]
    if (detail && !detail.participants.some((p) => p.userId === me)) return // admins reading
    readInFlight.set(id, target)
    try {
      const receipt = await api.markRead(id, target)
      store.applyRead(id, me, receipt.lastReadSeq)
    } catch {
      // The next scroll or message tries again.
    } finally {
      if (readInFlight.get(id) === target) readInFlight.delete(id)
    }
  }

  // --- typing ---------------------------------------------------------------------------

  const typingSentAt = new Map<string, number>()
  const typingIdle = new Map<string, ReturnType<typeof setTimeout>>()

  /** Call on every keystroke; sends at most one `typing` per 2 s. */
  function notifyTyping(id: string, now: number = Date.now()): void {
    const last = typingSentAt.get(id)
    if (last === undefined || now - last >= TYPING_THROTTLE_MS) {
      if (socket.send({ action: 'typing', conversationId: id })) typingSentAt.set(id, now)
    }
    const idle = typingIdle.get(id)
    if (idle) clearTimeout(idle)
    typingIdle.set(
      id,
      setTimeout(() => stopTyping(id), TYPING_IDLE_MS),
    )
  }

  function stopTyping(id: string): void {
    const idle = typingIdle.get(id)
    if (idle) clearTimeout(idle)
    typingIdle.delete(id)
    if (typingSentAt.has(id)) {
      typingSentAt.delete(id)
      socket.send({ action: 'stop-typing', conversationId: id })
    }
  }

  // --- events ---------------------------------------------------------------------------

  function announceIncoming(id: string, message: MessageView): void {
    const title = store.conversations[id]?.title
    const sender = isolate(message.senderName)
    const text = message.body ?? ''
    const preview = [...text].length > 120 ? [...text].slice(0, 120).join('') + '…' : text
    const files = message.files.length ? ` (${message.files.length} attachment${message.files.length > 1 ? 's' : ''})` : ''
    store.announce(
      store.activeConversationId === id
        ? `${sender}: ${isolate(preview)}${files}`
        : `New message from ${sender}${title ? ` in ${isolate(title)}` : ''}`,
    )
  }

  function handleEvent(event: ServerEvent): void {
    switch (event.type) {
      case 'new-message': {
        const { conversationId: id, message } = event.data
        store.clearTyping(id, message.senderId)
        if (!store.conversations[id]) void discoverConversation(id)
        if (store.threads[id]) {
          const { gapAfter } = merge(id, [message], true)
          // An event past a hole (seq > last + 1): fetch what is missing.
          if (store.threads[id]?.loaded && gapAfter !== null) void fillGaps(id).catch(() => undefined)
        } else {
          store.noteMessage(id, message)
        }
        // Known but not listed: hidden until this message, or beyond the pages fetched.
        showInList(id)
        const quiet = store.conversations[id]?.muted && store.activeConversationId !== id
        if (message.senderId !== store.me?.userId && !quiet) announceIncoming(id, message)
        break
      }
      case 'message-updated':
        store.applyMessageUpdated(event.data.conversationId, event.data.message)
        break
      case 'message-reactions': {
        const { conversationId, messageId, seq, reactions } = event.data
        const seen = reactionEvents.get(messageId)
        if (seen !== undefined) reactionEvents.set(messageId, seen + 1)
        store.applyReactions(conversationId, messageId, seq, reactions)
        break
      }
      case 'pins-updated': {
        const { conversationId: id, pinnedSeqs } = event.data
        store.applyPinsUpdated(id, pinnedSeqs)
        // The messages newly pinned: fetched for a conversation whose pins are shown.
        if (store.pins[id]?.loaded || store.activeConversationId === id) void loadPins(id)
        break
      }
      case 'message-read':
        store.applyRead(event.data.conversationId, event.data.userId, event.data.lastReadSeq)
        break
      case 'user-typing': {
        const { conversationId, userId, name, expiresInMs } = event.data
        store.setTyping(conversationId, userId, name, expiresInMs)
        // Hide it after its time even if no "stopped" ever arrives.
        setTimeout(() => store.expireTyping(Date.now()), expiresInMs + TYPING_MARGIN_MS + TYPING_SWEEP_SLACK_MS)
        break
      }
      case 'user-stopped-typing':
        store.clearTyping(event.data.conversationId, event.data.userId)
        break
      case 'user-joined':
        store.setPresence(event.data.userId, true)
        break
      case 'user-left':
        store.setPresence(event.data.userId, false)
        break
      case 'conversation-updated': {
        const { conversation, participants } = event.data
        const id = conversation.id
        const known = !!store.conversations[id]
        const wasDeparted = !!store.departed[id]
        store.applyConversationUpdated(conversation, participants, leaving.has(id) ? 'left' : 'removed')
        if (store.departed[id]) stopTyping(id)
        if (!known) showInList(id)
        // Added back while its "removed" state is on screen: load it again.
        if (wasDeparted && store.conversations[id] && store.activeConversationId === id) void openConversation(id)
        break
      }
      case 'user-updated':
        store.applyPerson(event.data)
        break
      case 'preferences-updated':
        applyPreferences(event.data)
        break
      case 'resync': {
        const { conversationId: id, afterSeq } = event.data
        if (store.threads[id]?.loaded) void resync(id, afterSeq).catch(() => undefined)
        else void loadDetail(id).catch(() => undefined)
        break
      }
      case 'error':
        // Over the typing allowance (many tabs, say): typing is best-effort, nothing to tell.
        if (event.data.code === 'rate_limited') console.debug('messaging socket: rate limited', event.data)
        else console.warn('messaging socket error', event.data)
        break
      case 'pong':
        break
    }
  }

  /** After every (re)connect: catch up on every loaded thread; refresh the rest. */
  async function handleOpen(reconnect: boolean): Promise<void> {
    const loaded = Object.values(store.threads)
      .filter((t) => t.loaded)
      .map((t) => t.conversationId)
    await Promise.all(loaded.map((id) => catchUp(id).catch(() => undefined)))
    if (reconnect) {
      // Pinned or unpinned while we were away.
      void inBatches(Object.keys(store.pins).filter((id) => store.pins[id]?.loaded), 4, (id) => loadPins(id))
      // Presence and watermarks may have moved while we were away.
      void loadConversations().catch(() => undefined)
      await inBatches(loaded, 4, (id) => loadDetail(id))
    }
  }

  // --- lifecycle ------------------------------------------------------------------------

  function start(): void {
    stopped = false
    void loadProfile()
    socket.start()
  }

  function stop(): void {
    for (const t of typingIdle.values()) clearTimeout(t)
    typingIdle.clear()
    stopped = true
    for (const p of pauses) {
      clearTimeout(p.timer)
      p.resolve()
    }
    pauses.clear()
    socket.dispose()
  }

  return {
    api,
    store,
    socket,
    start,
    stop,
    loadConversations,
    loadMoreConversations,
    loadDetail,
    loadProfile,
    createConversation,
    renameConversation,
    addParticipants,
    removeParticipant,
    leaveConversation,
    setPreferences,
    renameMe,
    openConversation,
    closeConversation,
    loadLatest,
    loadOlder,
    loadBackTo,
    catchUp,
    fillGaps,
    resync,
    sendMessage,
    retrySend,
    discardPending,
    editMessage,
    deleteMessage,
    reportMessage,
    toggleReaction,
    openReplyThread,
    closeReplyThread,
    loadReplies,
    refreshRoot,
    loadPins,
    pinMessage,
    unpinMessage,
    markRead,
    notifyTyping,
    stopTyping,
    handleEvent,
    handleOpen,
  }
}

// --- the app's instance -------------------------------------------------------------------

const current = shallowRef<Messaging | null>(null)

/** Starts the service for the signed-in user (replacing any previous one). */
export function startMessaging(deps: MessagingDeps): Messaging {
  current.value?.stop()
  const messaging = createMessaging(deps)
  current.value = messaging
  messaging.start()
  return messaging
}

export function stopMessaging(): void {
  current.value?.stop()
  current.value = null
}

/**
 * The session expired: no socket, no sends, but the service stays for the pages on screen,
 * with the store and what is pending, until the user signs in again.
 */
export function suspendMessaging(): void {
  current.value?.stop()
}

/** The running service. Pages that use it are only shown to a signed-in user. */
export function useMessaging(): Messaging {
  const messaging = current.value
  if (!messaging) throw new Error('messaging is not started (no session)')
  return messaging
}

/** For component tests: use this instance. */
export function setMessaging(messaging: Messaging | null): void {
  current.value = messaging
}
