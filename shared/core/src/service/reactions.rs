//! Emoji reactions: any member adds or takes away their own, in an open conversation;
//! every member's devices hear of it (`message-reactions`).

use super::Messaging;
use crate::error::Error;
use crate::events::ServerEvent;
use crate::identity::Identity;
use crate::ids::{ConversationId, MessageId};
use crate::limits::Action;
use crate::model::ConversationStatus;
use crate::reactions::Emoji;
use crate::views::MessageView;

impl Messaging {
    /// Adds (`add`) or takes away the caller's `emoji` on a message; the message as it is
    /// after. Adding a reaction one has, or taking away one one has not, changes nothing
    /// and tells nobody.
    pub async fn react(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
        emoji: Emoji,
        add: bool,
    ) -> Result<MessageView, Error> {
        self.spend(who, Action::React).await?;
        let members = self.require_member(who, conversation).await?;
        if self.stored_conversation(conversation).await?.status == ConversationStatus::Closed {
            return Err(Error::conflict("conversation_closed", "the conversation is closed"));
        }
        let current = self.message_in(conversation, id).await?;
        let has = |m: &crate::model::Message| {
            m.reactions
                .iter()
                .any(|r| r.emoji == emoji.as_str() && r.user_ids.contains(&who.user_id))
        };
        if has(&current) == add {
            return Ok(self.named(&current).await);
        }
        let after = self
            .ports
            .store
            .react(conversation, current.seq, emoji, &who.user_id, add)
            .await?;
        self.publish_to_users(
            &members,
            &ServerEvent::MessageReactions {
                conversation_id: conversation.clone(),
                message_id: after.id.clone(),
                seq: after.seq,
                user_id: who.user_id.clone(),
                emoji: emoji.as_str().to_owned(),
                added: add,
                reactions: after.reactions.clone(),
            },
        )
        .await;
        Ok(self.named(&after).await)
    }
}
