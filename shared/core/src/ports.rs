//! The ports: what the domain needs from the world, as small `Send + Sync` traits.
//!
//! Adapters live in other crates: SQLite, in-process registry and local files
//! (`messaging-embedded`); DynamoDB, S3, the API Gateway Management API and SQS
//! (`messaging-aws`); Redis (`messaging-redis`). One conformance suite per trait
//! (`tests/`) runs against every adapter, so the embedded default cannot drift from
//! DynamoDB semantics.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::directory::Profile;
use crate::error::StoreResult;
pub use crate::error::{
    BlobError, DirectoryError, DirectoryResult, PushError, RegistryError, RegistryResult, ScheduleError,
};
use crate::identity::Identity;
use crate::ids::{ClientMessageId, ConnectionId, ConversationId, FileId, MessageId, ReportId, UserId};
use crate::limits::{Limit, RateDecision};
use crate::model::*;
use crate::notify::{Mail, NotificationSettings, PushSubscription};
use crate::search::{IndexChange, IndexPage, IndexQuery};
use crate::text::{DisplayName, MessageBody, Title};
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------
// The message store: the six tables.
// ---------------------------------------------------------------------------------------

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Writes the conversation and its first participants in one atomic step.
    async fn create_conversation(&self, conversation: &Conversation, participants: &[Participant]) -> StoreResult<()>;
    async fn get_conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>>;
    /// The conversations that exist among `ids`, in no particular order.
    async fn get_conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>>;
    async fn set_status(
        &self,
        id: &ConversationId,
        status: ConversationStatus,
        at: Timestamp,
    ) -> StoreResult<Conversation>;
    async fn set_title(&self, id: &ConversationId, title: &Title, at: Timestamp) -> StoreResult<Conversation>;
    /// Every conversation, newest first, filtered (admin oversight).
    async fn search_conversations(&self, query: &ConversationQuery) -> StoreResult<Page<Conversation>>;
}

#[async_trait]
pub trait ParticipantStore: Send + Sync {
    async fn list_participants(&self, conversation: &ConversationId) -> StoreResult<Vec<Participant>>;
    /// Every conversation `user` is a participant of.
    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<ConversationId>>;
    /// The member ids of each of `conversations` that exists, in a constant number of
    /// round trips however many there are (presence reaches everyone a user shares a
    /// conversation with on every connect).
    async fn members_of(&self, conversations: &[ConversationId]) -> StoreResult<Vec<(ConversationId, Vec<UserId>)>>;
    /// Adds the participants not already in; returns those it added.
    async fn add_participants(
        &self,
        conversation: &ConversationId,
        participants: &[Participant],
    ) -> StoreResult<Vec<Participant>>;
    /// Returns whether the user was a participant.
    async fn remove_participant(&self, conversation: &ConversationId, user: &UserId) -> StoreResult<bool>;
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a message with the conversation's next `seq`, atomically with the write,
    /// unless the sender already stored one with the same client message id: then returns
    /// that one and writes nothing. Concurrent appends never share or skip a `seq`.
    /// Also advances the sender's read watermark to the new message and attaches
    /// `files` (which must be the sender's pending uploads in this conversation); a reply
    /// adds one to its root's `reply_count` in the same atomic write.
    async fn append_message(&self, message: NewMessage) -> StoreResult<Appended>;
    /// The replies of the thread whose root is at `root`, with `seq > after`, ascending,
    /// at most `limit`.
    async fn list_thread(
        &self,
        conversation: &ConversationId,
        root: u64,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>>;
    async fn get_message(&self, conversation: &ConversationId, id: &MessageId) -> StoreResult<Option<Message>>;
    /// The message `sender` stored with `client_message_id`, if any (idempotent retries).
    async fn find_by_client_id(
        &self,
        conversation: &ConversationId,
        sender: &UserId,
        client_message_id: &ClientMessageId,
    ) -> StoreResult<Option<Message>>;
    /// A slice of history in ascending `seq`.
    async fn list_messages(&self, conversation: &ConversationId, range: MessageRange) -> StoreResult<Vec<Message>>;
    /// Replaces the body, keeping the old one in the audit trail.
    async fn edit_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        body: &MessageBody,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message>;
    /// Soft delete: the body moves to the audit trail and the message becomes a tombstone.
    /// Deleting a tombstone returns it unchanged.
    async fn delete_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message>;
    /// Adds (`add`) or takes away `user`'s `emoji` on the message at `seq`, atomically
    /// with every other reaction change (concurrent reactions all count); returns the
    /// message as stored after. Adding what is there or taking away what is not changes
    /// nothing (a retry is safe). A tombstone takes none (`MessageDeleted`); a message
    /// holds at most [`crate::reactions::MAX_PER_MESSAGE`] (`LimitReached`).
    async fn react(
        &self,
        conversation: &ConversationId,
        seq: u64,
        emoji: crate::reactions::Emoji,
        user: &UserId,
        add: bool,
    ) -> StoreResult<Message>;
    /// The messages at `seqs` that exist, ascending (a conversation's pins; the messages
    /// replies quote). At most 100 seqs.
    async fn messages_at(&self, conversation: &ConversationId, seqs: &[u64]) -> StoreResult<Vec<Message>>;
    /// The seqs of the conversation's pinned messages, ascending.
    async fn pinned(&self, conversation: &ConversationId) -> StoreResult<Vec<u64>>;
    /// Pins (`pin`) or unpins the message at `seq`; the pinned seqs after, ascending.
    /// Pinning what is pinned or unpinning what is not changes nothing. At most
    /// [`MAX_PINS`] per conversation (`LimitReached`).
    async fn set_pinned(&self, conversation: &ConversationId, seq: u64, pin: bool) -> StoreResult<Vec<u64>>;
}

/// Pinned messages a conversation holds at most.
pub const MAX_PINS: usize = 50;

#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// Moves the user's watermark forward to `seq` (never back); returns the stored watermark.
    async fn mark_read(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        seq: u64,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt>;
    async fn list_receipts(&self, conversation: &ConversationId) -> StoreResult<Vec<ReadReceipt>>;
    /// The user's watermarks in the given conversations (missing ones mean nothing read).
    async fn receipts_of(&self, user: &UserId, conversations: &[ConversationId]) -> StoreResult<Vec<ReadReceipt>>;
    /// Stores the user's settings for a conversation, leaving the watermark as it is
    /// (a member who never read anything gets watermark 0, read at `at`).
    async fn set_preferences(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        preferences: Preferences,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt>;
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Records pending uploads. All or nothing.
    async fn create_files(&self, files: &[FileRecord]) -> StoreResult<()>;
    async fn get_files(&self, ids: &[FileId]) -> StoreResult<Vec<FileRecord>>;
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// `AlreadyExists` when the reporter already reported this message.
    async fn create_report(&self, report: &Report) -> StoreResult<()>;
    async fn get_report(&self, id: &ReportId) -> StoreResult<Option<Report>>;
    /// Newest first.
    async fn list_reports(
        &self,
        status: Option<ReportStatus>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<Report>>;
    /// Moves an open report to `status`; `ReportAlreadyResolved` if it is not open.
    async fn resolve_report(
        &self,
        id: &ReportId,
        status: ReportStatus,
        by: &UserId,
        at: Timestamp,
        note: Option<&str>,
    ) -> StoreResult<Report>;
}

/// Who wants to hear of what, and where: notification settings and push subscriptions
/// (a seventh table, `user_notifications`, keyed by user).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The stored settings of those of `users` who saved any (others use the defaults).
    async fn notification_settings(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, NotificationSettings)>>;
    async fn put_notification_settings(&self, user: &UserId, settings: &NotificationSettings) -> StoreResult<()>;
    /// Adds or replaces (same id) a subscription.
    async fn put_push_subscription(&self, subscription: &PushSubscription) -> StoreResult<()>;
    async fn push_subscriptions(&self, user: &UserId) -> StoreResult<Vec<PushSubscription>>;
    /// Whether there was such a subscription.
    async fn remove_push_subscription(&self, user: &UserId, id: &str) -> StoreResult<bool>;
}

/// The whole message store; every adapter implements all its parts.
pub trait Store:
    ConversationStore + ParticipantStore + MessageStore + ReceiptStore + FileStore + ReportStore + NotificationStore
{
}
impl<T> Store for T where
    T: ConversationStore + ParticipantStore + MessageStore + ReceiptStore + FileStore + ReportStore + NotificationStore
{
}

// ---------------------------------------------------------------------------------------
// Full-text search over message bodies and attachment names.
// ---------------------------------------------------------------------------------------

/// A full-text index of messages ([`crate::search`]). It answers queries within the
/// scope it is given and knows nothing of permissions; the service narrows the scope and
/// checks hits against the store.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Applies changes in order, all or nothing. Idempotent: a change applied again (a
    /// stream's redelivery) leaves the index as it was.
    async fn apply(&self, changes: &[IndexChange]) -> StoreResult<()>;
    /// The matching messages in `query.scope`, newest or best first.
    async fn search(&self, query: &IndexQuery) -> StoreResult<IndexPage>;
}

// ---------------------------------------------------------------------------------------
// The connection registry: tickets, connections, presence, typing, membership cache.
// Ephemeral state with TTLs; Redis in AWS, a map in-process locally.
// ---------------------------------------------------------------------------------------

/// Whether a change flipped the user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceChange {
    /// The user had no live connection before and has one now.
    CameOnline,
    /// The user's last live connection is gone.
    WentOffline,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub connection_id: ConnectionId,
    pub identity: Identity,
    pub connected_at: Timestamp,
    /// The connection counts as live until then; heartbeats push it forward.
    pub expires_at: Timestamp,
    /// Set by `$connect`: until then, or until the client's first frame, the connection
    /// may still be opening. API Gateway answers 410 to pushes while `$connect` runs, so a
    /// 410 then does not mean the connection is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_until: Option<Timestamp>,
}

impl ConnectionInfo {
    /// Whether a 410 for this connection at `now` may only mean "not open yet".
    pub fn is_opening(&self, now: Timestamp) -> bool {
        self.opening_until.is_some_and(|until| until > now)
    }
}

/// The result of sweeping a user's expired connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub change: PresenceChange,
    /// When the earliest remaining connection would expire, if any remain.
    pub next_expiry: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypingChange {
    Started,
    Refreshed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypingExpiry {
    /// The typing state ran out and this caller claimed it: announce "stopped".
    Expired,
    /// Still typing (refreshed since); check again at `until`.
    StillTyping { until: Timestamp },
    /// Nobody is typing (it was stopped or already expired and announced).
    NotTyping,
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Stores a single-use WebSocket ticket that expires after `ttl`.
    async fn put_ticket(&self, ticket: &str, identity: &Identity, ttl: Duration) -> RegistryResult<()>;
    /// Returns and deletes the ticket's identity, if it exists and has not expired.
    async fn take_ticket(&self, ticket: &str) -> RegistryResult<Option<Identity>>;
}

#[async_trait]
pub trait ConnectionRegistry: Send + Sync {
    async fn add_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange>;
    /// Heartbeat: pushes the connection's expiry to `expires_at`. Re-registers it (with
    /// `identity`) when it had already been swept, so a late heartbeat heals presence.
    async fn touch_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange>;
    /// Forgets a connection; returns its owner and whether they went offline.
    async fn remove_connection(
        &self,
        id: &ConnectionId,
        now: Timestamp,
    ) -> RegistryResult<Option<(UserId, PresenceChange)>>;
    async fn get_connection(&self, id: &ConnectionId) -> RegistryResult<Option<ConnectionInfo>>;
    /// Live connections of the given users.
    async fn connections_of(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<(UserId, ConnectionId)>>;
    /// The subset of `users` with a live connection.
    async fn online_users(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<UserId>>;
    /// Drops the user's expired connections (missed `$disconnect`s) and reports whether
    /// that took them offline.
    async fn sweep_user(&self, user: &UserId, now: Timestamp) -> RegistryResult<Sweep>;
    /// Claims the right to schedule the user's next presence check; false while one is pending.
    async fn claim_presence_check(&self, user: &UserId, ttl: Duration) -> RegistryResult<bool>;
    async fn release_presence_check(&self, user: &UserId) -> RegistryResult<()>;
}

#[async_trait]
pub trait TypingRegistry: Send + Sync {
    async fn set_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        until: Timestamp,
    ) -> RegistryResult<TypingChange>;
    /// Ends typing; true if the user was typing (the caller then announces "stopped").
    async fn clear_typing(&self, conversation: &ConversationId, user: &UserId) -> RegistryResult<bool>;
    async fn expire_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        now: Timestamp,
    ) -> RegistryResult<TypingExpiry>;
}

#[async_trait]
pub trait MembershipCache: Send + Sync {
    async fn cached_members(&self, conversation: &ConversationId) -> RegistryResult<Option<Vec<UserId>>>;
    async fn cache_members(
        &self,
        conversation: &ConversationId,
        members: &[UserId],
        ttl: Duration,
    ) -> RegistryResult<()>;
    async fn invalidate_members(&self, conversation: &ConversationId) -> RegistryResult<()>;
}

/// Per-conversation delivery order. Sends to one conversation can run concurrently (in
/// separate Lambda invocations); pushing message `seq` only after `seq - 1` was pushed keeps
/// every socket's view in `seq` order. The wait is bounded: a sender that died between its
/// write and its push must not stall the conversation (clients fill such a gap with
/// `after=<seq>`).
#[async_trait]
pub trait DeliveryOrder: Send + Sync {
    /// Waits until `seq - 1` was delivered (or nothing is known about the conversation) or
    /// `timeout` passes; returns false on timeout.
    async fn wait_turn(&self, conversation: &ConversationId, seq: u64, timeout: Duration) -> RegistryResult<bool>;
    /// Records that `seq` was delivered (the watermark only moves forward).
    async fn mark_delivered(&self, conversation: &ConversationId, seq: u64) -> RegistryResult<()>;
}

/// Directory profiles kept for a while, shared by every function (see
/// [`crate::directory::CachedDirectory`]).
#[async_trait]
pub trait ProfileCache: Send + Sync {
    /// The cached profiles among `ids` (misses are left out).
    async fn cached_profiles(&self, ids: &[UserId]) -> RegistryResult<Vec<Profile>>;
    async fn cache_profiles(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()>;
    /// The whole directory, as last listed.
    async fn cached_listing(&self) -> RegistryResult<Option<Vec<Profile>>>;
    async fn cache_listing(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()>;
    async fn forget_listing(&self) -> RegistryResult<()>;
}

/// Per-user allowances ([`crate::limits`]). One atomic step per try, so that concurrent
/// functions share one allowance.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes one action from `key`'s allowance under `limit` at `now`; a refusal takes
    /// nothing.
    async fn acquire(&self, key: &str, limit: Limit, now: Timestamp) -> RegistryResult<RateDecision>;
}

/// Short exclusive claims: the first message of a burst claims its notification, the
/// others of the burst find it claimed (one notification per burst).
#[async_trait]
pub trait Claims: Send + Sync {
    /// True if `key` was free (it is now held for `ttl`), false if someone holds it.
    async fn claim(&self, key: &str, ttl: Duration) -> RegistryResult<bool>;
    async fn release(&self, key: &str) -> RegistryResult<()>;
}

/// The whole registry.
pub trait Registry:
    TicketStore
    + ConnectionRegistry
    + TypingRegistry
    + MembershipCache
    + DeliveryOrder
    + ProfileCache
    + RateLimiter
    + Claims
{
}
impl<T> Registry for T where
    T: TicketStore
        + ConnectionRegistry
        + TypingRegistry
        + MembershipCache
        + DeliveryOrder
        + ProfileCache
        + RateLimiter
        + Claims
{
}

// ---------------------------------------------------------------------------------------
// The user directory: who people are (Cognito in AWS, the gateway's directory locally).
// ---------------------------------------------------------------------------------------

#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The profiles of those of `ids` the directory knows, active or not, in no
    /// particular order.
    async fn profiles(&self, ids: &[UserId]) -> DirectoryResult<Vec<Profile>>;
    /// Every profile (people search filters and pages them: [`crate::directory::PeopleQuery`]).
    async fn all_profiles(&self) -> DirectoryResult<Vec<Profile>>;
    /// Enables or disables a user; `None` if the directory does not know them.
    async fn set_active(&self, id: &UserId, active: bool) -> DirectoryResult<Option<Profile>>;
    /// A new display name; `None` if the directory does not know them.
    async fn set_name(&self, id: &UserId, name: &DisplayName) -> DirectoryResult<Option<Profile>>;
}

// ---------------------------------------------------------------------------------------
// Pushing to connections (API Gateway Management API `@connections`).
// ---------------------------------------------------------------------------------------

#[async_trait]
pub trait ConnectionPusher: Send + Sync {
    async fn push(&self, connection: &ConnectionId, payload: &[u8]) -> Result<(), PushError>;
    /// Closes the connection (`DELETE @connections/{id}`); the gateway then runs
    /// `$disconnect` for it. A connection already gone is not an error.
    async fn close(&self, connection: &ConnectionId) -> Result<(), PushError>;
}

// ---------------------------------------------------------------------------------------
// Notifications out of the product: Web Push and email.
// ---------------------------------------------------------------------------------------

/// Why a push or an email did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The push service no longer knows the subscription (404 or 410): forget it.
    #[error("subscription expired")]
    Gone,
    /// Refused for good (a 4xx other than 404/410/429): retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// Worth retrying later (network, 5xx, 429).
    #[error("temporary failure: {0}")]
    Temporary(String),
}

/// Web Push (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID) to a subscription's
/// push service. One implementation in every environment: the push service is the
/// browser's (or, in tests, one the test crate runs).
#[async_trait]
pub trait PushSender: Send + Sync {
    /// The VAPID public key browsers subscribe with (base64url, uncompressed P-256).
    fn public_key(&self) -> String;
    async fn send(&self, subscription: &PushSubscription, payload: &[u8], ttl: Duration) -> Result<(), SendFailure>;
}

/// Email out: SES v2 in AWS, an outbox folder locally.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), SendFailure>;
}

// ---------------------------------------------------------------------------------------
// Blobs (attachments) behind signed URLs.
// ---------------------------------------------------------------------------------------

/// A signed request the browser performs itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SignedRequest {
    pub method: String,
    pub url: String,
    /// Headers the browser must send exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHead {
    pub size: u64,
    pub content_type: Option<String>,
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// A PUT whose signature fixes the exact size and content type.
    async fn sign_upload(
        &self,
        key: &str,
        size: u64,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError>;
    /// A GET that downloads under `file_name`.
    async fn sign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<BlobHead>, BlobError>;
    /// Up to `len` bytes from the start of the object, to check what it really is.
    async fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, BlobError>;
    /// Marks an upload as kept (`attached`) or back to `pending`: pending uploads are
    /// removed after a day (S3 lifecycle rule on the `status=pending` tag; the local store
    /// sweeps them).
    async fn set_attached(&self, key: &str, attached: bool) -> Result<(), BlobError>;
}

// ---------------------------------------------------------------------------------------
// Delayed tasks: the serverless stand-in for timers (SQS delay queue in AWS).
// ---------------------------------------------------------------------------------------

/// Work to do later. Serialised as JSON into the queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case")]
pub enum DelayedTask {
    /// Announce `user-stopped-typing` if the user has not refreshed typing since.
    #[serde(rename_all = "camelCase")]
    TypingExpiry {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    /// Drop the user's expired connections; announce `user-left` if none remain.
    #[serde(rename_all = "camelCase")]
    PresenceCheck { user_id: UserId },
    /// The end of a conversation's burst: push to members who are away and have not
    /// read it, and schedule their email digests.
    #[serde(rename_all = "camelCase")]
    NotifyConversation {
        conversation_id: ConversationId,
        /// The burst's first message.
        from_seq: u64,
    },
    /// A member's email digest of a conversation, from `from_seq` on, if still unread.
    #[serde(rename_all = "camelCase")]
    EmailDigest {
        conversation_id: ConversationId,
        user_id: UserId,
        from_seq: u64,
        /// Not before then: a queue that delays at most 15 minutes delivers it early and
        /// it is queued again for the rest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_before: Option<Timestamp>,
    },
}

#[async_trait]
pub trait TaskScheduler: Send + Sync {
    async fn schedule(&self, task: DelayedTask, delay: Duration) -> Result<(), ScheduleError>;
}
