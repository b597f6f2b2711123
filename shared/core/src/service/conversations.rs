//! Conversations and their participants.

use std::collections::{HashMap, HashSet};

use super::Messaging;
use super::people::name_preview;
use crate::cursor::Cursor;
use crate::directory::{People, Profile};
use crate::error::Error;
use crate::events::{ConversationChange, ServerEvent};
use crate::identity::Identity;
use crate::ids::{ConversationId, ProjectId, UserId};
use crate::limits::Action;
use crate::model::{Conversation, ConversationStatus, LIST_PAGE, Participant, Preferences, ReadReceipt};
use crate::notify::NotifyLevel;
use crate::text::Title;
use crate::time::Timestamp;
use crate::views::{
    ConversationDetail, ConversationSummary, ConversationView, ListPage, ParticipantView, PreferencesView,
};

/// Participants per conversation, creator included. Bounds fan-out and the membership
/// cache, and keeps creation inside one DynamoDB transaction (at most 100 items).
pub const MAX_PARTICIPANTS: usize = 50;

/// New participant rows, and the profile each came from with the request field naming it.
#[derive(Default)]
struct NewRows {
    rows: Vec<Participant>,
    checked: Vec<(String, Profile)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateConversation {
    pub title: Title,
    pub project_id: Option<ProjectId>,
    /// Who else is in it: user ids only. Their names and roles come from the directory.
    pub participant_ids: Vec<UserId>,
}

/// `PATCH …/conversations/{id}/preferences`: what to change (absent fields stay).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreferencesChange {
    pub muted: Option<bool>,
    /// `true` hides the conversation until a message newer than the current last one.
    pub hidden: Option<bool>,
    /// `Some(None)`: back to the member's default level.
    pub notify: Option<Option<NotifyLevel>>,
    pub email: Option<bool>,
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
        self.spend(who, Action::CreateConversation).await?;
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
        let starter = self.caller_profile(who).await?;
        let mut participants = vec![Participant {
            conversation_id: conversation.id.clone(),
            user_id: who.user_id.clone(),
            role: starter.role,
            display_name: starter.name.clone(),
            joined_at: now,
            added_by: who.user_id.clone(),
        }];
        let others = self
            .directory_rows(who, &conversation.id, &req.participant_ids, &[], now)
            .await?;
        for (field, profile) in &others.checked {
            self.settings.contacts.check_start(&starter, profile, field.clone())?;
        }
        participants.extend(others.rows);
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
            muted: false,
            hidden: false,
            notify: None,
            email: true,
        })
    }

    /// Rows for the people `ids` names, from the directory: every id must be someone
    /// active (the error names the field, `participantIds[2]`). Duplicates, the caller
    /// and people already in (`existing`) are left out.
    async fn directory_rows(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        ids: &[UserId],
        existing: &[UserId],
        now: Timestamp,
    ) -> Result<NewRows, Error> {
        if ids.len() > MAX_PARTICIPANTS {
            return Err(Error::invalid(
                "participantIds",
                format!("a conversation has at most {MAX_PARTICIPANTS} participants"),
            ));
        }
        let people = People::new(self.ports.directory.profiles(ids).await?);
        let mut seen: HashSet<&UserId> = HashSet::from([&who.user_id]);
        seen.extend(existing.iter());
        let mut out = NewRows::default();
        for (i, id) in ids.iter().enumerate() {
            let field = format!("participantIds[{i}]");
            let profile = match people.get(id) {
                Some(p) if p.active => p,
                Some(_) => return Err(Error::invalid(field, format!("{id} is disabled"))),
                None => return Err(Error::invalid(field, format!("{id} is not in the directory"))),
            };
            if !seen.insert(id) {
                continue;
            }
            out.rows.push(Participant {
                conversation_id: conversation.clone(),
                user_id: id.clone(),
                role: profile.role,
                display_name: profile.name.clone(),
                joined_at: now,
                added_by: who.user_id.clone(),
            });
            out.checked.push((field, profile.clone()));
        }
        Ok(out)
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
        let mut candidates = self.ports.store.get_conversations(&ids).await?;
        if let Some(needle) = &needle {
            candidates.retain(|c| c.title.as_str().to_lowercase().contains(needle.as_str()));
        }
        candidates.sort_by(|a, b| (b.last_activity_at(), b.id.as_str()).cmp(&(a.last_activity_at(), a.id.as_str())));
        if let Some(pos) = &after {
            candidates.retain(|c| (c.last_activity_at().as_millis(), c.id.as_str()) < (pos.at, pos.id.as_str()));
        }

        // The caller's watermarks and settings, for the candidates in list order until the
        // page (and one more, to know whether more follow) is full of conversations they
        // did not hide. Hiding is rare, so this is one batch read for the page, side by
        // side with the sender names, as before there were settings.
        let mut receipts: HashMap<ConversationId, ReadReceipt> = HashMap::new();
        let mut people = People::default();
        let mut page: Vec<&Conversation> = Vec::with_capacity(limit + 1);
        let mut next = 0;
        while page.len() <= limit && next < candidates.len() {
            let chunk = &candidates[next..candidates.len().min(next + limit + 1 - page.len())];
            next += chunk.len();
            let chunk_ids: Vec<ConversationId> = chunk.iter().map(|c| c.id.clone()).collect();
            let senders = chunk
                .iter()
                .filter_map(|c| c.last_message.as_ref().map(|m| m.sender_id.clone()));
            let (found, named) = futures::join!(
                self.ports.store.receipts_of(&who.user_id, &chunk_ids),
                self.people(senders),
            );
            receipts.extend(found?.into_iter().map(|r| (r.conversation_id.clone(), r)));
            people.extend(named);
            let hides = |c: &Conversation| receipts.get(&c.id).is_some_and(|r| r.preferences.hides(c.last_seq));
            // A search finds hidden conversations too (that is how one brings one back).
            page.extend(chunk.iter().filter(|c| needle.is_some() || !hides(c)));
        }
        let has_more = page.len() > limit;
        page.truncate(limit);
        let next_cursor = if has_more {
            page.last().map(|c| {
                Cursor::encode(&ListPosition {
                    at: c.last_activity_at().as_millis(),
                    id: c.id.to_string(),
                })
            })
        } else {
            None
        };

        let items = page
            .iter()
            .map(|c| {
                let receipt = receipts.get(&c.id);
                let last_read_seq = receipt.map_or(0, |r| r.last_read_seq);
                let prefs = receipt.map(|r| r.preferences).unwrap_or_default();
                let mut conversation = ConversationView::from(*c);
                name_preview(&people, &mut conversation);
                ConversationSummary {
                    conversation,
                    last_read_seq,
                    unread_count: c.last_seq.saturating_sub(last_read_seq),
                    muted: prefs.muted,
                    hidden: prefs.hides(c.last_seq),
                    notify: prefs.notify,
                    email: !prefs.email_off,
                }
            })
            .collect();
        Ok(ListPage { items, next_cursor })
    }

    /// One conversation with participants, presence and watermarks.
    pub async fn conversation_detail(&self, who: &Identity, id: &ConversationId) -> Result<ConversationDetail, Error> {
        self.require_reader(who, id).await?;
        let conversation = self.stored_conversation(id).await?;
        let participants = self.ports.store.list_participants(id).await?;
        let (views, mine) = futures::join!(
            self.participant_views(id, &participants),
            self.ports.store.receipts_of(&who.user_id, std::slice::from_ref(id)),
        );
        let views = views?;
        let prefs = mine?.first().map(|r| r.preferences).unwrap_or_default();
        let last_read_seq = views
            .iter()
            .find(|p| p.user_id == who.user_id)
            .map_or(0, |p| p.last_read_seq);
        let mut view = ConversationView::from(&conversation);
        self.name_previews([&mut view]).await;
        Ok(ConversationDetail {
            unread_count: conversation.last_seq.saturating_sub(last_read_seq),
            conversation: view,
            participants: views,
            last_read_seq,
            muted: prefs.muted,
            hidden: prefs.hides(conversation.last_seq),
            notify: prefs.notify,
            email: !prefs.email_off,
        })
    }

    /// The caller's own settings for a conversation they are in: mute it, or hide it
    /// from their list until a newer message arrives. Only members have settings (an
    /// admin reading a conversation is not in it).
    pub async fn set_preferences(
        &self,
        who: &Identity,
        id: &ConversationId,
        change: PreferencesChange,
    ) -> Result<PreferencesView, Error> {
        let members = self.require_reader(who, id).await?;
        if !members.contains(&who.user_id) {
            return Err(Error::forbidden("only members have settings for a conversation"));
        }
        let conversation = self.stored_conversation(id).await?;
        let current = self
            .ports
            .store
            .receipts_of(&who.user_id, std::slice::from_ref(id))
            .await?
            .first()
            .map(|r| r.preferences)
            .unwrap_or_default();
        let next = Preferences {
            muted: change.muted.unwrap_or(current.muted),
            hidden_through: match change.hidden {
                Some(true) => Some(conversation.last_seq),
                Some(false) => None,
                None => current.hidden_through,
            },
            notify: change.notify.unwrap_or(current.notify),
            email_off: change.email.map_or(current.email_off, |on| !on),
        };
        let stored = self
            .ports
            .store
            .set_preferences(id, &who.user_id, next, Timestamp::now())
            .await?
            .preferences;
        let view = PreferencesView {
            conversation_id: id.clone(),
            muted: stored.muted,
            hidden: stored.hides(conversation.last_seq),
            notify: stored.notify,
            email: !stored.email_off,
        };
        let event = ServerEvent::PreferencesUpdated {
            conversation_id: view.conversation_id.clone(),
            muted: view.muted,
            hidden: view.hidden,
            notify: view.notify,
            email: view.email,
        };
        self.publish_to_users(std::slice::from_ref(&who.user_id), &event).await;
        Ok(view)
    }

    /// Participants with their directory names, online state and read watermark (three
    /// reads, side by side).
    pub(crate) async fn participant_views(
        &self,
        conversation: &ConversationId,
        participants: &[Participant],
    ) -> Result<Vec<ParticipantView>, Error> {
        let users: Vec<UserId> = participants.iter().map(|p| p.user_id.clone()).collect();
        let (online, receipts, people) = futures::join!(
            self.ports.registry.online_users(&users, Timestamp::now()),
            self.ports.store.list_receipts(conversation),
            self.people(users.iter().cloned()),
        );
        let online: HashSet<UserId> = match online {
            Ok(online) => online.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "presence unavailable; showing everyone offline");
                HashSet::new()
            }
        };
        let watermarks: HashMap<UserId, u64> = receipts?.into_iter().map(|r| (r.user_id, r.last_read_seq)).collect();
        Ok(participants
            .iter()
            .map(|p| ParticipantView {
                user_id: p.user_id.clone(),
                name: people.name_of(&p.user_id, &p.display_name),
                role: people.role_of(&p.user_id, p.role),
                organisation: people.get(&p.user_id).and_then(|d| d.organisation.clone()),
                joined_at: p.joined_at,
                online: online.contains(&p.user_id),
                last_read_seq: watermarks.get(&p.user_id).copied().unwrap_or(0),
            })
            .collect())
    }

    /// Renaming: staff members of the conversation, its creator, and admins.
    async fn require_manager(&self, who: &Identity, id: &ConversationId) -> Result<Conversation, Error> {
        self.require_allowed(
            who,
            id,
            "only the team, the creator or an admin can change this conversation",
            |c| who.is_staff() || c.created_by == who.user_id,
        )
        .await
    }

    /// Adding people and removing others: staff members of the conversation and admins
    /// ([`crate::policy::ContactPolicy::may_manage_members`]).
    async fn require_membership_manager(&self, who: &Identity, id: &ConversationId) -> Result<Conversation, Error> {
        self.require_allowed(
            who,
            id,
            "only the team or an admin can change who is in this conversation",
            |_| self.settings.contacts.may_manage_members(who.role),
        )
        .await
    }

    /// The stored conversation; `not_found` when there is none.
    pub(crate) async fn stored_conversation(&self, id: &ConversationId) -> Result<Conversation, Error> {
        self.ports
            .store
            .get_conversation(id)
            .await?
            .ok_or(Error::NotFound("conversation"))
    }

    /// The conversation, if `who` is an admin or a member for whom `member_may` holds.
    async fn require_allowed(
        &self,
        who: &Identity,
        id: &ConversationId,
        refusal: &'static str,
        member_may: impl Fn(&Conversation) -> bool,
    ) -> Result<Conversation, Error> {
        let members = self.require_reader(who, id).await?;
        let conversation = self.stored_conversation(id).await?;
        if who.is_admin() || (members.contains(&who.user_id) && member_may(&conversation)) {
            Ok(conversation)
        } else {
            Err(Error::forbidden(refusal))
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
        let mut view = ConversationView::from(&conversation);
        self.name_previews([&mut view]).await;
        Ok(view)
    }

    pub async fn add_participants(
        &self,
        who: &Identity,
        id: &ConversationId,
        ids: Vec<UserId>,
    ) -> Result<ConversationDetail, Error> {
        let conversation = self.require_membership_manager(who, id).await?;
        self.spend(who, Action::AddPeople).await?;
        let existing: Vec<UserId> = self
            .ports
            .store
            .list_participants(id)
            .await?
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        let rows = self
            .directory_rows(who, id, &ids, &existing, Timestamp::now())
            .await?
            .rows;
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

    /// The team and admins remove anyone; every member may remove themselves (leave).
    pub async fn remove_participant(&self, who: &Identity, id: &ConversationId, user: &UserId) -> Result<(), Error> {
        let conversation = if &who.user_id == user {
            self.require_member(who, id).await?;
            self.stored_conversation(id).await?
        } else {
            self.require_membership_manager(who, id).await?
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
        let mut view = ConversationView::from(conversation);
        self.name_previews([&mut view]).await;
        let event = ServerEvent::ConversationUpdated {
            conversation: view,
            change,
            participants: views,
        };
        self.publish_to_users(&audience, &event).await;
        Ok(())
    }
}
