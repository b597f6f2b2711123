// The "New messages" divider of an open conversation. It marks where the reader's unread
// messages began when they opened the conversation, and stays there while it is open:
// reading moves the watermark on (the thread marks read at the bottom), the divider does
// not. Opened again with nothing unread, there is none.

import type { MessageView } from '../types'

/** My read state as it was when the conversation was opened. */
export interface ReadAtOpen {
  /** My watermark then. */
  readSeq: number
  /** Whether anything was unread then (a divider is shown only if so). */
  hadUnread: boolean
}

/** The read state to keep for the divider, from the conversation's entry (null while unknown). */
export function readAtOpen(conversation: { lastSeq: number; lastReadSeq: number } | null | undefined): ReadAtOpen | null {
  if (!conversation) return null
  return { readSeq: conversation.lastReadSeq, hadUnread: conversation.lastSeq > conversation.lastReadSeq }
}

/**
 * The seq of the message the divider goes above: the first message held after the
 * watermark at open that someone else sent, or null (nothing was unread, or not known
 * yet). When the first unread messages are older than the page held, that is the first
 * message held; it moves up to the real first unread one as older pages load.
 */
export function dividerSeq(messages: readonly MessageView[], atOpen: ReadAtOpen | null, meId: string | null | undefined): number | null {
  if (!atOpen?.hadUnread) return null
  const first = messages.find((m) => m.seq > atOpen.readSeq && m.senderId !== meId)
  return first ? first.seq : null
}
