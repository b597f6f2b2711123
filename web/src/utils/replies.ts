// Replies and their quotes: what a quote of a message says, how the composer names the
// message it answers, and how a thread's size reads. The server builds the quotes of stored
// replies (`MessageView.quote`); the client builds the same for its own pending ones and
// keeps held quotes current when the quoted message is edited or deleted.

import type { MessageView, QuoteView, ReplyTarget } from '../types'

/** The server's excerpt (`MessageBody::preview`): the first 140 characters (code points), "…" after a cut. */
export const EXCERPT_CHARS = 140

export function excerptOf(body: string | null): string {
  const chars = [...(body ?? '')]
  return chars.length > EXCERPT_CHARS ? chars.slice(0, EXCERPT_CHARS).join('') + '…' : chars.join('')
}

/** A message quoted as it is now (its excerpt empty once deleted). */
export function quoteOf(m: MessageView): QuoteView {
  return {
    messageId: m.id,
    seq: m.seq,
    senderId: m.senderId,
    senderName: m.senderName,
    excerpt: m.deleted ? '' : excerptOf(m.body),
    deleted: m.deleted,
    fileCount: m.deleted ? 0 : m.files.length,
  }
}

/** A reply to `m`: it goes into `m`'s thread, or starts one with `m` as its root. */
export function replyTargetOf(m: MessageView): ReplyTarget {
  return { ...quoteOf(m), rootSeq: m.threadRoot ?? m.seq }
}

export function filesLabel(n: number): string {
  return `${n} file${n === 1 ? '' : 's'}`
}

/** What a quote shows of the message: its excerpt, "Message deleted", or "N files". */
export function quoteText(q: QuoteView): string {
  if (q.deleted) return 'Message deleted'
  if (!q.excerpt && q.fileCount > 0) return filesLabel(q.fileCount)
  return q.excerpt
}

/** "1 reply", "3 replies". */
export function repliesLabel(n: number): string {
  return `${n} ${n === 1 ? 'reply' : 'replies'}`
}
