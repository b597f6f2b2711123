// Every type of the web client in one module. The wire shapes (views, WebSocket frames
// and actions) are the Rust ones, generated into ./api/wire.ts from shared/core: a server
// change that breaks the client fails its type check. Request bodies and the client's own
// state are declared here.

import type * as Wire from './api/wire'

// ---------------------------------------------------------------------------------------
// Wire (generated)
// ---------------------------------------------------------------------------------------

export type Timestamp = Wire.Timestamp
export type Role = Wire.Role
export type ConversationStatus = Wire.ConversationStatus
export type ReportStatus = Wire.ReportStatus
export type RevisionKind = Wire.RevisionKind
export type ConversationChange = Wire.ConversationChange
export type ProfileView = Wire.ProfileView
export type PreferencesView = Wire.PreferencesView
export type MessagePreview = Wire.PreviewView
export type ConversationView = Wire.ConversationView
export type ConversationSummary = Wire.ConversationSummary
export type ParticipantView = Wire.ParticipantView
export type ConversationDetail = Wire.ConversationDetail
export type ListPage<T> = Wire.ListPage<T>
export type FileMeta = Wire.FileMeta
export type MessageView = Wire.MessageView
export type MessagePage = Wire.MessagePage
export type Reaction = Wire.Reaction
export type QuoteView = Wire.QuoteView
export type ThreadPage = Wire.ThreadPage
export type PinnedMessages = Wire.PinnedMessages
export type ReadReceiptView = Wire.ReadReceiptView
export type AttachmentRequest = Wire.AttachmentRequest
export type SignedRequest = Wire.SignedRequest
export type UploadSlot = Wire.UploadSlot
export type UploadGrant = Wire.UploadGrant
export type WsTicket = Wire.Ticket
export type ReportView = Wire.ReportView
export type RevisionView = Wire.RevisionView
export type MessageAudit = Wire.MessageAudit
export type SnippetPart = Wire.SnippetPart
export type SearchResultView = Wire.SearchResultView
export type SearchResultPage = Wire.ListPage<Wire.SearchResultView>
export type ServerEvent = Wire.ServerEvent
export type ServerEventType = ServerEvent['type']
export type ClientAction = Wire.ClientAction

// ---------------------------------------------------------------------------------------
// Requests, errors
// ---------------------------------------------------------------------------------------

/** `POST /api/messaging/conversations`: people by id only (the directory names them). */
export interface CreateConversationRequest {
  title: string
  projectId?: string | null
  participantIds?: string[]
}

/** `POST /api/messaging/conversations/{id}/participants` (team and admins). */
export interface AddParticipantsRequest {
  participantIds?: string[]
}

/** `PATCH /api/messaging/conversations/{id}`. */
export interface RenameConversationRequest {
  title: string
}

/** `PATCH /api/messaging/me`. */
export interface RenameMeRequest {
  name: string
}

/** `PATCH /api/messaging/conversations/{id}/preferences`: absent fields stay as they are. */
export interface PreferencesRequest {
  muted?: boolean
  hidden?: boolean
  /** Which messages of this conversation notify me; `default` follows my own setting. */
  notify?: ConversationNotifyChoice
  /** Emails about this conversation. */
  email?: boolean
}

// ---------------------------------------------------------------------------------------
// Notifications: fields the server sends that api/wire.ts does not have yet
// ---------------------------------------------------------------------------------------
// Declared optional and read defensively (`?? []`, `?? null`, `?? true`): once the
// generated types carry them, these intersections still hold.

/** Which messages notify someone: every message from others, only mentions, none. */
export type NotifyLevel = 'all' | 'mentions' | 'none'

/**
 * The level as a server may spell it on the wire: the contract's `none`, or `nothing`,
 * which the generated types (and the first backend build) have for the same level.
 * `notifyLevelOf` (utils/notify.ts) reads either as the contract's.
 */
export type WireNotifyLevel = NotifyLevel | Wire.NotifyLevel

/** The per-conversation choice: a level, or `default` (my own setting; `null` on the wire). */
export type ConversationNotifyChoice = NotifyLevel | 'default'

/** My notification settings for one conversation, beside `muted` and `hidden`. */
export interface ConversationNotifyFields {
  /** `null` (or absent, from an older server): my personal default applies. */
  notify?: WireNotifyLevel | null
  /** Emails about this conversation; absent means on. */
  email?: boolean
}

/** A message with the participants it mentions (user ids the server resolved from `@Name`). */
export type MentioningMessage = MessageView & { mentions?: string[] }

/** `PATCH .../preferences`'s answer and the `preferences-updated` event. */
export type PreferencesState = Omit<PreferencesView, 'notify' | 'email'> & ConversationNotifyFields

/** `PATCH /api/admin/messaging/users/{userId}`. */
export interface SetUserStateRequest {
  active: boolean
}

/** `GET /api/admin/messaging/users?status=`: only active or only disabled people. */
export type UserStatus = 'active' | 'disabled'

export interface SendMessageRequest {
  body: string
  clientMessageId: string
  fileIds?: string[]
  /** A reply: the message it answers (and quotes), in the same conversation. */
  replyToId?: string
}

export interface ResolveReportRequest {
  status: 'actioned' | 'dismissed'
  note?: string
  deleteMessage?: boolean
}

/** `GET /api/messaging/search`: newest first (the default) or best match first. */
export type SearchOrder = 'newest' | 'relevance'

/**
 * `GET /api/messaging/search` and `GET /api/admin/messaging/search`: `q` is required (at
 * most 200 characters); `from` and `to` are RFC 3339 times, `to` exclusive; `cursor` is the
 * previous page's `nextCursor`, for the same query.
 */
export type MessageSearchQuery = {
  q: string
  conversationId?: string
  senderId?: string
  from?: string
  to?: string
  hasFiles?: boolean
  order?: SearchOrder
  cursor?: string
  limit?: number
}

/** `{"error": {"code", "message", "field"}}`. */
export interface ApiErrorBody {
  error: {
    code: string
    message: string
    field: string | null
  }
}

// ---------------------------------------------------------------------------------------
// Client state
// ---------------------------------------------------------------------------------------

/**
 * The socket as the user sees it: `connecting` (first attempt), `online`, `reconnecting`
 * (lost, retrying with backoff), `offline` (the browser is offline, or the client stopped).
 */
export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline'

/**
 * A conversation as the store keeps it: the wire summary without what is derived from it
 * (unread = `lastSeq − lastReadSeq`, see the store's `unreadOf`).
 */
export type ConversationState = Omit<ConversationSummary, 'unreadCount'> & ConversationNotifyFields

/** A participant as the store keeps it: whether they are online is the store's `presence`. */
export type ParticipantState = Omit<ParticipantView, 'online'>

/**
 * A conversation's detail as the store keeps it: its summary fields (my own watermark
 * included) live in `conversations`; only the participants are kept here.
 */
export interface DetailState {
  id: string
  participants: ParticipantState[]
}

/**
 * A person as the client names them: what a profile and `user-updated` both carry. The
 * session keeps the signed-in one as `GET /me` answered at sign-in; the messaging store
 * keeps the live one (`GET /me` on start, renames, `user-updated`).
 */
export type Person = Pick<ProfileView, 'userId' | 'name' | 'role' | 'organisation'>

/**
 * Why a conversation is no longer mine: I left it here, someone removed me (or I left on
 * another device: the event cannot tell), or the server does not know it for me (404).
 */
export type DepartureReason = 'left' | 'removed' | 'unavailable'

export interface Departure {
  reason: DepartureReason
  /** The title it had, so that the removed state can still name it. */
  title: string | null
}

/** Who this tab's tokens belong to (the tokens themselves are oidc-client-ts's). */
export interface Session {
  /** The tokens' `sub`: the profile is only trusted with the tokens it came with. */
  subject: string
  user: Person
}

/** A message the user sent that the server has not confirmed yet. */
export interface PendingMessage {
  clientMessageId: string
  conversationId: string
  body: string
  files: FileMeta[]
  /** Ids of uploaded attachments; sent again, unchanged, on every retry. */
  fileIds: string[]
  createdAt: Timestamp
  status: 'sending' | 'failed'
  error: string | null
  attempts: number
  /**
   * Held back by the server's rate limit: when (epoch ms) it is sent again by itself. It
   * is still `sending`, not failed; null when it is not waiting.
   */
  retryAt: number | null
  /** A reply: the message it answers, as the composer quoted it; sent as `replyToId`. */
  replyTo: ReplyTarget | null
}

/**
 * The message a reply answers, as the composer (and the pending bubble) quote it, with the
 * seq of the thread the reply goes into: the answered message's root, or itself.
 */
export type ReplyTarget = QuoteView & { rootSeq: number }

/**
 * The open thread panel: a thread's root and its replies (`GET .../thread`), paged forward
 * with `after` = `cursor`. Replies that arrive live are added too, so `items` may run past
 * the pages fetched so far; `cursor` is where the next page starts.
 */
export interface ReplyThreadState {
  conversationId: string
  /** The message it was opened from (its root, or a reply: the server finds the root). */
  openedFrom: string
  rootSeq: number
  /** Null until the first page arrived, when it was opened from a reply. */
  root: MessageView | null
  /** The replies held, ascending by seq, no duplicates. */
  items: MessageView[]
  cursor: number
  hasMore: boolean
  loaded: boolean
  loading: boolean
  error: string | null
}

/**
 * A conversation's pins: the seqs pinned (from the last answer or `pins-updated`, which
 * carries the whole set) and the messages (`GET .../pins`), oldest first.
 */
export interface PinsState {
  seqs: number[]
  items: MessageView[]
  /** The messages were fetched at least once. */
  loaded: boolean
  loading: boolean
  error: string | null
}

/** One row of a thread: a stored message, or a pending one (which has no seq yet). */
export type ThreadItem =
  | { kind: 'message'; key: string; message: MessageView }
  | { kind: 'pending'; key: string; pending: PendingMessage }

export type ReceiptState = 'sending' | 'failed' | 'sent' | 'read'

export interface ThreadState {
  conversationId: string
  /** Stored messages, strictly ascending by seq, no duplicates. */
  messages: MessageView[]
  /** Optimistic messages, in the order they were sent. */
  pending: PendingMessage[]
  /** Whether older messages than the first held exist. */
  hasMoreBefore: boolean
  /** The newest page was fetched at least once. */
  loaded: boolean
  loading: boolean
  loadingOlder: boolean
  error: string | null
}

export interface TypingEntry {
  userId: string
  name: string
  /** Epoch milliseconds after which the entry is dropped even without a "stopped". */
  expiresAt: number
}

/** An attachment being prepared in the composer. */
export interface UploadItem {
  localId: string
  name: string
  size: number
  contentType: string
  status: 'queued' | 'uploading' | 'done' | 'failed'
  /** 0..1 */
  progress: number
  error: string | null
  fileId: string | null
  /** Object URL for an image thumbnail in the composer (revoked on removal). */
  previewUrl: string | null
}

export interface Toast {
  id: number
  text: string
  tone: 'info' | 'error'
}

export interface MenuItem {
  id: string
  label: string
  danger?: boolean
}
