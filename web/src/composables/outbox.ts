// What the user had not sent when their session expired, carried across signing in again:
// that is a round trip through the provider, so the page and its store are gone when they
// come back. The messages waiting to be sent and the drafts wait in sessionStorage (this
// tab only), for the same user only: whoever signs in next takes the outbox away, and a
// different user gets nothing. Restored, each send is pending again and goes with its
// original clientMessageId, so one the server already stored is not stored twice.

import type { MessagingStore } from '../stores/messagingStore'
import type { FileMeta, ReplyTarget } from '../types'
import type { Messaging } from './useMessaging'

export const OUTBOX_KEY = 'messaging.outbox'

export interface SavedSend {
  conversationId: string
  clientMessageId: string
  body: string
  fileIds: string[]
  /** The attachments as the pending bubble shows them. */
  files: FileMeta[]
  /** A reply: the message it answers (sent as `replyToId`); absent in outboxes saved before replies. */
  replyTo?: ReplyTarget | null
}

export interface Outbox {
  userId: string
  /** In the order they were written, per conversation. */
  sends: SavedSend[]
  /** conversationId → unsent text. */
  drafts: [string, string][]
}

/** Keeps `userId`'s pending sends and non-empty drafts for after the next sign-in. */
export function saveOutbox(userId: string, store: MessagingStore, drafts: Map<string, string>, storage: Storage = sessionStorage): void {
  const sends: SavedSend[] = Object.values(store.threads).flatMap((thread) =>
    thread.pending.map((p) => ({
      conversationId: p.conversationId,
      clientMessageId: p.clientMessageId,
      body: p.body,
      fileIds: [...p.fileIds],
      files: p.files.map((f) => ({ ...f })),
      ...(p.replyTo ? { replyTo: { ...p.replyTo } } : {}),
    })),
  )
  const outbox: Outbox = { userId, sends, drafts: [...drafts].filter(([, text]) => text.trim() !== '') }
  storage.setItem(OUTBOX_KEY, JSON.stringify(outbox))
}

function isSend(value: unknown): value is SavedSend {
  const s = value as SavedSend
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.conversationId === 'string' &&
    typeof s.clientMessageId === 'string' &&
    typeof s.body === 'string' &&
    Array.isArray(s.fileIds) &&
    Array.isArray(s.files) &&
    (s.replyTo == null || (typeof s.replyTo === 'object' && typeof s.replyTo.messageId === 'string' && typeof s.replyTo.rootSeq === 'number'))
  )
}

/**
 * The outbox left for `userId`, if any. It leaves storage whoever signed in: another
 * user's is discarded unseen.
 */
export function takeOutbox(userId: string, storage: Storage = sessionStorage): Outbox | null {
  const raw = storage.getItem(OUTBOX_KEY)
  storage.removeItem(OUTBOX_KEY)
  if (!raw) return null
  try {
    const outbox = JSON.parse(raw) as Outbox
    if (outbox?.userId !== userId || !Array.isArray(outbox.sends) || !Array.isArray(outbox.drafts)) return null
    return { userId, sends: outbox.sends.filter(isSend), drafts: outbox.drafts.filter(([id, text]) => typeof id === 'string' && typeof text === 'string') }
  } catch {
    return null
  }
}

/** Drafts back in their composers; sends pending again and on their way, in their order. */
export function restoreOutbox(outbox: Outbox, messaging: Pick<Messaging, 'store' | 'retrySend'>, drafts: Map<string, string>): void {
  for (const [conversationId, text] of outbox.drafts) drafts.set(conversationId, text)
  for (const send of outbox.sends) {
    messaging.store.addPending(send.conversationId, {
      clientMessageId: send.clientMessageId,
      body: send.body,
      files: send.files,
      fileIds: send.fileIds,
      replyTo: send.replyTo ?? null,
    })
    void messaging.retrySend(send.conversationId, send.clientMessageId)
  }
}
