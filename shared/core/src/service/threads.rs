//! Threads: a message's replies (and replies to them) in order, for the thread view. The
//! replies are ordinary messages of the main timeline too; this reads them by thread.

use serde::{Deserialize, Serialize};

use super::Messaging;
use crate::error::Error;
use crate::identity::Identity;
use crate::ids::{ConversationId, MessageId};
use crate::model::HISTORY_PAGE;
use crate::views::MessageView;

/// A thread: its root and a page of its replies, ascending by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ThreadPage {
    pub root: MessageView,
    pub items: Vec<MessageView>,
    /// Whether later replies exist: ask again with `after` = the last `seq` here.
    pub has_more: bool,
}

impl Messaging {
    /// The thread `id` belongs to (its own, or, for a reply, its root's): replies with
    /// `seq > after`, at most `limit` (50 unless asked, at most 100).
    pub async fn thread(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
        after: Option<u64>,
        limit: Option<usize>,
    ) -> Result<ThreadPage, Error> {
        self.require_reader(who, conversation).await?;
        let limit = HISTORY_PAGE.parse(limit)?;
        let message = self.message_in(conversation, id).await?;
        let root = match message.reply {
            None => message,
            Some(reply) => self
                .ports
                .store
                .messages_at(conversation, &[reply.root])
                .await?
                .pop()
                .ok_or(Error::NotFound("message"))?,
        };
        // One more than asked, to know whether there are more.
        let mut replies = self
            .ports
            .store
            .list_thread(conversation, root.seq, after.unwrap_or(0), limit + 1)
            .await?;
        let has_more = replies.len() > limit;
        replies.truncate(limit);
        let mut views: Vec<MessageView> = std::iter::once(&root).chain(&replies).map(MessageView::from).collect();
        self.name_messages(&mut views).await;
        let root = views.remove(0);
        Ok(ThreadPage {
            root,
            items: views,
            has_more,
        })
    }
}
