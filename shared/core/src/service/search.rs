//! Message search: members search the conversations they are in now, admins every
//! conversation. The index ([`crate::ports::SearchIndex`]) is kept in step by the
//! writes here; every hit is checked against the store before it is shown.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Messaging, require_admin};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::identity::Identity;
use crate::ids::{ConversationId, UserId};
use crate::limits::Action;
use crate::model::{ConversationQuery, Message, MessageRange};
use crate::search::{
    IndexChange, IndexQuery, MAX_RELEVANCE_OFFSET, SEARCH_PAGE, Scope, SearchOrder, SearchText, SnippetPart,
};
use crate::time::Timestamp;
use crate::views::{ListPage, MessageView};

/// A search as a request asks for it (`GET /api/messaging/search`).
#[derive(Debug, Clone, Default)]
pub struct MessageSearch {
    pub text: String,
    pub conversation: Option<ConversationId>,
    pub sender: Option<UserId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub has_files: Option<bool>,
    pub order: Option<SearchOrder>,
    pub cursor: Option<Cursor>,
    pub limit: Option<usize>,
}

/// One result: the message as it is now, where it is, and why it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SearchResultView {
    pub conversation_id: ConversationId,
    pub conversation_title: String,
    pub message: MessageView,
    /// The matching passage, matched words marked.
    pub snippet: Vec<SnippetPart>,
}

/// Where a page of results ended, for the order it was asked in.
#[derive(Serialize, Deserialize)]
struct SearchPosition {
    order: SearchOrder,
    after: i64,
}

impl Messaging {
    /// Searches the conversations the caller is a member of now (or the one asked for).
    pub async fn search_messages(
        &self,
        who: &Identity,
        search: &MessageSearch,
    ) -> Result<ListPage<SearchResultView>, Error> {
        self.spend(who, Action::Search).await?;
        let scope = match &search.conversation {
            Some(c) => {
                self.require_reader(who, c).await?;
                vec![c.clone()]
            }
            None => self.ports.store.conversation_ids_of(&who.user_id).await?,
        };
        self.run_search(search, Scope::Only(scope)).await
    }

    /// Admins: every conversation (or the one asked for).
    pub async fn admin_search_messages(
        &self,
        who: &Identity,
        search: &MessageSearch,
    ) -> Result<ListPage<SearchResultView>, Error> {
        require_admin(who)?;
        self.spend(who, Action::Search).await?;
        let scope = match &search.conversation {
            Some(c) => {
                self.stored_conversation(c).await?;
                Scope::Only(vec![c.clone()])
            }
            None => Scope::All,
        };
        self.run_search(search, scope).await
    }

    async fn run_search(&self, search: &MessageSearch, scope: Scope) -> Result<ListPage<SearchResultView>, Error> {
        let order = search.order.unwrap_or(SearchOrder::Newest);
        let after = match &search.cursor {
            None => None,
            Some(cursor) => match cursor.decode::<SearchPosition>() {
                Some(p) if p.order == order && p.after >= 0 => Some(p.after),
                _ => return Err(Error::invalid("cursor", "is not a cursor of this search")),
            },
        };
        if let (Some(from), Some(to)) = (search.from, search.to)
            && from >= to
        {
            return Err(Error::invalid("to", "must be later than from"));
        }
        let query = IndexQuery {
            text: SearchText::parse(&search.text)?,
            scope,
            sender: search.sender.clone(),
            from: search.from,
            to: search.to,
            has_files: search.has_files,
            order,
            after,
            limit: SEARCH_PAGE.parse(search.limit)?,
        };
        if matches!(&query.scope, Scope::Only(c) if c.is_empty()) {
            return Ok(ListPage {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let page = self.ports.search.search(&query).await?;
        let next = page
            .next
            .filter(|&n| order == SearchOrder::Newest || n <= MAX_RELEVANCE_OFFSET as i64);

        // The store has the last word: a hit deleted since it was indexed is left out,
        // and the message is shown as it is now.
        let store = &self.ports.store;
        let messages = futures::future::try_join_all(
            page.hits
                .iter()
                .map(|h| store.get_message(&h.conversation_id, &h.message_id)),
        )
        .await?;
        let mut found: Vec<(Message, Vec<SnippetPart>)> = page
            .hits
            .into_iter()
            .zip(messages)
            .filter_map(|(hit, m)| m.filter(|m| !m.is_deleted()).map(|m| (m, hit.snippet)))
            .collect();
        found.dedup_by(|a, b| a.0.id == b.0.id);

        let mut ids: Vec<ConversationId> = found.iter().map(|(m, _)| m.conversation_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let titles: HashMap<ConversationId, String> = store
            .get_conversations(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c.title.to_string()))
            .collect();
        let mut views: Vec<MessageView> = found.iter().map(|(m, _)| MessageView::from(m)).collect();
        self.name_messages(&mut views).await;
        let items = views
            .into_iter()
            .zip(found)
            .map(|(message, (_, snippet))| SearchResultView {
                conversation_id: message.conversation_id.clone(),
                conversation_title: titles.get(&message.conversation_id).cloned().unwrap_or_default(),
                message,
                snippet,
            })
            .collect();
        Ok(ListPage {
            items,
            next_cursor: next.map(|after| Cursor::encode(&SearchPosition { order, after })),
        })
    }

    /// Indexes every message of every conversation as stored now (an index that is new
    /// beside a store that is not: a data folder from before search, a lost index file).
    /// Returns how many messages it indexed.
    pub async fn rebuild_search_index(&self) -> Result<usize, Error> {
        self.rebuild_search_index_into(&*self.ports.search).await
    }

    /// [`Messaging::rebuild_search_index`] into another index than the service's own (the
    /// AWS indexer builds a new file beside the one readers have open, then swaps it in).
    pub async fn rebuild_search_index_into(&self, index: &dyn crate::ports::SearchIndex) -> Result<usize, Error> {
        let store = &self.ports.store;
        let mut cursor = None;
        let mut indexed = 0;
        loop {
            let conversations = store
                .search_conversations(&ConversationQuery {
                    cursor: cursor.take(),
                    limit: 100,
                    ..ConversationQuery::default()
                })
                .await?;
            for conversation in &conversations.items {
                let mut after = 0;
                loop {
                    let range = MessageRange::After { seq: after, limit: 100 };
                    let messages = store.list_messages(&conversation.id, range).await?;
                    let Some(last) = messages.last() else { break };
                    after = last.seq;
                    let changes: Vec<IndexChange> = messages.iter().map(IndexChange::of).collect();
                    index.apply(&changes).await?;
                    indexed += messages.len();
                }
            }
            match conversations.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(indexed),
            }
        }
    }

    /// Brings the index in line with `message` as stored now. The message is stored
    /// whatever happens here: a failing index is logged, not the writer's problem.
    pub(crate) async fn index_message(&self, message: &Message) {
        if let Err(e) = self.ports.search.apply(&[IndexChange::of(message)]).await {
            tracing::warn!(error = %e, message = %message.id, "search index not updated");
        }
    }
}
