//! Pinned messages: the team (and admins) pin what matters in a conversation; everyone
//! in it sees the pinned list (`GET .../pins`) and hears of changes (`pins-updated`).
//! A deleted message leaves the list.

use serde::{Deserialize, Serialize};

use super::Messaging;
use crate::error::Error;
use crate::events::ServerEvent;
use crate::identity::Identity;
use crate::ids::{ConversationId, MessageId, UserId};
use crate::model::ConversationStatus;
use crate::views::MessageView;

/// A conversation's pinned messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PinnedMessages {
    pub items: Vec<MessageView>,
}

impl Messaging {
    /// The pinned messages of a conversation the caller may read.
    pub async fn pinned_messages(
        &self,
        who: &Identity,
        conversation: &ConversationId,
    ) -> Result<PinnedMessages, Error> {
        self.require_reader(who, conversation).await?;
        let seqs = self.ports.store.pinned(conversation).await?;
        self.pinned_views(conversation, &seqs).await
    }

    /// Pins (`pin`) or unpins a message: team members of the conversation and admins, in
    /// an open conversation. Pinning what is pinned, or unpinning what is not, changes
    /// nothing and tells nobody.
    pub async fn pin_message(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
        pin: bool,
    ) -> Result<PinnedMessages, Error> {
        // Membership first: an outsider learns nothing, not even that only the team pins.
        let members = if who.is_admin() {
            self.require_reader(who, conversation).await?
        } else {
            self.require_member(who, conversation).await?
        };
        if !who.is_staff() {
            return Err(Error::forbidden("only the team pins messages"));
        }
        if self.stored_conversation(conversation).await?.status == ConversationStatus::Closed {
            return Err(Error::conflict("conversation_closed", "the conversation is closed"));
        }
        let message = self.message_in(conversation, id).await?;
        if pin && message.is_deleted() {
            return Err(Error::conflict("message_deleted", "the message was deleted"));
        }
        let before = self.ports.store.pinned(conversation).await?;
        let seqs = if before.contains(&message.seq) == pin {
            before
        } else {
            let after = self.ports.store.set_pinned(conversation, message.seq, pin).await?;
            self.announce_pins(&members, conversation, &after, message.seq, pin, &who.user_id)
                .await;
            after
        };
        self.pinned_views(conversation, &seqs).await
    }

    /// A deleted message leaves the pinned list (called by the delete).
    pub(crate) async fn unpin_deleted(&self, members: &[UserId], conversation: &ConversationId, seq: u64, by: &UserId) {
        let unpinned = match self.ports.store.pinned(conversation).await {
            Ok(seqs) if seqs.contains(&seq) => self.ports.store.set_pinned(conversation, seq, false).await,
            Ok(_) => return,
            Err(e) => Err(e),
        };
        match unpinned {
            Ok(after) => self.announce_pins(members, conversation, &after, seq, false, by).await,
            Err(e) => tracing::warn!(error = %e, %conversation, seq, "deleted message left pinned"),
        }
    }

    async fn announce_pins(
        &self,
        members: &[UserId],
        conversation: &ConversationId,
        pinned: &[u64],
        seq: u64,
        pin: bool,
        by: &UserId,
    ) {
        self.publish_to_users(
            members,
            &ServerEvent::PinsUpdated {
                conversation_id: conversation.clone(),
                pinned_seqs: pinned.to_vec(),
                seq,
                pinned: pin,
                user_id: by.clone(),
            },
        )
        .await;
    }

    async fn pinned_views(&self, conversation: &ConversationId, seqs: &[u64]) -> Result<PinnedMessages, Error> {
        let messages = self.ports.store.messages_at(conversation, seqs).await?;
        let mut items: Vec<MessageView> = messages
            .iter()
            .filter(|m| !m.is_deleted())
            .map(MessageView::from)
            .collect();
        self.name_messages(&mut items).await;
        Ok(PinnedMessages { items })
    }
}
