//! What the wire shows: JSON shapes of REST responses and WebSocket events (camelCase).
//!
//! Views are built from the model and leave out what clients must never see: a deleted
//! message's body, the audit trail, object keys of attachments.

use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::ids::{ConversationId, MessageId, ProjectId, ReportId, UserId};
use crate::model::*;
use crate::notify::NotifyLevel;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: ConversationId,
    pub title: String,
    pub project_id: Option<ProjectId>,
    pub status: ConversationStatus,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_seq: u64,
    pub last_activity_at: Timestamp,
    pub last_message: Option<PreviewView>,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.clone(),
            title: c.title.to_string(),
            project_id: c.project_id.clone(),
            status: c.status,
            created_by: c.created_by.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_seq: c.last_seq,
            last_activity_at: c.last_activity_at(),
            last_message: c.last_message.as_ref().map(PreviewView::from),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PreviewView {
    pub message_id: MessageId,
    pub seq: u64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// Empty when the message was deleted.
    pub text: String,
    pub deleted: bool,
    pub at: Timestamp,
}

impl From<&MessagePreview> for PreviewView {
    fn from(p: &MessagePreview) -> Self {
        Self {
            message_id: p.message_id.clone(),
            seq: p.seq,
            sender_id: p.sender_id.clone(),
            sender_name: p.sender_name.clone(),
            text: if p.deleted { String::new() } else { p.text.clone() },
            deleted: p.deleted,
            at: p.at,
        }
    }
}

/// An item of the caller's conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    #[serde(flatten)]
    pub conversation: ConversationView,
    pub last_read_seq: u64,
    /// Messages after the caller's watermark. Sending advances the sender's own
    /// watermark, so a user's own messages never count as unread.
    pub unread_count: u64,
    /// The caller muted it: no notifications, no unread emphasis.
    pub muted: bool,
    /// The caller hid it until a newer message; only a search lists it then.
    pub hidden: bool,
    /// Which messages notify the caller; `null` follows their own default.
    pub notify: Option<NotifyLevel>,
    /// Emails about this conversation (off once unsubscribed).
    pub email: bool,
}

/// One conversation with its participants, for a member (or an admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: ConversationView,
    pub participants: Vec<ParticipantView>,
    pub last_read_seq: u64,
    pub unread_count: u64,
    pub muted: bool,
    pub hidden: bool,
    /// Which messages notify the caller; `null` follows their own default.
    pub notify: Option<NotifyLevel>,
    /// Emails about this conversation (off once unsubscribed).
    pub email: bool,
}

/// The caller's settings for one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PreferencesView {
    pub conversation_id: ConversationId,
    pub muted: bool,
    pub hidden: bool,
    /// Which messages notify the caller; `null` follows their own default.
    pub notify: Option<NotifyLevel>,
    /// Emails about this conversation (off once unsubscribed).
    pub email: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ParticipantView {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    /// The client's company, from the directory.
    pub organisation: Option<String>,
    pub joined_at: Timestamp,
    pub online: bool,
    /// The participant's read watermark: messages with `seq <= lastReadSeq` were read.
    pub last_read_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// `null` once the message is deleted.
    pub body: Option<String>,
    pub client_message_id: String,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    pub deleted_at: Option<Timestamp>,
    pub files: Vec<FileMeta>,
    /// The participants the body mentions (user ids); the client highlights their names.
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// Emoji reactions and who reacted, in the vocabulary's order.
    #[serde(default)]
    pub reactions: Vec<crate::reactions::Reaction>,
    /// A reply: the seq of the message it quotes (jump to it there).
    #[serde(default)]
    pub reply_to_seq: Option<u64>,
    /// A reply: the quoted message as it is now (its excerpt empty once it is deleted).
    #[serde(default)]
    pub quote: Option<QuoteView>,
    /// A reply: the seq of its thread's root.
    #[serde(default)]
    pub thread_root: Option<u64>,
    /// A thread's root: how many replies the thread has.
    #[serde(default)]
    pub reply_count: u32,
}

/// The message a reply quotes, as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    pub message_id: MessageId,
    pub seq: u64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// The first 140 characters of its body; empty once deleted.
    pub excerpt: String,
    pub deleted: bool,
    /// How many files it has (a quote of a file shows its count).
    pub file_count: u32,
}

impl From<&Message> for QuoteView {
    fn from(m: &Message) -> Self {
        let deleted = m.is_deleted();
        Self {
            message_id: m.id.clone(),
            seq: m.seq,
            sender_id: m.sender_id.clone(),
            sender_name: m.sender_name.clone(),
            excerpt: if deleted {
                String::new()
            } else {
                m.body
                    .as_deref()
                    .map(crate::text::MessageBody::preview)
                    .unwrap_or_default()
            },
            deleted,
            file_count: if deleted { 0 } else { m.files.len() as u32 },
        }
    }
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        let deleted = m.is_deleted();
        Self {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: m.seq,
            sender_id: m.sender_id.clone(),
            sender_name: m.sender_name.clone(),
            // Belt and braces: stores already drop the body on delete.
            body: if deleted { None } else { m.body.clone() },
            client_message_id: m.client_message_id.to_string(),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted,
            deleted_at: m.deleted_at,
            // A tombstone shows no attachments either.
            files: if deleted { Vec::new() } else { m.files.clone() },
            mentions: if deleted { Vec::new() } else { m.mentions.clone() },
            reactions: if deleted { Vec::new() } else { m.reactions.clone() },
            reply_to_seq: m.reply.map(|r| r.to),
            // Filled by the service, which reads the quoted message.
            quote: None,
            thread_root: m.reply.map(|r| r.root),
            reply_count: m.reply_count,
        }
    }
}

/// A page of history, ascending by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub items: Vec<MessageView>,
    /// Whether more messages exist in the direction of travel: older ones for the newest
    /// page and `before`, newer ones for `after`.
    pub has_more: bool,
}

/// One revision of the audit trail (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RevisionView {
    pub body: String,
    pub kind: RevisionKind,
    pub at: Timestamp,
    pub by: UserId,
}

/// A message with its audit trail (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct MessageAudit {
    pub message: MessageView,
    pub deleted_by: Option<UserId>,
    pub revisions: Vec<RevisionView>,
}

impl From<&Message> for MessageAudit {
    fn from(m: &Message) -> Self {
        Self {
            message: MessageView::from(m),
            deleted_by: m.deleted_by.clone(),
            revisions: m
                .revisions
                .iter()
                .map(|r| RevisionView {
                    body: r.body.clone(),
                    kind: r.kind,
                    at: r.at,
                    by: r.by.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ReadReceiptView {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub last_read_seq: u64,
    pub read_at: Timestamp,
}

impl From<&ReadReceipt> for ReadReceiptView {
    fn from(r: &ReadReceipt) -> Self {
        Self {
            conversation_id: r.conversation_id.clone(),
            user_id: r.user_id.clone(),
            last_read_seq: r.last_read_seq,
            read_at: r.read_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
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

impl From<&Report> for ReportView {
    fn from(r: &Report) -> Self {
        Self {
            id: r.id.clone(),
            conversation_id: r.conversation_id.clone(),
            message_id: r.message_id.clone(),
            message_seq: r.message_seq,
            reporter_id: r.reporter_id.clone(),
            reason: r.reason.clone(),
            status: r.status,
            created_at: r.created_at,
            resolved_by: r.resolved_by.clone(),
            resolved_at: r.resolved_at,
            resolution_note: r.resolution_note.clone(),
        }
    }
}

/// A list page with an opaque cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}
