// Every type of the web client in one module: the backend's JSON views (camelCase, see
// shared/core/src/views.rs and events.rs), the WebSocket frames, and the client's own
// state. The Rust code is the source of truth for the wire shapes.

// ---------------------------------------------------------------------------------------
// Wire: identities and conversations
// ---------------------------------------------------------------------------------------

export type Role = 'client' | 'team' | 'admin'
export type ConversationStatus = 'open' | 'archived' | 'closed'
export type ReportStatus = 'open' | 'actioned' | 'dismissed'
export type RevisionKind = 'edited' | 'deleted'
export type ConversationChange = 'status' | 'title' | 'participants'

/** RFC 3339 UTC with milliseconds, e.g. `2026-11-23T10:15:00.123Z`. */
export type Timestamp = string

/** `GET /api/messaging/me`, and the `user` of a dev login. */
export interface Identity {
  userId: string
  role: Role
  name: string
}

/** `GET /dev/users` items. */
export interface DemoUser {
  userId: string
  name: string
  role: Role
}

/** `POST /dev/login`. */
export interface DevLoginResponse {
  token: string
  user: DemoUser
  expiresInSeconds: number
}

/** The newest message of a conversation, denormalised for lists. */
export interface MessagePreview {
  messageId: string
  seq: number
  senderId: string
  senderName: string
  /** Empty when the message was deleted. */
  text: string
  deleted: boolean
  at: Timestamp
}

export interface ConversationView {
  id: string
  title: string
  projectId: string | null
  status: ConversationStatus
  createdBy: string
  createdAt: Timestamp
  updatedAt: Timestamp
  lastSeq: number
  lastActivityAt: Timestamp
  lastMessage: MessagePreview | null
}

/** An item of the caller's conversation list. */
export interface ConversationSummary extends ConversationView {
  lastReadSeq: number
  unreadCount: number
}

export interface ParticipantView {
  userId: string
  name: string
  role: Role
  joinedAt: Timestamp
  online: boolean
  /** Messages with `seq <= lastReadSeq` were read by this participant. */
  lastReadSeq: number
}

export interface ConversationDetail extends ConversationView {
  participants: ParticipantView[]
  lastReadSeq: number
  unreadCount: number
}

export interface ListPage<T> {
  items: T[]
  nextCursor: string | null
}

// ---------------------------------------------------------------------------------------
// Wire: messages and files
// ---------------------------------------------------------------------------------------

/** What a message shows of an attachment. Never a URL. */
export interface FileMeta {
  id: string
  name: string
  size: number
  contentType: string
}

export interface MessageView {
  id: string
  conversationId: string
  /** Position in the conversation: 1, 2, 3, ... with no gaps. */
  seq: number
  senderId: string
  senderName: string
  /** `null` once the message is deleted. */
  body: string | null
  clientMessageId: string
  createdAt: Timestamp
  editedAt: Timestamp | null
  deleted: boolean
  deletedAt: Timestamp | null
  files: FileMeta[]
}

/** A page of history, ascending by `seq`. */
export interface MessagePage {
  items: MessageView[]
  /** More in the direction of travel: older for the newest page and `before`, newer for `after`. */
  hasMore: boolean
}

export interface ReadReceiptView {
  conversationId: string
  userId: string
  lastReadSeq: number
  readAt: Timestamp
}

export interface SendMessageRequest {
  body: string
  clientMessageId: string
  fileIds?: string[]
}

export interface AttachmentRequest {
  name: string
  size: number
  contentType: string
}

/** A signed request: send exactly this method, URL and these headers. */
export interface SignedRequest {
  method: string
  url: string
  /** `[name, value]` pairs. Content-Length is set by the browser itself. */
  headers: [string, string][]
  expiresAt: Timestamp
}

export interface UploadSlot extends FileMeta {
  upload: SignedRequest
}

export interface UploadGrant {
  files: UploadSlot[]
  maxFiles: number
  maxBytes: number
}

export interface WsTicket {
  ticket: string
  expiresInSeconds: number
}

// ---------------------------------------------------------------------------------------
// Wire: moderation
// ---------------------------------------------------------------------------------------

export interface ReportView {
  id: string
  conversationId: string
  messageId: string
  messageSeq: number
  reporterId: string
  reason: string
  status: ReportStatus
  createdAt: Timestamp
  resolvedBy: string | null
  resolvedAt: Timestamp | null
  resolutionNote: string | null
}

export interface RevisionView {
  body: string
  kind: RevisionKind
  at: Timestamp
  by: string
}

export interface MessageAudit {
  message: MessageView
  deletedBy: string | null
  revisions: RevisionView[]
}

export interface ResolveReportRequest {
  status: 'actioned' | 'dismissed'
  note?: string
  deleteMessage?: boolean
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
// Wire: WebSocket frames (`{"type", "data"}`) and actions (`{"action", ...}`)
// ---------------------------------------------------------------------------------------

export type ServerEvent =
  | { type: 'new-message'; data: { conversationId: string; message: MessageView } }
  | { type: 'message-updated'; data: { conversationId: string; message: MessageView } }
  | {
      type: 'message-read'
      data: { conversationId: string; userId: string; lastReadSeq: number; readAt: Timestamp }
    }
  | {
      type: 'user-typing'
      data: { conversationId: string; userId: string; name: string; expiresInMs: number }
    }
  | { type: 'user-stopped-typing'; data: { conversationId: string; userId: string } }
  | { type: 'user-joined'; data: { userId: string; name: string; at: Timestamp } }
  | { type: 'user-left'; data: { userId: string; at: Timestamp } }
  | {
      type: 'conversation-updated'
      data: {
        conversation: ConversationView
        change: ConversationChange
        participants: ParticipantView[]
      }
    }
  | { type: 'resync'; data: { conversationId: string; afterSeq: number } }
  | { type: 'pong'; data: { at: Timestamp } }
  | { type: 'error'; data: { code: string; message: string; field: string | null } }

export type ServerEventType = ServerEvent['type']

export type ClientAction =
  | { action: 'typing'; conversationId: string }
  | { action: 'stop-typing'; conversationId: string }
  | { action: 'ping' }

// ---------------------------------------------------------------------------------------
// Client state
// ---------------------------------------------------------------------------------------

/**
 * The socket as the user sees it: `connecting` (first attempt), `online`, `reconnecting`
 * (lost, retrying with backoff), `offline` (the browser is offline, or the client stopped).
 */
export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline'

export interface Session {
  token: string
  user: Identity
  /** Epoch milliseconds. */
  expiresAt: number
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
