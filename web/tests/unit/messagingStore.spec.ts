import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { TYPING_MARGIN_MS, findGap, newerCopy, useMessagingStore } from '../../src/stores/messagingStore'
import { ANA, CID, ME, detail, message, participant, summary } from './fixtures'

function store() {
  const s = useMessagingStore()
  s.setMe({ userId: ME, name: 'Ben Carter', role: 'team' })
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
