//! The six tables' rows, as the domain sees them.
//!
//! These mirror the relational schema (`conversations`, `messages`,
//! `conversation_participants`, `message_files`, `message_read_receipts`,
//! `message_reports`). What the wire shows of them is in [`crate::views`]; the audit trail
//! (`Message::revisions`) is here and never there.

use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::error::{Error, StoreError};
pub use crate::identity::Role;
use crate::ids::{ClientMessageId, ConversationId, FileId, MessageId, ProjectId, ReportId, UserId};
use crate::notify::NotifyLevel;
use crate::text::{MessageBody, Title};
use crate::time::Timestamp;

/// How many times one message may be edited. Bounded so that a message and its audit
/// trail always fit one DynamoDB item (400 KB): 11 bodies of at most 20 KB each.
pub const MAX_EDITS: u32 = 10;

string_enum!(
    /// A conversation's lifecycle. Closed conversations accept no new messages.
    ConversationStatus, "status" { Open => "open", Archived => "archived", Closed => "closed" }
);
string_enum!(
    /// A report's lifecycle: open until a moderator actions or dismisses it.
    ReportStatus, "status" { Open => "open", Actioned => "actioned", Dismissed => "dismissed" }
);
string_enum!(
    /// An attachment is `pending` from the upload URL until a message claims it.
    FileStatus, "status" { Pending => "pending", Attached => "attached" }
);
string_enum!(
    /// Why a revision was written to a message's audit trail.
    RevisionKind, "kind" { Edited => "edited", Deleted => "deleted" }
);

/// `conversations` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub title: Title,
    pub project_id: Option<ProjectId>,
    pub status: ConversationStatus,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The `seq` of the newest message; 0 before the first. The next message gets `last_seq + 1`.
    pub last_seq: u64,
    pub last_message: Option<MessagePreview>,
}

impl Conversation {
    /// When the conversation last saw a message (or was created); lists sort by it.
    pub fn last_activity_at(&self) -> Timestamp {
        self.last_message.as_ref().map_or(self.created_at, |m| m.at)
    }
}

/// The newest message of a conversation, denormalised onto the conversation row so that a
/// conversation list costs no message reads. Edits and deletes of that message rewrite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreview {
    pub message_id: MessageId,
    pub seq: u64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// The first 140 characters of the body; empty once the message is deleted.
    pub text: String,
    pub deleted: bool,
    pub at: Timestamp,
}

/// `conversation_participants` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub role: Role,
    pub display_name: String,
    pub joined_at: Timestamp,
    pub added_by: UserId,
}

/// `messages` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// `None` once deleted: the body never leaves the store again except in the audit trail.
    pub body: Option<String>,
    pub client_message_id: ClientMessageId,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub edit_count: u32,
    pub deleted_at: Option<Timestamp>,
    pub deleted_by: Option<UserId>,
    pub files: Vec<FileMeta>,
    /// Audit trail, oldest first: every body this message had before an edit or delete.
    pub revisions: Vec<Revision>,
    /// The participants the body mentioned when it was sent ([`crate::notify::mentions_in`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// Emoji reactions, in vocabulary order ([`crate::reactions`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<crate::reactions::Reaction>,
    /// A reply: where it sits in a thread ([`Reply`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// A thread's root: how many replies it has (all of its thread, replies to replies too).
    #[serde(default)]
    pub reply_count: u32,
}

/// What makes a message a reply: the message it quotes, and the thread it belongs to
/// (the quoted message's thread, or the quoted message itself when that is no reply).
/// Both are seqs of the same conversation; replies also sit in the main timeline, in seq
/// order, so catching up with `after=` recovers threads too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub to: u64,
    pub root: u64,
}

impl Reply {
    /// A reply to `original`.
    pub fn to(original: &Message) -> Self {
        Self {
            to: original.seq,
            root: original.reply.map_or(original.seq, |r| r.root),
        }
    }
}

impl Message {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn preview(&self) -> MessagePreview {
        MessagePreview {
            message_id: self.id.clone(),
            seq: self.seq,
            sender_id: self.sender_id.clone(),
            sender_name: self.sender_name.clone(),
            text: self.body.as_deref().map(MessageBody::preview).unwrap_or_default(),
            deleted: self.is_deleted(),
            at: self.created_at,
        }
    }

    /// The message after `by` replaced its body at `at`: the old body goes to the audit
    /// trail. Tombstones cannot be edited, and a message at most [`MAX_EDITS`] times.
    /// Adapters persist the result on the condition that the stored message is still
    /// `self` (its `edit_count` and `deleted_at`).
    pub fn edited(&self, body: &MessageBody, by: &UserId, at: Timestamp) -> Result<Message, StoreError> {
        if self.is_deleted() {
            return Err(StoreError::MessageDeleted);
        }
        if self.edit_count >= MAX_EDITS {
            return Err(StoreError::EditLimitReached(MAX_EDITS));
        }
        let mut edited = self.clone();
        let old = edited.body.replace(body.to_string()).unwrap_or_default();
        edited.revisions.push(Revision {
            body: old,
            kind: RevisionKind::Edited,
            at,
            by: by.clone(),
        });
        edited.edit_count += 1;
        edited.edited_at = Some(at);
        Ok(edited)
    }

    /// The tombstone `by` leaves by deleting the message at `at`: the body goes to the
    /// audit trail. `None` when the message is a tombstone already (deleting it again
    /// changes nothing).
    pub fn tombstoned(&self, by: &UserId, at: Timestamp) -> Option<Message> {
        if self.is_deleted() {
            return None;
        }
        let mut tombstone = self.clone();
        let old = tombstone.body.take().unwrap_or_default();
        tombstone.revisions.push(Revision {
            body: old,
            kind: RevisionKind::Deleted,
            at,
            by: by.clone(),
        });
        tombstone.deleted_at = Some(at);
        tombstone.deleted_by = Some(by.clone());
        Some(tombstone)
    }

    /// Whether this message already carries the revision `by` made at `at`: a change
    /// whose answer was lost and is being retried was in fact applied.
    pub fn has_revision(&self, kind: RevisionKind, by: &UserId, at: Timestamp) -> bool {
        self.revisions
            .last()
            .is_some_and(|r| r.kind == kind && &r.by == by && r.at == at)
    }
}

/// One entry of a message's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    pub kind: RevisionKind,
    pub at: Timestamp,
    pub by: UserId,
}

/// What a message page shows of an attachment. Never a URL: downloads are presigned on
/// request, for members only, and expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FileMeta {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

/// `message_files` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: FileId,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// Where the bytes live in the blob store.
    pub object_key: String,
    pub status: FileStatus,
    pub message_id: Option<MessageId>,
    pub created_at: Timestamp,
    /// A pending upload is forgotten after this (DynamoDB TTL, S3 lifecycle rule).
    pub expires_at: Timestamp,
}

impl FileRecord {
    pub fn meta(&self) -> FileMeta {
        FileMeta {
            id: self.id.clone(),
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
        }
    }
}

/// `message_read_receipts` row: one watermark per member, not a row per message per reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// Every message with `seq <= last_read_seq` has been read by this user.
    pub last_read_seq: u64,
    pub read_at: Timestamp,
    /// The member's own settings for this conversation, kept on the same row: the list
    /// reads them with the watermarks, in the same batch.
    #[serde(default)]
    pub preferences: Preferences,
}

/// A member's settings for one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// No notifications and no unread emphasis; the messages still arrive.
    pub muted: bool,
    /// Hidden from the member's list until a message newer than this `seq` arrives.
    pub hidden_through: Option<u64>,
    /// Which messages notify; `None` follows the member's own default.
    #[serde(default)]
    pub notify: Option<NotifyLevel>,
    /// No emails about this conversation (its unsubscribe link sets it).
    #[serde(default)]
    pub email_off: bool,
}

impl Preferences {
    /// The level that applies given the member's default: muted means nothing.
    pub fn level(&self, default: NotifyLevel) -> NotifyLevel {
        if self.muted {
            NotifyLevel::None
        } else {
            self.notify.unwrap_or(default)
        }
    }

    /// Whether a conversation whose newest message is `last_seq` stays out of the list.
    pub fn hides(&self, last_seq: u64) -> bool {
        self.hidden_through.is_some_and(|through| last_seq <= through)
    }
}

/// `message_reports` row. One report per reporter per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: ReportId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub message_seq: u64,
    pub reporter_id: UserId,
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: Timestamp,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<Timestamp>,
    pub resolution_note: Option<String>,
}

/// A message to append; the store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub sender_name: String,
    pub body: MessageBody,
    pub client_message_id: ClientMessageId,
    pub created_at: Timestamp,
    /// Pending uploads of the sender in this conversation; attached atomically with the write.
    pub files: Vec<FileMeta>,
    pub mentions: Vec<UserId>,
    /// A reply: the root's `reply_count` goes up atomically with the write.
    pub reply: Option<Reply>,
}

impl NewMessage {
    /// The message as stored once it has its `seq`.
    pub fn into_message(self, seq: u64) -> Message {
        Message {
            id: self.id,
            conversation_id: self.conversation_id,
            seq,
            sender_id: self.sender_id,
            sender_name: self.sender_name,
            body: Some(self.body.into()),
            client_message_id: self.client_message_id,
            created_at: self.created_at,
            edited_at: None,
            edit_count: 0,
            deleted_at: None,
            deleted_by: None,
            files: self.files,
            revisions: Vec::new(),
            mentions: self.mentions,
            reactions: Vec::new(),
            reply: self.reply,
            reply_count: 0,
        }
    }
}

/// The result of an append: a new message, or the one an earlier try of the same
/// `client_message_id` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    Created(Message),
    Existing(Message),
}

impl Appended {
    pub fn message(&self) -> &Message {
        match self {
            Appended::Created(m) | Appended::Existing(m) => m,
        }
    }
}

/// Which slice of a conversation's history to read. Results are always in ascending `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRange {
    /// The newest `limit` messages.
    Latest { limit: usize },
    /// The newest `limit` messages with `seq < before` (scrolling back).
    Before { seq: u64, limit: usize },
    /// The oldest `limit` messages with `seq > after` (catching up).
    After { seq: u64, limit: usize },
}

/// Messages per history page: 50 unless asked, at most 100.
pub const HISTORY_PAGE: PageSize = PageSize { default: 50, max: 100 };
/// Items per list page (conversations, reports): 20 unless asked, at most 100.
pub const LIST_PAGE: PageSize = PageSize { default: 20, max: 100 };

/// A page size rule: a default, and a ceiling so that no request reads unbounded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    pub default: usize,
    pub max: usize,
}

impl PageSize {
    /// The `limit` a request asked for, checked.
    pub fn parse(&self, requested: Option<usize>) -> Result<usize, Error> {
        match requested {
            None => Ok(self.default),
            Some(n) if (1..=self.max).contains(&n) => Ok(n),
            Some(_) => Err(Error::invalid("limit", format!("must be between 1 and {}", self.max))),
        }
    }
}

impl MessageRange {
    /// A history page from a request's `before`, `after` and `limit`: `before` pages back,
    /// `after` catches up, neither gives the newest; not both.
    pub fn parse(before: Option<u64>, after: Option<u64>, limit: Option<usize>) -> Result<Self, Error> {
        let limit = HISTORY_PAGE.parse(limit)?;
        match (before, after) {
            (Some(_), Some(_)) => Err(Error::invalid("before", "give either before or after, not both")),
            (Some(seq), None) => Ok(MessageRange::Before { seq, limit }),
            (None, Some(seq)) => Ok(MessageRange::After { seq, limit }),
            (None, None) => Ok(MessageRange::Latest { limit }),
        }
    }

    pub fn limit(&self) -> usize {
        match *self {
            MessageRange::Latest { limit } | MessageRange::Before { limit, .. } | MessageRange::After { limit, .. } => {
                limit
            }
        }
    }
}

/// A page of results and the opaque cursor for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// Admin search over every conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationQuery {
    pub status: Option<ConversationStatus>,
    /// Lower-case text that must occur in the title...
    pub text: Option<String>,
    /// ...or a user that must be a participant (`text` and `participant` both given:
    /// a conversation must match both).
    pub participant: Option<UserId>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

impl ConversationQuery {
    /// An admin search from a request: the text is matched case-insensitively, blank text
    /// matches everything.
    pub fn parse(
        status: Option<ConversationStatus>,
        text: Option<&str>,
        participant: Option<UserId>,
        cursor: Option<Cursor>,
        limit: Option<usize>,
    ) -> Result<Self, Error> {
        Ok(ConversationQuery {
            status,
            text: text.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()),
            participant,
            cursor,
            limit: LIST_PAGE.parse(limit)?,
        })
    }
}
