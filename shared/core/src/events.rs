//! Real-time events, server to client, and the actions clients send.
//!
//! Every frame is `{"type": "<event>", "data": {...}}`. The names are the seed's:
//! `new-message`, `message-updated` (edits and deletes), `message-reactions`, `pins-updated`, `message-read`, `user-typing`,
//! `user-stopped-typing`, `user-joined` / `user-left` (presence), `conversation-updated`,
//! `user-updated` (a profile changed), `preferences-updated` (one's own mute / hide),
//! plus `pong` and `error`.

use serde::{Deserialize, Serialize};

use crate::identity::Role;
use crate::ids::{ConversationId, MessageId, UserId};
use crate::notify::NotifyLevel;
use crate::time::Timestamp;
use crate::views::{ConversationView, MessageView, ParticipantView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", content = "data", rename_all = "kebab-case")]
pub enum ServerEvent {
    #[serde(rename_all = "camelCase")]
    NewMessage {
        conversation_id: ConversationId,
        message: MessageView,
    },
    /// An edit or a delete; a deleted message comes as a tombstone (`body: null`).
    #[serde(rename_all = "camelCase")]
    MessageUpdated {
        conversation_id: ConversationId,
        message: MessageView,
    },
    /// Someone added or took away a reaction: the message's reactions as they are now.
    #[serde(rename_all = "camelCase")]
    MessageReactions {
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: u64,
        /// Who changed a reaction, which, and whether they added it.
        user_id: UserId,
        emoji: String,
        added: bool,
        reactions: Vec<crate::reactions::Reaction>,
    },
    /// A message was pinned or unpinned (or left the pins, deleted): the pinned seqs now.
    #[serde(rename_all = "camelCase")]
    PinsUpdated {
        conversation_id: ConversationId,
        pinned_seqs: Vec<u64>,
        /// What changed: `seq` was pinned (`pinned`) or unpinned, by `userId`.
        seq: u64,
        pinned: bool,
        user_id: UserId,
    },
    #[serde(rename_all = "camelCase")]
    MessageRead {
        conversation_id: ConversationId,
        user_id: UserId,
        last_read_seq: u64,
        read_at: Timestamp,
    },
    #[serde(rename_all = "camelCase")]
    UserTyping {
        conversation_id: ConversationId,
        user_id: UserId,
        name: String,
        expires_in_ms: u64,
    },
    #[serde(rename_all = "camelCase")]
    UserStoppedTyping {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    /// A user came online (their first live connection).
    #[serde(rename_all = "camelCase")]
    UserJoined {
        user_id: UserId,
        name: String,
        at: Timestamp,
    },
    /// A user went offline (their last connection closed or expired).
    #[serde(rename_all = "camelCase")]
    UserLeft { user_id: UserId, at: Timestamp },
    /// Someone's profile changed (a new display name): to everyone who shares a
    /// conversation with them, and to their own other connections.
    #[serde(rename_all = "camelCase")]
    UserUpdated {
        user_id: UserId,
        name: String,
        role: Role,
        organisation: Option<String>,
        initials: String,
        colour: Option<String>,
    },
    /// The user changed their own settings for a conversation (mute, hide): to their
    /// own connections, so that every device shows the same.
    #[serde(rename_all = "camelCase")]
    PreferencesUpdated {
        conversation_id: ConversationId,
        muted: bool,
        hidden: bool,
        notify: Option<NotifyLevel>,
        email: bool,
    },
    #[serde(rename_all = "camelCase")]
    ConversationUpdated {
        conversation: ConversationView,
        change: ConversationChange,
        participants: Vec<ParticipantView>,
    },
    /// The event for this conversation was too large for one frame: fetch
    /// `GET .../messages?after=<afterSeq>` instead.
    #[serde(rename_all = "camelCase")]
    Resync {
        conversation_id: ConversationId,
        after_seq: u64,
    },
    #[serde(rename_all = "camelCase")]
    Pong { at: Timestamp },
    Error {
        code: String,
        message: String,
        field: Option<String>,
    },
}

impl ServerEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::NewMessage { .. } => "new-message",
            Self::MessageUpdated { .. } => "message-updated",
            Self::MessageReactions { .. } => "message-reactions",
            Self::PinsUpdated { .. } => "pins-updated",
            Self::MessageRead { .. } => "message-read",
            Self::UserTyping { .. } => "user-typing",
            Self::UserStoppedTyping { .. } => "user-stopped-typing",
            Self::UserJoined { .. } => "user-joined",
            Self::UserLeft { .. } => "user-left",
            Self::UserUpdated { .. } => "user-updated",
            Self::PreferencesUpdated { .. } => "preferences-updated",
            Self::ConversationUpdated { .. } => "conversation-updated",
            Self::Resync { .. } => "resync",
            Self::Pong { .. } => "pong",
            Self::Error { .. } => "error",
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Serialising these types cannot fail: no maps with non-string keys, no floats.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ConversationChange {
    Status,
    Title,
    Participants,
}

/// Client to server, selected by `$request.body.action`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ClientAction {
    #[serde(rename_all = "camelCase")]
    Typing {
        conversation_id: ConversationId,
    },
    #[serde(rename_all = "camelCase")]
    StopTyping {
        conversation_id: ConversationId,
    },
    Ping,
}

impl ClientAction {
    /// The route keys the WebSocket API declares (`$request.body.action`).
    pub const ROUTE_KEYS: &'static [&'static str] = &["typing", "stop-typing", "ping"];
}
