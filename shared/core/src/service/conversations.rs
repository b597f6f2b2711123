//! Conversations and their participants.

use std::collections::{HashMap, HashSet};

use super::Messaging;
use crate::cursor::Cursor;
use crate::error::Error;
use crate::events::{ConversationChange, ServerEvent};
use crate::identity::Identity;
use crate::ids::{ConversationId, ProjectId, UserId};
use crate::model::{Conversation, ConversationStatus, LIST_PAGE, Participant, Role};
use crate::text::{DisplayName, Title};
use crate::time::Timestamp;
use crate::views::{ConversationDetail, ConversationSummary, ConversationView, ListPage, ParticipantView};

/// Participants per conversation, creator included. Bounds fan-out and the membership
/// cache, and keeps creation inside one DynamoDB transaction (at most 100 items).
pub const MAX_PARTICIPANTS: usize = 50;

/// Someone to add to a conversation. Name and role are display hints from whoever adds
/// them; permissions always come from the user's own token, never from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipant {
    pub user_id: UserId,
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateConversation {
    pub title: Title,
    pub project_id: Option<ProjectId>,
    pub participants: Vec<NewParticipant>,
}

/// Keyset position in the caller's conversation list (newest activity first).
#[derive(serde::Serialize, serde::Deserialize)]
struct ListPosition {
    at: i64,
    id: String,
}

impl Messaging {
    pub async fn create_conversation(
        &self,
        who: &Identity,
        req: CreateConversation,
    ) -> Result<ConversationDetail, Error> {
        let now = Timestamp::now();
        let conversation = Conversation {
            id: ConversationId::generate(),
            title: req.title,
            project_id: req.project_id,
            status: ConversationStatus::Open,
            created_by: who.user_id.clone(),
            created_at: now,
            updated_at: now,
            last_seq: 0,
            last_message: None,
        };
        let mut participants = vec![Participant {
            conversation_id: conversation.id.clone(),
            user_id: who.user_id.clone(),
            role: who.role,
            display_name: who.name.clone(),
            joined_at: now,
            added_by: who.user_id.clone(),
        }];
        participants.extend(self.new_participant_rows(who, &conversation.id, req.participants, now));
        if participants.len() > MAX_PARTICIPANTS {
            return Err(Error::invalid(
                "participantIds",
                format!("a conversation has at most {MAX_PARTICIPANTS} participants"),
            ));
        }
        self.ports
            .store
            .create_conversation(&conversation, &participants)
            .await?;
        // Delivery order starts at 0, so that racing first sends still go out in order.
        if let Err(e) = self.ports.registry.mark_delivered(&conversation.id, 0).await {
            tracing::warn!(error = %e, "could not initialise delivery order");
        }
        tracing::info!(conversation = %conversation.id, participants = participants.len(), "conversation created");

        let views = self.participant_views(&conversation.id, &participants).await?;
        let event = ServerEvent::ConversationUpdated {
            conversation: ConversationView::from(&conversation),
            change: ConversationChange::Participants,
            participants: views.clone(),
        };
        let members: Vec<UserId> = participants.iter().map(|p| p.user_id.clone()).collect();
        self.publish_to_users(&members, &event).await;
        Ok(ConversationDetail {
            conversation: ConversationView::from(&conversation),
            participants: views,
            last_read_seq: 0,
            unread_count: 0,
        })
    }

    /// Rows for new participants, without duplicates and without the caller.
    fn new_participant_rows(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        requested: Vec<NewParticipant>,
        now: Timestamp,
    ) -> Vec<Participant> {
        let mut seen: HashSet<UserId> = HashSet::from([who.user_id.clone()]);
        requested
            .into_iter()
            .filter(|p| seen.insert(p.user_id.clone()))
            .map(|p| Participant {
                conversation_id: conversation.clone(),
                display_name: p.name.map(String::from).unwrap_or_else(|| p.user_id.to_string()),
                role: p.role.unwrap_or(Role::Client),
                user_id: p.user_id,
                joined_at: now,
                added_by: who.user_id.clone(),
            })
            .collect()
    }

    /// The caller's conversations, most recently active first, with unread counts.
    ///
    /// Cost: one membership query, then batched reads of the conversations and of the
    /// caller's watermarks for the page. The sort happens here because "last activity"
    /// changes with every message: keeping it in an index would cost an index write per
    /// message per participant.
    pub async fn list_my_conversations(
        &self,
        who: &Identity,
        query: Option<&str>,
        cursor: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<ListPage<ConversationSummary>, Error> {
        let limit = LIST_PAGE.parse(limit)?;
        let after: Option<ListPosition> = cursor
            .map(|c| {
                c.decode()
                    .ok_or_else(|| Error::invalid("cursor", "is not a cursor of this list"))
            })
            .transpose()?;
        let needle = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());

        let ids = self.ports.store.conversation_ids_of(&who.user_id).await?;
        let mut conversations = self.ports.store.get_conversations(&ids).await?;
        if let Some(needle) = &needle {
            conversations.retain(|c| c.title.as_str().to_lowercase().contains(needle.as_str()));
        }
        conversations.sort_by(|a, b| (b.last_activity_at(), b.id.as_str()).cmp(&(a.last_activity_at(), a.id.as_str())));
        if let Some(pos) = &after {
            conversations.retain(|c| (c.last_activity_at().as_millis(), c.id.as_str()) < (pos.at, pos.id.as_str()));
        }
        let has_more = conversations.len() > limit;
        conversations.truncate(limit);
        let next_cursor = if has_more {
            conversations.last().map(|c| {
                Cursor::encode(&ListPosition {
                    at: c.last_activity_at().as_millis(),
                    id: c.id.to_string(),
                })
            })
        } else {
            None
        };

        let page_ids: Vec<ConversationId> = conversations.iter().map(|c| c.id.clone()).collect();
        let watermarks: HashMap<ConversationId, u64> = self
            .ports
            .store
            .receipts_of(&who.user_id, &page_ids)
            .await?
            .into_iter()
            .map(|r| (r.conversation_id, r.last_read_seq))
            .collect();
        let items = conversations
            .iter()
            .map(|c| {
                let last_read_seq = watermarks.get(&c.id).copied().unwrap_or(0);
                ConversationSummary {
                    conversation: ConversationView::from(c),
                    last_read_seq,
                    unread_count: c.last_seq.saturating_sub(last_read_seq),
                }
            })
            .collect();
        Ok(ListPage { items, next_cursor })
    }

    /// One conversation with participants, presence and watermarks.
    pub async fn conversation_detail(&self, who: &Identity, id: &ConversationId) -> Result<ConversationDetail, Error> {
        self.require_reader(who, id).await?;
        let conversation = self
            .ports
            .store
            .get_conversation(id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let participants = self.ports.store.list_participants(id).await?;
        let views = self.participant_views(id, &participants).await?;
        let last_read_seq = views
            .iter()
            .find(|p| p.user_id == who.user_id)
            .map_or(0, |p| p.last_read_seq);
        Ok(ConversationDetail {
            unread_count: conversation.last_seq.saturating_sub(last_read_seq),
            conversation: ConversationView::from(&conversation),
            participants: views,
            last_read_seq,
        })
    }

    /// Participants with their online state and read watermark.
    pub(crate) async fn participant_views(
        &self,
        conversation: &ConversationId,
        participants: &[Participant],
    ) -> Result<Vec<ParticipantView>, Error> {
        let users: Vec<UserId> = participants.iter().map(|p| p.user_id.clone()).collect();
        let online: HashSet<UserId> = match self.ports.registry.online_users(&users, Timestamp::now()).await {
            Ok(online) => online.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "presence unavailable; showing everyone offline");
                HashSet::new()
            }
        };
        let watermarks: HashMap<UserId, u64> = self
            .ports
            .store
            .list_receipts(conversation)
            .await?
            .into_iter()
            .map(|r| (r.user_id, r.last_read_seq))
            .collect();
        Ok(participants
            .iter()
            .map(|p| ParticipantView {
                user_id: p.user_id.clone(),
                name: p.display_name.clone(),
                role: p.role,
                joined_at: p.joined_at,
                online: online.contains(&p.user_id),
                last_read_seq: watermarks.get(&p.user_id).copied().unwrap_or(0),
            })
            .collect())
    }

    /// Staff members of the conversation, its creator, and admins run it.
    async fn require_manager(&self, who: &Identity, id: &ConversationId) -> Result<Conversation, Error> {
        let members = self.require_reader(who, id).await?;
        let conversation = self
            .ports
            .store
            .get_conversation(id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let is_member = members.contains(&who.user_id);
        let allowed = who.is_admin() || (is_member && (who.is_staff() || conversation.created_by == who.user_id));
        if allowed {
            Ok(conversation)
        } else {
            Err(Error::forbidden(
                "only the team, the creator or an admin can change this conversation",
            ))
        }
    }

    pub async fn rename_conversation(
        &self,
        who: &Identity,
        id: &ConversationId,
        title: Title,
    ) -> Result<ConversationView, Error> {
        self.require_manager(who, id).await?;
        let conversation = self.ports.store.set_title(id, &title, Timestamp::now()).await?;
        self.announce_conversation(&conversation, ConversationChange::Title, &[])
            .await?;
        Ok(ConversationView::from(&conversation))
    }

    pub async fn add_participants(
        &self,
        who: &Identity,
        id: &ConversationId,
        requested: Vec<NewParticipant>,
    ) -> Result<ConversationDetail, Error> {
        let conversation = self.require_manager(who, id).await?;
        let existing = self.ports.store.list_participants(id).await?;
        let rows: Vec<Participant> = self
            .new_participant_rows(who, id, requested, Timestamp::now())
            .into_iter()
            .filter(|p| !existing.iter().any(|e| e.user_id == p.user_id))
            .collect();
        if existing.len() + rows.len() > MAX_PARTICIPANTS {
            return Err(Error::invalid(
                "participantIds",
                format!("a conversation has at most {MAX_PARTICIPANTS} participants"),
            ));
        }
        if !rows.is_empty() {
            self.ports.store.add_participants(id, &rows).await?;
            self.forget_members(id).await;
            self.announce_conversation(&conversation, ConversationChange::Participants, &[])
                .await?;
        }
        self.conversation_detail(who, id).await
    }

    /// Managers remove anyone; every member may remove themselves (leave).
    pub async fn remove_participant(&self, who: &Identity, id: &ConversationId, user: &UserId) -> Result<(), Error> {
        let conversation = if &who.user_id == user {
            self.require_member(who, id).await?;
            self.ports
                .store
                .get_conversation(id)
                .await?
                .ok_or(Error::NotFound("conversation"))?
        } else {
            self.require_manager(who, id).await?
        };
        if !self.ports.store.remove_participant(id, user).await? {
            return Err(Error::NotFound("participant"));
        }
        self.forget_members(id).await;
        // The removed user hears about it too, so their client can drop the conversation.
        self.announce_conversation(
            &conversation,
            ConversationChange::Participants,
            std::slice::from_ref(user),
        )
        .await?;
        Ok(())
    }

    /// Publishes `conversation-updated` to the members (and to `also`).
    pub(crate) async fn announce_conversation(
        &self,
        conversation: &Conversation,
        change: ConversationChange,
        also: &[UserId],
    ) -> Result<(), Error> {
        let participants = self.ports.store.list_participants(&conversation.id).await?;
        let views = self.participant_views(&conversation.id, &participants).await?;
        let mut audience: Vec<UserId> = participants.into_iter().map(|p| p.user_id).collect();
        audience.extend(also.iter().cloned());
        let event = ServerEvent::ConversationUpdated {
            conversation: ConversationView::from(conversation),
            change,
            participants: views,
        };
        self.publish_to_users(&audience, &event).await;
        Ok(())
    }
}
