// Generated from the Rust wire types by tests/tests/web_wire_types.rs (ts-rs); do not edit.
// Regenerate: `make web-types` (WRITE_DOCS=1 cargo test -p integration-tests --test web_wire_types).

export type Timestamp = string;
export type Cursor = string;
export type UserId = string;
export type ConversationId = string;
export type MessageId = string;
export type FileId = string;
export type ReportId = string;
export type ProjectId = string;
export type ClientMessageId = string;
export type Role = "client" | "team" | "admin";
export type ConversationStatus = "open" | "archived" | "closed";
export type ReportStatus = "open" | "actioned" | "dismissed";
export type RevisionKind = "edited" | "deleted";
export type ConversationChange = "status" | "title" | "participants";
export type Identity = { userId: UserId, role: Role, 
/**
 * Display name; the user id when the token carries none.
 */
name: string, };
export type ProfileView = { userId: UserId, name: string, role: Role, organisation: string | null, initials: string, colour: string | null, 
/**
 * Shown to the team, to admins and to the person themselves; `null` to other clients.
 */
email: string | null, active: boolean, };
export type PreferencesView = { conversationId: ConversationId, muted: boolean, hidden: boolean, 
/**
 * Which messages notify the caller; `null` follows their own default.
 */
notify: NotifyLevel | null, 
/**
 * Emails about this conversation (off once unsubscribed).
 */
email: boolean, };
export type PreviewView = { messageId: MessageId, seq: number, senderId: UserId, senderName: string, 
/**
 * Empty when the message was deleted.
 */
text: string, deleted: boolean, at: Timestamp, };
export type ConversationView = { id: ConversationId, title: string, projectId: ProjectId | null, status: ConversationStatus, createdBy: UserId, createdAt: Timestamp, updatedAt: Timestamp, lastSeq: number, lastActivityAt: Timestamp, lastMessage: PreviewView | null, };
export type ConversationSummary = { lastReadSeq: number, 
/**
 * Messages after the caller's watermark. Sending advances the sender's own
 * watermark, so a user's own messages never count as unread.
 */
unreadCount: number, 
/**
 * The caller muted it: no notifications, no unread emphasis.
 */
muted: boolean, 
/**
 * The caller hid it until a newer message; only a search lists it then.
 */
hidden: boolean, 
/**
 * Which messages notify the caller; `null` follows their own default.
 */
notify: NotifyLevel | null, 
/**
 * Emails about this conversation (off once unsubscribed).
 */
email: boolean, id: ConversationId, title: string, projectId: ProjectId | null, status: ConversationStatus, createdBy: UserId, createdAt: Timestamp, updatedAt: Timestamp, lastSeq: number, lastActivityAt: Timestamp, lastMessage: PreviewView | null, };
export type ParticipantView = { userId: UserId, name: string, role: Role, 
/**
 * The client's company, from the directory.
 */
organisation: string | null, joinedAt: Timestamp, online: boolean, 
/**
 * The participant's read watermark: messages with `seq <= lastReadSeq` were read.
 */
lastReadSeq: number, };
export type ConversationDetail = { participants: Array<ParticipantView>, lastReadSeq: number, unreadCount: number, muted: boolean, hidden: boolean, 
/**
 * Which messages notify the caller; `null` follows their own default.
 */
notify: NotifyLevel | null, 
/**
 * Emails about this conversation (off once unsubscribed).
 */
email: boolean, id: ConversationId, title: string, projectId: ProjectId | null, status: ConversationStatus, createdBy: UserId, createdAt: Timestamp, updatedAt: Timestamp, lastSeq: number, lastActivityAt: Timestamp, lastMessage: PreviewView | null, };
export type ListPage<T> = { items: Array<T>, nextCursor: Cursor | null, };
export type FileMeta = { id: FileId, name: string, size: number, contentType: string, };
export type MessageView = { id: MessageId, conversationId: ConversationId, seq: number, senderId: UserId, senderName: string, 
/**
 * `null` once the message is deleted.
 */
body: string | null, clientMessageId: string, createdAt: Timestamp, editedAt: Timestamp | null, deleted: boolean, deletedAt: Timestamp | null, files: Array<FileMeta>, 
/**
 * The participants the body mentions (user ids); the client highlights their names.
 */
mentions: Array<UserId>, 
/**
 * Emoji reactions and who reacted, in the vocabulary's order.
 */
reactions: Array<Reaction>, 
/**
 * A reply: the seq of the message it quotes (jump to it there).
 */
replyToSeq: number | null, 
/**
 * A reply: the quoted message as it is now (its excerpt empty once it is deleted).
 */
quote: QuoteView | null, 
/**
 * A reply: the seq of its thread's root.
 */
threadRoot: number | null, 
/**
 * A thread's root: how many replies the thread has.
 */
replyCount: number, };
export type MessagePage = { items: Array<MessageView>, 
/**
 * Whether more messages exist in the direction of travel: older ones for the newest
 * page and `before`, newer ones for `after`.
 */
hasMore: boolean, };
export type ReadReceiptView = { conversationId: ConversationId, userId: UserId, lastReadSeq: number, readAt: Timestamp, };
export type AttachmentRequest = { name: string, size: number, contentType: string, };
export type SignedRequest = { method: string, url: string, 
/**
 * Headers the browser must send exactly as given (they are part of the signature).
 */
headers: Array<[string, string]>, expiresAt: Timestamp, };
export type UploadSlot = { upload: SignedRequest, id: FileId, name: string, size: number, contentType: string, };
export type UploadGrant = { files: Array<UploadSlot>, maxFiles: number, maxBytes: number, };
export type Ticket = { ticket: string, expiresInSeconds: number, };
export type ReportView = { id: ReportId, conversationId: ConversationId, messageId: MessageId, messageSeq: number, reporterId: UserId, reason: string, status: ReportStatus, createdAt: Timestamp, resolvedBy: UserId | null, resolvedAt: Timestamp | null, resolutionNote: string | null, };
export type RevisionView = { body: string, kind: RevisionKind, at: Timestamp, by: UserId, };
export type MessageAudit = { message: MessageView, deletedBy: UserId | null, revisions: Array<RevisionView>, };
export type Reaction = { emoji: string, 
/**
 * Who reacted with it, by id (sorted).
 */
userIds: Array<UserId>, };
export type PinnedMessages = { items: Array<MessageView>, };
export type QuoteView = { messageId: MessageId, seq: number, senderId: UserId, senderName: string, 
/**
 * The first 140 characters of its body; empty once deleted.
 */
excerpt: string, deleted: boolean, 
/**
 * How many files it has (a quote of a file shows its count).
 */
fileCount: number, };
export type ThreadPage = { root: MessageView, items: Array<MessageView>, 
/**
 * Whether later replies exist: ask again with `after` = the last `seq` here.
 */
hasMore: boolean, };
export type SnippetPart = { text: string, 
/**
 * Whether this piece matched the query.
 */
match: boolean, };
export type SearchResultView = { conversationId: ConversationId, conversationTitle: string, message: MessageView, 
/**
 * The matching passage, matched words marked.
 */
snippet: Array<SnippetPart>, };
export type NotifyLevel = "all" | "mentions" | "none";
export type QuietHoursView = { 
/**
 * `HH:MM`, local time.
 */
start: string, end: string, 
/**
 * An IANA time zone name (`Europe/Paris`).
 */
timeZone: string, };
export type NotificationSettingsView = { level: NotifyLevel, push: boolean, email: boolean, emailDelaySeconds: number, quietHours: QuietHoursView | null, };
export type PushSubscriptionView = { id: string, 
/**
 * The push service (`https://fcm.googleapis.com`).
 */
service: string, createdAt: Timestamp, userAgent: string | null, };
export type Unsubscribed = { conversationId: ConversationId, title: string, };
export type ServerEvent = { "type": "new-message", "data": { conversationId: ConversationId, message: MessageView, } } | { "type": "message-updated", "data": { conversationId: ConversationId, message: MessageView, } } | { "type": "message-reactions", "data": { conversationId: ConversationId, messageId: MessageId, seq: number, 
/**
 * Who changed a reaction, which, and whether they added it.
 */
userId: UserId, emoji: string, added: boolean, reactions: Array<Reaction>, } } | { "type": "pins-updated", "data": { conversationId: ConversationId, pinnedSeqs: Array<number>, 
/**
 * What changed: `seq` was pinned (`pinned`) or unpinned, by `userId`.
 */
seq: number, pinned: boolean, userId: UserId, } } | { "type": "message-read", "data": { conversationId: ConversationId, userId: UserId, lastReadSeq: number, readAt: Timestamp, } } | { "type": "user-typing", "data": { conversationId: ConversationId, userId: UserId, name: string, expiresInMs: number, } } | { "type": "user-stopped-typing", "data": { conversationId: ConversationId, userId: UserId, } } | { "type": "user-joined", "data": { userId: UserId, name: string, at: Timestamp, } } | { "type": "user-left", "data": { userId: UserId, at: Timestamp, } } | { "type": "user-updated", "data": { userId: UserId, name: string, role: Role, organisation: string | null, initials: string, colour: string | null, } } | { "type": "preferences-updated", "data": { conversationId: ConversationId, muted: boolean, hidden: boolean, notify: NotifyLevel | null, email: boolean, } } | { "type": "conversation-updated", "data": { conversation: ConversationView, change: ConversationChange, participants: Array<ParticipantView>, } } | { "type": "resync", "data": { conversationId: ConversationId, afterSeq: number, } } | { "type": "pong", "data": { at: Timestamp, } } | { "type": "error", "data": { code: string, message: string, field: string | null, } };
export type ClientAction = { "action": "typing", conversationId: ConversationId, } | { "action": "stop-typing", conversationId: ConversationId, } | { "action": "ping" };
