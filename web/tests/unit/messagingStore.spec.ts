import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { TYPING_MARGIN_MS, findGap, newerCopy, useMessagingStore } from '../../src/stores/messagingStore'
import { ANA, BEN, CID, ME, detail, message, participant, summary } from './fixtures'

function store() {
  const s = useMessagingStore()
  s.setMe(BEN)
  return s
}

const seqsOf = (s: ReturnType<typeof store>) => s.threads[CID]!.messages.map((m) => m.seq)

describe('messagingStore: ordering and dedupe', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('keeps messages ascending by seq whatever order they arrive in', () => {
    const s = store()
    s.mergeMessages(CID, [message(5), message(2)])
    s.mergeMessages(CID, [message(4)])
    s.mergeMessages(CID, [message(1), message(3)])
    expect(seqsOf(s)).toEqual([1, 2, 3, 4, 5])
  })

  it('never holds a message twice: the same id from a page and an event is one row', () => {
    const s = store()
    s.mergeMessages(CID, [message(1), message(2), message(3)])
    const r = s.mergeMessages(CID, [message(2), message(3), message(4)])
    expect(seqsOf(s)).toEqual([1, 2, 3, 4])
    expect(r.added).toBe(1)
    // And the same seq under another id (should never happen) replaces rather than duplicates.
    s.mergeMessages(CID, [message(4, { id: 'other-id' })])
    expect(seqsOf(s)).toEqual([1, 2, 3, 4])
  })

  it('keeps the newer copy of a message: a stale page does not undo an edit or a delete', () => {
    const s = store()
    const original = message(1)
    const edited = { ...original, body: 'edited', editedAt: '2026-11-23T11:00:00.000Z' }
    const tombstone = { ...original, body: null, deleted: true, deletedAt: '2026-11-23T12:00:00.000Z' }
    s.mergeMessages(CID, [original])
    s.applyMessageUpdated(CID, edited)
    s.mergeMessages(CID, [original]) // a page fetched before the edit
    expect(s.threads[CID]!.messages[0]!.body).toBe('edited')
    s.applyMessageUpdated(CID, tombstone)
    s.mergeMessages(CID, [edited])
    expect(s.threads[CID]!.messages[0]!.deleted).toBe(true)
    expect(s.threads[CID]!.messages[0]!.body).toBeNull()
    expect(newerCopy(edited, original)).toBe(edited)
  })

  it('detects a hole in the seqs (gap) and where it starts', () => {
    const s = store()
    expect(findGap([message(1), message(2), message(3)])).toBeNull()
    const r = s.mergeMessages(CID, [message(1), message(2), message(6)])
    expect(r.gapAfter).toBe(2)
    expect(s.gapOf(CID)).toBe(2)
    s.mergeMessages(CID, [message(3), message(4), message(5)])
    expect(s.gapOf(CID)).toBeNull()
  })

  it('treats a loaded thread that does not start at seq 1 (and claims nothing older) as a gap after 0', () => {
    const s = store()
    s.mergeMessages(CID, [message(3), message(4)])
    s.setThreadFlags(CID, { loaded: true, hasMoreBefore: false })
    expect(s.gapOf(CID)).toBe(0)
    s.setThreadFlags(CID, { hasMoreBefore: true })
    expect(s.gapOf(CID)).toBeNull()
  })
})

describe('messagingStore: optimistic sends', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('shows a pending message after the stored ones and replaces it by clientMessageId', () => {
    const s = store()
    s.mergeMessages(CID, [message(1)])
    s.addPending(CID, { clientMessageId: 'cm-1', body: 'hello' })
    let items = s.threadItems(CID)
    expect(items.map((i) => i.kind)).toEqual(['message', 'pending'])
    expect(s.findPending(CID, 'cm-1')!.status).toBe('sending')

    s.mergeMessages(CID, [message(2, { senderId: ME, clientMessageId: 'cm-1', body: 'hello' })])
    items = s.threadItems(CID)
    expect(items.map((i) => i.kind)).toEqual(['message', 'message'])
    expect(s.threads[CID]!.pending).toHaveLength(0)
  })

  it('replaces the pending copy when the new-message event arrives before the POST answer, and the answer then adds nothing', () => {
    const s = store()
    s.addPending(CID, { clientMessageId: 'cm-2', body: 'race' })
    const stored = message(1, { senderId: ME, clientMessageId: 'cm-2', body: 'race' })
    s.mergeMessages(CID, [stored]) // the event
    const answer = s.mergeMessages(CID, [{ ...stored }]) // the POST answer
    expect(answer.added).toBe(0)
    expect(s.threadItems(CID)).toHaveLength(1)
  })

  it('does not let another user\'s message with the same clientMessageId remove my pending one', () => {
    const s = store()
    s.addPending(CID, { clientMessageId: 'same', body: 'mine' })
    s.mergeMessages(CID, [message(1, { senderId: ANA, clientMessageId: 'same' })])
    expect(s.threads[CID]!.pending).toHaveLength(1)
  })

  it('a failed send keeps its clientMessageId and counts attempts on retry', () => {
    const s = store()
    s.addPending(CID, { clientMessageId: 'cm-3', body: 'x', fileIds: ['f1'] })
    s.markPendingSending(CID, 'cm-3')
    s.markPendingFailed(CID, 'cm-3', 'No connection')
    const failed = s.findPending(CID, 'cm-3')!
    expect(failed.status).toBe('failed')
    expect(failed.error).toBe('No connection')
    s.markPendingSending(CID, 'cm-3')
    const retried = s.findPending(CID, 'cm-3')!
    expect(retried.clientMessageId).toBe('cm-3')
    expect(retried.fileIds).toEqual(['f1'])
    expect(retried.attempts).toBe(2)
    expect(retried.status).toBe('sending')
    // Adding the same clientMessageId again does not duplicate it.
    s.addPending(CID, { clientMessageId: 'cm-3', body: 'x' })
    expect(s.threads[CID]!.pending).toHaveLength(1)
  })
})

describe('messagingStore: read ticks, unread counts, typing, presence', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('computes read ticks from the other participants\' watermarks and keeps them live', () => {
    const s = store()
    s.setDetail(detail({ participants: [participant(ME, { lastReadSeq: 5 }), participant(ANA, { lastReadSeq: 2 })] }))
    const mine = (seq: number) => message(seq, { senderId: ME })
    expect(s.receiptOf(CID, mine(2))).toBe('read')
    expect(s.receiptOf(CID, mine(3))).toBe('sent')
    // My own watermark never makes my messages "read".
    expect(s.othersReadSeq(CID)).toBe(2)
    s.applyRead(CID, ANA, 4) // message-read event
    expect(s.receiptOf(CID, mine(3))).toBe('read')
    expect(s.receiptOf(CID, mine(5))).toBe('sent')
    // Watermarks never move backwards (a late, older event).
    s.applyRead(CID, ANA, 1)
    expect(s.othersReadSeq(CID)).toBe(4)
  })

  it('moves a sender\'s watermark to their own message (the server does, without a message-read event)', () => {
    const s = store()
    s.setConversationPage([summary({ lastSeq: 5, lastReadSeq: 5 })], null)
    s.setDetail(detail({ lastSeq: 5, lastReadSeq: 5, participants: [participant(ME, { lastReadSeq: 5 }), participant(ANA, { lastReadSeq: 2 })] }))
    const mine = message(5, { senderId: ME })
    expect(s.receiptOf(CID, mine)).toBe('sent')
    s.mergeMessages(CID, [message(6, { senderId: ANA })]) // Ana replies: she has read 5
    expect(s.receiptOf(CID, mine)).toBe('read')
  })

  it('counts unread messages from others; duplicates do not count twice; my sends and reads clear them', () => {
    const s = store()
    s.setConversationPage([summary({ lastSeq: 3, lastReadSeq: 3 })], null)
    expect(s.unreadOf(CID)).toBe(0)
    s.noteMessage(CID, message(4))
    s.noteMessage(CID, message(5))
    s.noteMessage(CID, message(5)) // the same event twice
    expect(s.unreadOf(CID)).toBe(2)
    expect(s.totalUnread).toBe(2)
    expect(s.conversations[CID]!.lastMessage!.seq).toBe(5)
    s.applyRead(CID, ME, 4) // read in another tab
    expect(s.unreadOf(CID)).toBe(1)
    s.noteMessage(CID, message(6, { senderId: ME })) // sending moves my watermark
    expect(s.unreadOf(CID)).toBe(0)
    // A refreshed summary from the server never moves my watermark back.
    s.upsertSummary(summary({ lastSeq: 6, lastReadSeq: 3 }))
    expect(s.unreadOf(CID)).toBe(0)
  })

  it('orders the list by last activity, and new messages move a conversation up', () => {
    const s = store()
    const other = '01HZCONVERSATION0000000002'
    s.setConversationPage(
      [
        summary({ id: other, lastActivityAt: '2026-11-23T10:00:00.000Z' }),
        summary({ id: CID, lastActivityAt: '2026-11-23T09:00:00.000Z' }),
      ],
      null,
    )
    expect(s.sortedConversations.map((c) => c.id)).toEqual([other, CID])
    s.noteMessage(CID, message(1, { createdAt: '2026-11-23T11:00:00.000Z' }))
    expect(s.sortedConversations.map((c) => c.id)).toEqual([CID, other])
  })

  it('drops a typing entry after expiresInMs plus a margin even without a stop', () => {
    const s = store()
    s.setTyping(CID, ANA, 'Ana Alvarez', 6000, 1_000)
    expect(s.typingIn(CID).map((t) => t.name)).toEqual(['Ana Alvarez'])
    s.expireTyping(1_000 + 6000 + TYPING_MARGIN_MS - 1)
    expect(s.typingIn(CID)).toHaveLength(1)
    s.expireTyping(1_000 + 6000 + TYPING_MARGIN_MS)
    expect(s.typingIn(CID)).toHaveLength(0)
    // My own typing is never shown to me.
    s.setTyping(CID, ME, 'Ben Carter', 6000, 0)
    expect(s.typingIn(CID)).toHaveLength(0)
  })

  it('updates presence dots from joined/left and from conversation-updated', () => {
    const s = store()
    s.setDetail(detail())
    expect(s.isOnline(ANA)).toBe(false)
    s.setPresence(ANA, true)
    expect(s.isOnline(ANA)).toBe(true)
    expect(s.details[CID]!.participants.some((p) => p.userId === ANA)).toBe(true)
    s.applyConversationUpdated({ ...detail(), status: 'closed' }, [participant(ME), participant(ANA, { online: false })])
    expect(s.isOnline(ANA)).toBe(false)
    expect(s.conversations[CID]!.status).toBe('closed')
  })

  it('forgets a conversation I was removed from', () => {
    const s = store()
    s.setConversationPage([summary()], null)
    s.setDetail(detail())
    s.mergeMessages(CID, [message(1)])
    s.applyConversationUpdated(detail(), [participant(ANA)])
    expect(s.conversations[CID]).toBeUndefined()
    expect(s.threads[CID]).toBeUndefined()
    expect(s.listIds).not.toContain(CID)
  })
})

describe('messagingStore: people, membership and my settings', () => {
  beforeEach(() => setActivePinia(createPinia()))

  const OTHER = '01HZCONVERSATION0000000002'

  it('renames a person everywhere they show when user-updated arrives: participants, senders, previews, typing', () => {
    const s = store()
    const lastMessage = { messageId: 'm3', seq: 3, senderId: ANA, senderName: 'Ana Alvarez', text: 'hi', deleted: false, at: '2026-11-23T10:00:00.000Z' }
    s.setConversationPage([summary({ lastSeq: 3, lastMessage }), summary({ id: OTHER, lastSeq: 3, lastMessage })], null)
    s.setDetail(detail())
    s.mergeMessages(CID, [message(1), message(2, { senderId: ME, senderName: 'Ben Carter' })])
    s.setTyping(CID, ANA, 'Ana Alvarez', 6000)
    s.applyPerson({ userId: ANA, name: 'Ana Moreno', role: 'client', organisation: 'Initech' })
    const ana = s.details[CID]!.participants.find((p) => p.userId === ANA)!
    expect([ana.name, ana.organisation]).toEqual(['Ana Moreno', 'Initech'])
    expect(s.threads[CID]!.messages.map((m) => m.senderName)).toEqual(['Ana Moreno', 'Ben Carter'])
    expect(s.conversations[CID]!.lastMessage!.senderName).toBe('Ana Moreno')
    expect(s.conversations[OTHER]!.lastMessage!.senderName).toBe('Ana Moreno')
    expect(s.typingIn(CID).map((t) => t.name)).toEqual(['Ana Moreno'])
    expect(s.me!.name).toBe('Ben Carter')
  })

  it('renames me too (my rename on another device, or my own PATCH /me answer)', () => {
    const s = store()
    s.setDetail(detail())
    s.applyPerson({ userId: ME, name: 'Benjamin Carter', role: 'team', organisation: null })
    expect(s.me).toEqual({ userId: ME, name: 'Benjamin Carter', role: 'team', organisation: null })
    expect(s.details[CID]!.participants.find((p) => p.userId === ME)!.name).toBe('Benjamin Carter')
  })

  it('keeps why a conversation is gone and its title when an event no longer lists me, and ignores pages that arrive later', () => {
    const s = store()
    s.setConversationPage([summary({ title: 'Budget' })], null)
    s.setDetail(detail({ title: 'Budget' }))
    s.mergeMessages(CID, [message(1)])
    s.activeConversationId = CID
    s.applyConversationUpdated(detail({ title: 'Budget' }), [participant(ANA)])
    expect(s.departed[CID]).toEqual({ reason: 'removed', title: 'Budget' })
    expect(s.sortedConversations).toEqual([])
    expect(s.threads[CID]).toBeUndefined()
    // The open thread still shows the notice: it stays the active one.
    expect(s.activeConversationId).toBe(CID)
    // A page or a loading flag still on its way does not bring the messages back.
    s.mergeMessages(CID, [message(2)])
    s.setThreadFlags(CID, { loading: false, error: 'not found' })
    expect(s.threads[CID]).toBeUndefined()
  })

  it('counts the last member leaving (an empty participant list) as gone, and "left" when I left', () => {
    const s = store()
    s.setConversationPage([summary()], null)
    s.applyConversationUpdated(detail(), [], 'left')
    expect(s.departed[CID]?.reason).toBe('left')
  })

  it('keeps "left" when the event of my leave comes after its answer', () => {
    const s = store()
    s.setConversationPage([summary({ title: 'Budget' })], null)
    s.removeConversation(CID, 'left') // the DELETE answered
    s.applyConversationUpdated(detail(), [participant(ANA)]) // then its event
    expect(s.departed[CID]).toEqual({ reason: 'left', title: 'Budget' })
  })

  it('forgets the departure once I am added back', () => {
    const s = store()
    s.setConversationPage([summary()], null)
    s.removeConversation(CID, 'removed')
    s.applyConversationUpdated(detail({ title: 'Back again' }), [participant(ME), participant(ANA)])
    expect(s.departed[CID]).toBeUndefined()
    expect(s.conversations[CID]!.title).toBe('Back again')
    expect(s.isMember(CID)).toBe(true)
  })

  it('a muted conversation keeps its count but leaves the total, and a rename or event keeps my settings', () => {
    const s = store()
    s.setConversationPage([summary({ lastSeq: 3, lastReadSeq: 1 }), summary({ id: OTHER, lastSeq: 2, lastReadSeq: 1 })], null)
    expect(s.totalUnread).toBe(3)
    s.applyPreferences({ conversationId: CID, muted: true, hidden: false })
    expect(s.unreadOf(CID)).toBe(2)
    expect(s.totalUnread).toBe(1)
    s.applyConversationView({ ...detail(), title: 'Renamed', lastSeq: 3 })
    expect(s.conversations[CID]).toMatchObject({ title: 'Renamed', muted: true, hidden: false, lastReadSeq: 1 })
  })

  it('leaves a hidden conversation out of the list until a newer message, but not out of a search', () => {
    const s = store()
    s.setConversationPage([summary({ lastSeq: 4 }), summary({ id: OTHER })], null)
    s.applyPreferences({ conversationId: CID, muted: false, hidden: true })
    expect(s.sortedConversations.map((c) => c.id)).toEqual([OTHER])
    s.listQuery = 'Kick'
    expect(s.sortedConversations.map((c) => c.id)).toContain(CID)
    s.listQuery = ''
    // An edit of an older message is no new message: still hidden.
    s.noteMessage(CID, message(4, { editedAt: '2026-11-23T12:00:00.000Z' }))
    expect(s.conversations[CID]!.hidden).toBe(true)
    s.noteMessage(CID, message(5))
    expect(s.conversations[CID]!.hidden).toBe(false)
    expect(s.sortedConversations.map((c) => c.id)).toEqual([CID, OTHER])
    // A summary fetched before that message does not hide it again.
    s.upsertSummary(summary({ lastSeq: 4, hidden: true }))
    expect(s.conversations[CID]!.hidden).toBe(false)
  })

  it('offers renaming to the team, admins and the creator, and member changes to the team and admins', () => {
    const s = store()
    s.setConversationPage([summary({ createdBy: ANA })], null)
    s.setDetail(detail({ createdBy: ANA }))
    expect([s.canRename(CID), s.canManageMembers(CID)]).toEqual([true, true]) // Ben: team
    s.setMe({ userId: ANA, name: 'Ana Alvarez', role: 'client', organisation: 'Acme Corp' })
    expect([s.canRename(CID), s.canManageMembers(CID)]).toEqual([true, false]) // the creator, a client
    s.setMe({ userId: 'u-client-zoe', name: 'Zoe', role: 'client', organisation: 'Acme Corp' })
    expect([s.canRename(CID), s.canManageMembers(CID)]).toEqual([false, false]) // not even a member
    s.setDetail(detail({ createdBy: ANA, participants: [participant(ANA), participant('u-client-zoe')] }))
    expect([s.canRename(CID), s.canManageMembers(CID)]).toEqual([false, false]) // a client member
    s.setMe({ userId: 'u-admin-dana', name: 'Dana Reyes', role: 'admin', organisation: null })
    expect([s.canRename(CID), s.canManageMembers(CID), s.isMember(CID)]).toEqual([true, true, false])
  })
})
