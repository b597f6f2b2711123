// The messaging state: conversations, threads (stored + optimistic messages), read
// watermarks, typing, presence, my own settings per conversation (muted, hidden), the
// conversations I am no longer in, and the connection. Pure state transitions only —
// the network lives in useMessaging — so every rule here is unit-tested directly.
//
// Each fact is held once: my watermark, the conversation's last seq and my settings in
// `conversations` (unread counts and list membership are derived from them), who is
// online in `presence`, the other participants' watermarks in `details`, my live
// profile in `me`. A message's reactions are the server's last word, kept in the message;
// my own reactions on their way to the server are kept apart (`reacting`) and laid over
// them when shown, so that a failed request leaves nothing to undo.
//
// Invariants of a thread:
// - `messages` is strictly ascending by seq with no two entries for one id or one seq,
//   whatever order and however often pages and events arrive;
// - a pending (optimistic) message disappears the moment the stored message with its
//   clientMessageId arrives, from the POST answer or from the `new-message` event,
//   whichever comes first.
//
// Replies sit in the timeline like any message. A thread's root counts its replies
// (`replyCount`); no event says when it grows, so a reply that arrives live (its
// `new-message`, or my own POST's answer) adds one to the root held — once: only when
// its id was not held yet. A reply that comes in a page instead (catch-up) may or may not
// be in the held root's count already: the merge names such roots (`staleRoots`) for the
// service to fetch again. Two copies of a root keep the larger count (counts only grow).
// The open thread panel (`replyThread`) keeps its own copies of the root and its replies
// (they may be far back in the timeline); edits, deletions and reactions reach both.
//
// Pins: the seqs pinned per conversation (every `pins-updated` carries the whole set) and
// the pinned messages, fetched when the conversation opens and again after each change.

import { defineStore } from 'pinia'
import { TYPING_MARGIN_MS } from '../timing'
import { notifyLevelOf } from '../utils/notify'
import { hasReacted, withReaction } from '../utils/reactions'
import { excerptOf } from '../utils/replies'
import type {
  ConnectionState,
  ConversationDetail,
  ConversationState,
  ConversationSummary,
  ConversationView,
  DetailState,
  Departure,
  DepartureReason,
  FileMeta,
  MessagePreview,
  MessageView,
  ParticipantState,
  ParticipantView,
  PendingMessage,
  Person,
  PinsState,
  PreferencesState,
  Reaction,
  ReceiptState,
  ReplyTarget,
  ReplyThreadState,
  ThreadItem,
  ThreadPage,
  ThreadState,
  TypingEntry,
} from '../types'

export { TYPING_MARGIN_MS }

/** The kept part of a participant (presence goes to the presence map). */
function participantState({ online: _online, ...kept }: ParticipantView): ParticipantState {
  return kept
}

/** The kept part of a summary (the unread count is derived). */
function conversationState({ unreadCount: _unread, ...kept }: ConversationSummary): ConversationState {
  return kept
}

function emptyThread(conversationId: string): ThreadState {
  return {
    conversationId,
    messages: [],
    pending: [],
    hasMoreBefore: false,
    loaded: false,
    loading: false,
    loadingOlder: false,
    error: null,
  }
}

/** Index of the first message with seq >= `seq` (binary search). */
function lowerBound(messages: MessageView[], seq: number): number {
  let lo = 0
  let hi = messages.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (messages[mid]!.seq < seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Of two copies of one message, the one to keep: a tombstone beats a live copy, and a
 * later edit beats an earlier one (a page fetched before an edit may land after it).
 */
export function newerCopy(existing: MessageView, incoming: MessageView): MessageView {
  const kept = pickCopy(existing, incoming)
  // A thread only grows: the larger count is the later word (a page may be older than an event).
  const count = Math.max(existing.replyCount ?? 0, incoming.replyCount ?? 0)
  if (kept.replyCount !== count) kept.replyCount = count
  return kept
}

function pickCopy(existing: MessageView, incoming: MessageView): MessageView {
  if (existing.deleted && !incoming.deleted) return existing
  if (incoming.deleted && !existing.deleted) return incoming
  const e = existing.editedAt ? Date.parse(existing.editedAt) : 0
  const i = incoming.editedAt ? Date.parse(incoming.editedAt) : 0
  return i >= e ? incoming : existing
}

/** Puts `message` into an ascending list (by seq), or the newer of two copies in its place; whether it was new. */
function placeIn(list: MessageView[], message: MessageView): boolean {
  const byId = list.findIndex((m) => m.id === message.id)
  if (byId >= 0) {
    list[byId] = newerCopy(list[byId]!, message)
    return false
  }
  const at = lowerBound(list, message.seq)
  if (at < list.length && list[at]!.seq === message.seq) {
    list[at] = message
    return false
  }
  list.splice(at, 0, message)
  return true
}

/** The quotes of `message` in `held` follow it (an edit, a deletion). */
function requote(held: MessageView[], message: MessageView) {
  for (const m of held) {
    if (m.quote?.messageId !== message.id) continue
    m.quote = {
      ...m.quote,
      senderName: message.senderName,
      excerpt: message.deleted ? '' : excerptOf(message.body),
      deleted: message.deleted,
      fileCount: message.deleted ? 0 : message.files.length,
    }
  }
}

export function previewOf(m: MessageView): MessagePreview {
  const text = m.deleted || m.body === null ? '' : m.body
  return {
    messageId: m.id,
    seq: m.seq,
    senderId: m.senderId,
    senderName: m.senderName,
    text: [...text].length > 140 ? [...text].slice(0, 140).join('') + '…' : text,
    deleted: m.deleted,
    at: m.createdAt,
  }
}

/** The ticks of my message `seq` when the others have read up to `othersRead`. */
export function receiptFor(othersRead: number, seq: number): ReceiptState {
  return othersRead >= seq ? 'read' : 'sent'
}

/** The seq after which a thread misses messages (seqs are gapless from 1), or null. */
export function findGap(messages: MessageView[]): number | null {
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]!.seq > messages[i - 1]!.seq + 1) return messages[i - 1]!.seq
  }
  return null
}

/**
 * A composer's key, for its draft and the message it replies to: the conversation's own
 * (its id), or a thread panel's (`<id>#<root seq>`: each thread keeps its own draft).
 */
export function composerKey(conversationId: string, threadRoot: number | null = null): string {
  return threadRoot === null ? conversationId : `${conversationId}#${threadRoot}`
}

export interface MergeResult {
  added: number
  /** A hole in the seqs: fetch `after=gapAfter`. */
  gapAfter: number | null
  /**
   * Thread roots held whose count may miss replies that came in this page (not live):
   * fetch them again (their seqs).
   */
  staleRoots: number[]
}

function emptyPins(): PinsState {
  return { seqs: [], items: [], loaded: false, loading: false, error: null }
}

export const useMessagingStore = defineStore('messaging', {
  state: () => ({
    me: null as Person | null,
    connection: 'idle' as ConnectionState,
    /** Every conversation known, by id. */
    conversations: {} as Record<string, ConversationState>,
    /** Ids of the current list (search result), in server order. */
    listIds: [] as string[],
    listQuery: '',
    listCursor: null as string | null,
    listLoading: false,
    listLoaded: false,
    listError: null as string | null,
    /** Participants of the conversations opened, by conversation id. */
    details: {} as Record<string, DetailState>,
    threads: {} as Record<string, ThreadState>,
    /** My reactions on their way to the server, by message id then emoji: whether I add it. */
    reacting: {} as Record<string, Record<string, boolean>>,
    /** The thread panel open, if any. */
    replyThread: null as ReplyThreadState | null,
    /** What each composer replies to (by composer: see `composerKey`), when the user chose a message. */
    replyTargets: {} as Record<string, ReplyTarget>,
    /** Pins, by conversation id. */
    pins: {} as Record<string, PinsState>,
    /** Conversations I left or was removed from (the open one shows why), by id. */
    departed: {} as Record<string, Departure>,
    /** conversationId → userId → entry. */
    typing: {} as Record<string, Record<string, TypingEntry>>,
    /** userId → online. */
    presence: {} as Record<string, boolean>,
    activeConversationId: null as string | null,
    /** Latest text for the screen-reader live region. */
    announcement: '',
  }),

  getters: {
    /**
     * The current list, most recent activity first (live events reorder it). Hidden
     * conversations are left out until a newer message, except from a search (that is
     * how one finds them again, as the server does).
     */
    sortedConversations(state): ConversationState[] {
      const searching = state.listQuery.trim() !== ''
      return state.listIds
        .map((id) => state.conversations[id])
        .filter((c): c is ConversationState => !!c && (searching || !c.hidden))
        .sort((a, b) => {
          const d = Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt)
          return d !== 0 ? d : b.id < a.id ? -1 : b.id > a.id ? 1 : 0
        })
    },

    /** Unread messages of the conversations listed, muted ones left out. */
    totalUnread(): number {
      return this.sortedConversations.reduce((n, c) => n + (c.muted ? 0 : Math.max(0, c.lastSeq - c.lastReadSeq)), 0)
    },
  },

  actions: {
    setMe(me: Person | null) {
      this.me = me && { userId: me.userId, name: me.name, role: me.role, organisation: me.organisation }
    },

    /**
     * Someone's profile changed (`user-updated`, or my own rename): their new name
     * everywhere it shows — participants, message senders, previews, typing, and `me`.
     */
    applyPerson(person: Person) {
      const { userId, name } = person
      if (this.me?.userId === userId) this.setMe(person)
      for (const detail of Object.values(this.details)) {
        for (const p of detail.participants) {
          if (p.userId !== userId) continue
          p.name = name
          p.role = person.role
          p.organisation = person.organisation
        }
      }
      for (const thread of Object.values(this.threads)) {
        for (const m of thread.messages) if (m.senderId === userId) m.senderName = name
      }
      for (const m of this.replyThreadMessages()) if (m.senderId === userId) m.senderName = name
      for (const c of Object.values(this.conversations)) {
        if (c.lastMessage?.senderId === userId) c.lastMessage.senderName = name
      }
      for (const entries of Object.values(this.typing)) {
        const entry = entries[userId]
        if (entry) entry.name = name
      }
    },

    setConnection(state: ConnectionState) {
      this.connection = state
    },

    // --- conversations ------------------------------------------------------------------

    /** Unread messages: everything after my watermark (my own sends move it). */
    unreadOf(conversationId: string): number {
      const c = this.conversations[conversationId]
      if (!c) return 0
      return Math.max(0, c.lastSeq - c.lastReadSeq)
    },

    /** Replaces (or, with `append`, extends) the list with a page from the server. */
    setConversationPage(items: ConversationSummary[], nextCursor: string | null, options: { append?: boolean; query?: string } = {}) {
      for (const item of items) this.upsertSummary(item)
      const ids = items.map((c) => c.id)
      this.listIds = options.append ? [...this.listIds, ...ids.filter((id) => !this.listIds.includes(id))] : ids
      this.listCursor = nextCursor
      if (options.query !== undefined) this.listQuery = options.query
      this.listLoaded = true
    },

    /**
     * Adds or refreshes a summary, never moving a watermark or lastSeq backwards, nor
     * hiding again a conversation that a newer message brought back.
     */
    upsertSummary(summary: ConversationSummary | ConversationState) {
      const item = 'unreadCount' in summary ? conversationState(summary) : { ...summary }
      // One spelling of the level in the store (the server may say `nothing` for `none`).
      if (item.notify !== undefined) item.notify = notifyLevelOf(item.notify)
      const existing = this.conversations[item.id]
      delete this.departed[item.id]
      if (!existing) {
        this.conversations[item.id] = { ...item }
        return
      }
      const newer = item.lastSeq >= existing.lastSeq
      Object.assign(existing, {
        ...item,
        lastSeq: Math.max(existing.lastSeq, item.lastSeq),
        lastReadSeq: Math.max(existing.lastReadSeq, item.lastReadSeq),
        lastMessage: newer ? item.lastMessage : existing.lastMessage,
        lastActivityAt: newer ? item.lastActivityAt : existing.lastActivityAt,
        hidden: newer ? item.hidden : existing.hidden,
      })
    },

    /**
     * A conversation's shared fields changed (a rename, an event): my own watermark and
     * settings, which a `ConversationView` does not carry, stay as they are.
     */
    applyConversationView(conversation: ConversationView, myReadSeq = 0) {
      const existing = this.conversations[conversation.id]
      this.upsertSummary({
        ...conversation,
        lastReadSeq: Math.max(existing?.lastReadSeq ?? 0, myReadSeq),
        muted: existing?.muted ?? false,
        hidden: existing?.hidden ?? false,
        notify: existing?.notify ?? null,
        email: existing?.email ?? true,
      })
    },

    /**
     * My settings after `PATCH .../preferences` or `preferences-updated`. The notification
     * fields are taken only when present: an answer without them leaves them as they were.
     */
    applyPreferences(view: PreferencesState) {
      const c = this.conversations[view.conversationId]
      if (!c) return
      c.muted = view.muted
      c.hidden = view.hidden
      if (view.notify !== undefined) c.notify = notifyLevelOf(view.notify)
      if (view.email !== undefined) c.email = view.email
    },

    /** Adds a conversation to the visible list (it appeared through an event). */
    includeInList(id: string) {
      if (!this.listIds.includes(id)) this.listIds.push(id)
    },

    /**
     * Forgets a conversation that is no longer mine: the list drops it and its messages
     * go; `departed` keeps why (and its title), for the thread that may still be open.
     */
    removeConversation(id: string, reason: DepartureReason = 'removed') {
      this.departed[id] = { reason, title: this.conversations[id]?.title ?? this.departed[id]?.title ?? null }
      this.listIds = this.listIds.filter((x) => x !== id)
      delete this.conversations[id]
      delete this.details[id]
      delete this.threads[id]
      delete this.typing[id]
      delete this.pins[id]
      if (this.replyThread?.conversationId === id) this.replyThread = null
    },

    /** Someone else was removed (my own DELETE answered; the event follows). */
    dropParticipant(id: string, userId: string) {
      const detail = this.details[id]
      if (detail) detail.participants = detail.participants.filter((p) => p.userId !== userId)
    },

    setDetail(detail: ConversationDetail) {
      const { participants, ...summary } = detail
      this.details[detail.id] = { id: detail.id, participants: participants.map(participantState) }
      this.upsertSummary(summary)
      for (const p of participants) this.presence[p.userId] = p.online
    },

    /**
     * `conversation-updated`: status, title or participants changed. When I am not among
     * the participants any more, the conversation is forgotten, `gone` saying why.
     */
    applyConversationUpdated(conversation: ConversationView, participants: ParticipantView[], gone: DepartureReason = 'removed') {
      const me = this.me?.userId
      if (me && !participants.some((p) => p.userId === me)) {
        // Removed, or left (here or on another device): the conversation is no longer mine.
        // Already gone (my own leave was answered before its event came): that stands.
        if (!this.departed[conversation.id]) this.removeConversation(conversation.id, gone)
        return
      }
      const mine = participants.find((p) => p.userId === me)
      this.applyConversationView(conversation, mine?.lastReadSeq ?? 0)
      const known = this.details[conversation.id]?.participants ?? []
      this.details[conversation.id] = {
        id: conversation.id,
        // Keep the furthest known watermark of each participant.
        participants: participants.map((p) => {
          const before = known.find((x) => x.userId === p.userId)
          const kept = participantState(p)
          return before ? { ...kept, lastReadSeq: Math.max(kept.lastReadSeq, before.lastReadSeq) } : kept
        }),
      }
      for (const p of participants) this.presence[p.userId] = p.online
    },

    // --- threads -----------------------------------------------------------------------

    ensureThread(conversationId: string): ThreadState {
      let thread = this.threads[conversationId]
      if (!thread) {
        this.threads[conversationId] = emptyThread(conversationId)
        thread = this.threads[conversationId]!
      }
      return thread
    },

    /** The highest seq a thread holds (0 when empty). */
    lastSeqOf(conversationId: string): number {
      const messages = this.threads[conversationId]?.messages
      return messages && messages.length ? messages[messages.length - 1]!.seq : 0
    },

    firstSeqOf(conversationId: string): number | null {
      const messages = this.threads[conversationId]?.messages
      return messages && messages.length ? messages[0]!.seq : null
    },

    /**
     * Where a thread misses messages: between two held ones, or before the first held
     * one when the thread claims to hold the beginning (loaded, nothing older).
     */
    gapOf(conversationId: string): number | null {
      const thread = this.threads[conversationId]
      if (!thread) return null
      const first = thread.messages[0]
      if (thread.loaded && !thread.hasMoreBefore && first && first.seq > 1) return 0
      return findGap(thread.messages)
    },

    /**
     * Merges stored messages (a page, an event, a POST answer) into a thread: ordered by
     * seq, deduplicated by id and by seq, replacing any pending message with the same
     * clientMessageId, and moving the conversation's summary forward. `live`: they come
     * from an event or my own POST's answer, so a new reply is not in its root's count yet.
     */
    mergeMessages(conversationId: string, incoming: MessageView[], options: { live?: boolean } = {}): MergeResult {
      const result: MergeResult = { added: 0, gapAfter: null, staleRoots: [] }
      // A page that was on its way when I was removed: not mine to show any more.
      if (this.departed[conversationId]) return result
      const thread = this.ensureThread(conversationId)
      const me = this.me?.userId
      for (const message of incoming) {
        if (message.conversationId && message.conversationId !== conversationId) continue
        const added = placeIn(thread.messages, message)
        if (added) result.added++
        if (added && message.threadRoot != null) {
          const rootSeq = message.threadRoot
          const root = thread.messages[lowerBound(thread.messages, rootSeq)]
          // A root that came in the same page counts this reply already.
          if (root?.seq === rootSeq && !incoming.some((m) => m.seq === rootSeq)) {
            if (options.live) root.replyCount = (root.replyCount ?? 0) + 1
            else if (!result.staleRoots.includes(rootSeq)) result.staleRoots.push(rootSeq)
          }
        }
        if (message.threadRoot != null && this.noteReply(conversationId, message, !!options.live) === 'stale') {
          if (!result.staleRoots.includes(message.threadRoot)) result.staleRoots.push(message.threadRoot)
        }
        // The optimistic copy is now stored: replace it (matched by clientMessageId).
        if (message.senderId === me || me === undefined) {
          const p = thread.pending.findIndex((x) => x.clientMessageId === message.clientMessageId)
          if (p >= 0) thread.pending.splice(p, 1)
        }
        this.noteMessage(conversationId, message)
      }
      result.gapAfter = this.gapOf(conversationId)
      return result
    },

    /** Moves a conversation's summary forward for a message (held in a thread or not). */
    noteMessage(conversationId: string, message: MessageView) {
      const summary = this.conversations[conversationId]
      if (!summary) return
      if (message.seq > summary.lastSeq) {
        summary.lastSeq = message.seq
        summary.lastMessage = previewOf(message)
        summary.lastActivityAt = message.createdAt
        // Hidden until a newer message: this is one (the server lists it again too).
        summary.hidden = false
      } else if (summary.lastMessage && summary.lastMessage.messageId === message.id) {
        summary.lastMessage = previewOf(message)
      }
      // Sending moves the sender's own watermark: my messages are never unread.
      if (message.senderId === this.me?.userId && message.seq > summary.lastReadSeq) {
        summary.lastReadSeq = message.seq
      }
      const detail = this.details[conversationId]
      // The server moves any sender's watermark to their message without a
      // `message-read` event: whoever writes has read what came before.
      const sender = detail?.participants.find((p) => p.userId === message.senderId)
      if (sender && sender.lastReadSeq < message.seq && !message.deleted) sender.lastReadSeq = message.seq
    },

    /**
     * `message-updated`: an edit or a tombstone, for every copy held (the timeline, the
     * thread panel, the pins), and for the quotes of it that replies hold. Ignored for
     * messages not held.
     */
    applyMessageUpdated(conversationId: string, message: MessageView) {
      const thread = this.threads[conversationId]
      if (thread) {
        const i = thread.messages.findIndex((m) => m.id === message.id)
        if (i >= 0) thread.messages[i] = newerCopy(thread.messages[i]!, message)
        requote(thread.messages, message)
      }
      const panel = this.replyThread?.conversationId === conversationId ? this.replyThread : null
      if (panel) {
        if (panel.root?.id === message.id) panel.root = newerCopy(panel.root, message)
        const i = panel.items.findIndex((m) => m.id === message.id)
        if (i >= 0) panel.items[i] = newerCopy(panel.items[i]!, message)
        requote(panel.items, message)
      }
      const pins = this.pins[conversationId]
      if (pins) {
        const i = pins.items.findIndex((m) => m.id === message.id)
        // A deleted message leaves the pins (its `pins-updated` follows).
        if (i >= 0 && message.deleted) pins.items.splice(i, 1)
        else if (i >= 0) pins.items[i] = newerCopy(pins.items[i]!, message)
      }
      const summary = this.conversations[conversationId]
      if (summary?.lastMessage?.messageId === message.id) summary.lastMessage = previewOf(message)
    },

    /**
     * A message's reactions as the server has them now (`message-reactions`, or the answer
     * to my own PUT or DELETE): the whole set replaces the held one, in every copy. Ignored
     * for a message not held, and for a tombstone (a reaction's event may arrive after the
     * deletion's).
     */
    applyReactions(conversationId: string, messageId: string, seq: number, reactions: Reaction[]) {
      const messages = this.threads[conversationId]?.messages
      const copies: (MessageView | undefined | null)[] = []
      if (messages) {
        const at = lowerBound(messages, seq)
        copies.push(messages[at]?.id === messageId ? messages[at] : messages.find((m) => m.id === messageId))
      }
      const panel = this.replyThread?.conversationId === conversationId ? this.replyThread : null
      if (panel) copies.push(panel.root?.id === messageId ? panel.root : panel.items.find((m) => m.id === messageId))
      for (const held of copies) if (held && !held.deleted) held.reactions = reactions
    },

    /** A message of a conversation as held: in its timeline, else in the thread panel. */
    heldMessage(conversationId: string, messageId: string): MessageView | undefined {
      const held = this.threads[conversationId]?.messages.find((m) => m.id === messageId)
      if (held) return held
      const panel = this.replyThread?.conversationId === conversationId ? this.replyThread : null
      return panel?.root?.id === messageId ? panel.root : panel?.items.find((m) => m.id === messageId)
    },

    /** My reaction to `emoji` is on its way: shown as `add` says until the server answers. */
    setReacting(messageId: string, emoji: string, add: boolean) {
      ;(this.reacting[messageId] ??= {})[emoji] = add
    },

    clearReacting(messageId: string, emoji: string) {
      const entry = this.reacting[messageId]
      if (!entry) return
      delete entry[emoji]
      if (Object.keys(entry).length === 0) delete this.reacting[messageId]
    },

    /** A message's reactions as shown: the server's, with mine on their way laid over them. */
    reactionsOf(message: MessageView): Reaction[] {
      if (message.deleted) return []
      // Older servers (and history written before reactions) may send no `reactions`.
      let reactions = message.reactions ?? []
      const me = this.me?.userId
      const mine = this.reacting[message.id]
      if (!me || !mine) return reactions
      for (const [emoji, add] of Object.entries(mine)) reactions = withReaction(reactions, emoji, me, add)
      return reactions
    },

    /** Whether I reacted to `message` with `emoji`, as shown (my requests on their way counted). */
    hasMyReaction(message: MessageView, emoji: string): boolean {
      return hasReacted(this.reactionsOf(message), emoji, this.me?.userId)
    },

    /**
     * How a conversation names someone: "You", their name as a participant, else the name
     * they sent a held message under (they left since), else "A former participant".
     */
    nameIn(conversationId: string, userId: string): string {
      if (userId === this.me?.userId) return 'You'
      const participant = this.details[conversationId]?.participants.find((p) => p.userId === userId)
      if (participant) return participant.name
      const sent = this.threads[conversationId]?.messages.find((m) => m.senderId === userId)
      return sent?.senderName ?? 'A former participant'
    },

    setThreadFlags(conversationId: string, flags: Partial<Omit<ThreadState, 'messages' | 'pending' | 'conversationId'>>) {
      if (this.departed[conversationId]) return
      Object.assign(this.ensureThread(conversationId), flags)
    },

    threadItems(conversationId: string): ThreadItem[] {
      const thread = this.threads[conversationId]
      if (!thread) return []
      const items: ThreadItem[] = thread.messages.map((m) => ({ kind: 'message', key: m.id, message: m }))
      for (const p of thread.pending) items.push({ kind: 'pending', key: `pending:${p.clientMessageId}`, pending: p })
      return items
    },

    // --- optimistic sends ----------------------------------------------------------------

    addPending(
      conversationId: string,
      input: { clientMessageId: string; body: string; files?: FileMeta[]; fileIds?: string[]; replyTo?: ReplyTarget | null; now?: Date },
    ): PendingMessage {
      const thread = this.ensureThread(conversationId)
      const existing = thread.pending.find((p) => p.clientMessageId === input.clientMessageId)
      if (existing) return existing
      const pending: PendingMessage = {
        clientMessageId: input.clientMessageId,
        conversationId,
        body: input.body,
        files: input.files ?? [],
        fileIds: input.fileIds ?? (input.files ?? []).map((f) => f.id),
        createdAt: (input.now ?? new Date()).toISOString(),
        status: 'sending',
        error: null,
        attempts: 0,
        retryAt: null,
        replyTo: input.replyTo ?? null,
      }
      thread.pending.push(pending)
      return thread.pending[thread.pending.length - 1]!
    },

    findPending(conversationId: string, clientMessageId: string): PendingMessage | undefined {
      return this.threads[conversationId]?.pending.find((p) => p.clientMessageId === clientMessageId)
    },

    markPendingSending(conversationId: string, clientMessageId: string) {
      const p = this.findPending(conversationId, clientMessageId)
      if (!p) return
      p.status = 'sending'
      p.error = null
      p.retryAt = null
      p.attempts++
    },

    /**
     * The server refused the send for now (429): it stays pending — not failed — and is
     * sent again, with the same clientMessageId, at `retryAt` (epoch ms).
     */
    markPendingPaused(conversationId: string, clientMessageId: string, retryAt: number) {
      const p = this.findPending(conversationId, clientMessageId)
      if (!p) return
      p.status = 'sending'
      p.error = null
      p.retryAt = retryAt
    },

    markPendingFailed(conversationId: string, clientMessageId: string, error: string) {
      const p = this.findPending(conversationId, clientMessageId)
      if (!p) return
      p.status = 'failed'
      p.error = error
      p.retryAt = null
    },

    removePending(conversationId: string, clientMessageId: string) {
      const thread = this.threads[conversationId]
      if (!thread) return
      thread.pending = thread.pending.filter((p) => p.clientMessageId !== clientMessageId)
    },

    // --- replies and the thread panel ---------------------------------------------------

    /** Chooses (or, with null, forgets) the message a composer replies to. */
    setReplyTarget(key: string, target: ReplyTarget | null) {
      if (target) this.replyTargets[key] = target
      else delete this.replyTargets[key]
    },

    /** Opens the thread of `message` (a root, or a reply: its root's thread) in the panel. */
    openReplyThread(conversationId: string, message: MessageView) {
      const isRoot = message.threadRoot == null
      this.replyThread = {
        conversationId,
        openedFrom: message.id,
        rootSeq: message.threadRoot ?? message.seq,
        root: isRoot ? { ...message } : null,
        items: [],
        cursor: 0,
        hasMore: false,
        loaded: false,
        loading: false,
        error: null,
      }
    },

    closeReplyThread() {
      this.replyThread = null
    },

    setReplyThreadFlags(flags: Partial<Pick<ReplyThreadState, 'loading' | 'error'>>) {
      if (this.replyThread) Object.assign(this.replyThread, flags)
    },

    /** A page of the open thread (`GET .../thread`): its root as it is now, and replies after the cursor. */
    applyThreadPage(conversationId: string, page: ThreadPage) {
      const panel = this.replyThread
      if (!panel || panel.conversationId !== conversationId) return
      panel.root = panel.root && panel.root.id === page.root.id ? newerCopy(panel.root, page.root) : page.root
      panel.rootSeq = page.root.seq
      for (const m of page.items) placeIn(panel.items, m)
      const last = page.items[page.items.length - 1]
      if (last && last.seq > panel.cursor) panel.cursor = last.seq
      panel.hasMore = page.hasMore
      panel.loaded = true
      this.applyRoot(conversationId, page.root)
    },

    /** A root as the server has it now (its reply count), for the copies held. */
    applyRoot(conversationId: string, root: MessageView) {
      const held = this.threads[conversationId]?.messages.find((m) => m.id === root.id)
      if (held) held.replyCount = Math.max(held.replyCount ?? 0, root.replyCount ?? 0)
      const panel = this.replyThread?.conversationId === conversationId ? this.replyThread : null
      if (panel?.root?.id === root.id) panel.root.replyCount = Math.max(panel.root.replyCount ?? 0, root.replyCount ?? 0)
    },

    /**
     * A reply arrived (a page or live): into the open panel when it is of its thread. Live
     * and new there, it counts on the panel's root; from a page it may not: 'stale'.
     */
    noteReply(conversationId: string, message: MessageView, live: boolean): 'counted' | 'stale' | 'none' {
      const panel = this.replyThread
      if (!panel || panel.conversationId !== conversationId || panel.rootSeq !== message.threadRoot) return 'none'
      // Its own copy: the timeline's is replaced, not shared, when it changes.
      if (!placeIn(panel.items, { ...message })) return 'none'
      if (!panel.root) return 'none'
      if (!live) return 'stale'
      panel.root.replyCount = (panel.root.replyCount ?? 0) + 1
      return 'counted'
    },

    /** Every message the panel holds (root first). */
    replyThreadMessages(): MessageView[] {
      const panel = this.replyThread
      if (!panel) return []
      return panel.root ? [panel.root, ...panel.items] : [...panel.items]
    },

    /** My pending replies into the open panel's thread, in the order they were sent. */
    replyThreadPending(): PendingMessage[] {
      const panel = this.replyThread
      if (!panel) return []
      return (this.threads[panel.conversationId]?.pending ?? []).filter((p) => p.replyTo?.rootSeq === panel.rootSeq)
    },

    // --- pins -----------------------------------------------------------------------------

    ensurePins(conversationId: string): PinsState {
      return (this.pins[conversationId] ??= emptyPins())
    },

    /** The pinned messages, from `GET .../pins` or a pin's answer: the whole list. */
    setPins(conversationId: string, items: MessageView[]) {
      if (this.departed[conversationId]) return
      const pins = this.ensurePins(conversationId)
      pins.items = [...items].sort((a, b) => a.seq - b.seq)
      pins.seqs = pins.items.map((m) => m.seq)
      pins.loaded = true
      pins.error = null
    },

    setPinsFlags(conversationId: string, flags: Partial<Pick<PinsState, 'loading' | 'error'>>) {
      if (this.departed[conversationId]) return
      Object.assign(this.ensurePins(conversationId), flags)
    },

    /** `pins-updated`: the set as it is now. Unpinned messages leave the list at once; new ones come with the next fetch. */
    applyPinsUpdated(conversationId: string, pinnedSeqs: number[]) {
      if (this.departed[conversationId]) return
      const pins = this.ensurePins(conversationId)
      pins.seqs = [...pinnedSeqs].sort((a, b) => a - b)
      pins.items = pins.items.filter((m) => pins.seqs.includes(m.seq))
    },

    isPinned(conversationId: string, seq: number): boolean {
      return this.pins[conversationId]?.seqs.includes(seq) ?? false
    },

    pinCount(conversationId: string): number {
      return this.pins[conversationId]?.seqs.length ?? 0
    },

    // --- read receipts ------------------------------------------------------------------

    /** A participant's watermark moved (`message-read`, or my own POST .../read). */
    applyRead(conversationId: string, userId: string, lastReadSeq: number) {
      const detail = this.details[conversationId]
      const participant = detail?.participants.find((p) => p.userId === userId)
      if (participant && lastReadSeq > participant.lastReadSeq) participant.lastReadSeq = lastReadSeq
      if (userId === this.me?.userId) {
        const summary = this.conversations[conversationId]
        if (summary && lastReadSeq > summary.lastReadSeq) summary.lastReadSeq = lastReadSeq
      }
    },

    /** The furthest watermark among the other participants. */
    othersReadSeq(conversationId: string): number {
      const me = this.me?.userId
      const participants = this.details[conversationId]?.participants ?? []
      return participants.filter((p) => p.userId !== me).reduce((max, p) => Math.max(max, p.lastReadSeq), 0)
    },

    /** Ticks of one of my messages: read (✓✓) once another participant's watermark reaches it. */
    receiptOf(conversationId: string, message: MessageView): ReceiptState {
      return receiptFor(this.othersReadSeq(conversationId), message.seq)
    },

    // --- who may do what (the server's rules, so that the UI offers only what works) ------

    isMember(conversationId: string): boolean {
      const me = this.me?.userId
      return !!me && !!this.details[conversationId]?.participants.some((p) => p.userId === me)
    },

    /** Renaming: admins, and members who are on the team or created the conversation. */
    canRename(conversationId: string): boolean {
      const me = this.me
      if (!me) return false
      if (me.role === 'admin') return true
      const createdByMe = this.conversations[conversationId]?.createdBy === me.userId
      return this.isMember(conversationId) && (me.role === 'team' || createdByMe)
    },

    /** Adding people and removing others: admins, and members on the team (not clients). */
    canManageMembers(conversationId: string): boolean {
      const me = this.me
      if (!me) return false
      return me.role === 'admin' || (me.role === 'team' && this.isMember(conversationId))
    },

    /** Pinning and unpinning: members on the team and admins, in a conversation that is not closed. */
    canPin(conversationId: string): boolean {
      const me = this.me
      if (!me || me.role === 'client') return false
      return this.isMember(conversationId) && this.conversations[conversationId]?.status !== 'closed'
    },

    /** My own watermark in a conversation. */
    myReadSeq(conversationId: string): number {
      return this.conversations[conversationId]?.lastReadSeq ?? 0
    },

    // --- typing and presence -------------------------------------------------------------

    setTyping(conversationId: string, userId: string, name: string, expiresInMs: number, now: number = Date.now()) {
      if (userId === this.me?.userId) return
      const entries = (this.typing[conversationId] ??= {})
      entries[userId] = { userId, name, expiresAt: now + expiresInMs + TYPING_MARGIN_MS }
    },

    clearTyping(conversationId: string, userId: string) {
      const entries = this.typing[conversationId]
      if (entries) delete entries[userId]
    },

    /** Drops typing entries whose time is up (no "stopped" needs to arrive). */
    expireTyping(now: number = Date.now()) {
      for (const entries of Object.values(this.typing)) {
        for (const [userId, entry] of Object.entries(entries)) {
          if (entry.expiresAt <= now) delete entries[userId]
        }
      }
    },

    typingIn(conversationId: string): TypingEntry[] {
      return Object.values(this.typing[conversationId] ?? {})
    },

    setPresence(userId: string, online: boolean) {
      this.presence[userId] = online
    },

    isOnline(userId: string): boolean {
      return this.presence[userId] === true
    },

    announce(text: string) {
      this.announcement = text
    },

    reset() {
      this.$reset()
    },
  },
})

export type MessagingStore = ReturnType<typeof useMessagingStore>
