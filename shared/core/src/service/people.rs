//! People: signing in against the directory, naming people in views, people search,
//! one's own profile, and the admin's user management.

use super::{Messaging, require_admin};
use crate::cursor::Cursor;
use crate::directory::{Audience, PEOPLE_PAGE, People, PeopleQuery, Profile, ProfileView};
use crate::error::Error;
use crate::events::ServerEvent;
use crate::identity::Identity;
use crate::ids::{ConversationId, UserId};
use crate::text::DisplayName;
use crate::time::Timestamp;
use crate::views::{ConversationView, ListPage, MessageView, QuoteView};

/// People search as a request asks for it (`q`, `cursor`, `limit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleSearch {
    pub text: Option<String>,
    pub cursor: Option<Cursor>,
    pub limit: Option<usize>,
}

impl PeopleSearch {
    fn text(&self) -> Result<Option<String>, Error> {
        let text = self.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        match text {
            Some(t) if t.chars().count() > 100 => Err(Error::invalid("q", "at most 100 characters")),
            other => Ok(other.map(str::to_lowercase)),
        }
    }
}

fn not_in_directory() -> Error {
    Error::unauthenticated("this user is not in the directory")
}

/// A conversation's preview names its sender as the directory does.
pub(crate) fn name_preview(people: &People, conversation: &mut ConversationView) {
    if let Some(m) = conversation.last_message.as_mut() {
        m.sender_name = people.name_of(&m.sender_id, &m.sender_name);
    }
}

impl Messaging {
    /// Who a verified token's holder is: the directory's profile, not the token's claims
    /// (a token outlives a change of name or role, and a disabled user's token must stop
    /// working at once). Every REST request and every `$connect` goes through here.
    pub async fn authenticate(&self, claimed: Identity) -> Result<Identity, Error> {
        let profile = self.profile(&claimed.user_id).await?;
        match profile {
            None => Err(not_in_directory()),
            Some(p) if !p.active => Err(Error::unauthenticated("this account is disabled")),
            Some(p) => Ok(p.identity()),
        }
    }

    /// The caller's own profile; a token whose user the directory no longer knows is
    /// refused as at sign-in.
    pub(crate) async fn caller_profile(&self, who: &Identity) -> Result<Profile, Error> {
        self.profile(&who.user_id).await?.ok_or_else(not_in_directory)
    }

    pub(crate) async fn profile(&self, id: &UserId) -> Result<Option<Profile>, Error> {
        Ok(self
            .ports
            .directory
            .profiles(std::slice::from_ref(id))
            .await?
            .into_iter()
            .find(|p| &p.user_id == id))
    }

    /// Profiles to name people in views. A directory failure costs only the names: the
    /// names the rows recorded show instead.
    pub(crate) async fn people(&self, ids: impl IntoIterator<Item = UserId>) -> People {
        let mut ids: Vec<UserId> = ids.into_iter().collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return People::default();
        }
        match self.ports.directory.profiles(&ids).await {
            Ok(profiles) => People::new(profiles),
            Err(e) => {
                tracing::warn!(error = %e, "directory unavailable; showing recorded names");
                People::default()
            }
        }
    }

    /// Completes views for the wire: replies get their quote (the quoted messages read in
    /// one batch per conversation), and senders, quoted ones too, are named as the
    /// directory names them now.
    pub(crate) async fn name_messages(&self, messages: &mut [MessageView]) {
        self.quote_messages(messages).await;
        let senders = messages
            .iter()
            .flat_map(|m| std::iter::once(m.sender_id.clone()).chain(m.quote.as_ref().map(|q| q.sender_id.clone())));
        let people = self.people(senders).await;
        for m in messages {
            m.sender_name = people.name_of(&m.sender_id, &m.sender_name);
            if let Some(q) = &mut m.quote {
                q.sender_name = people.name_of(&q.sender_id, &q.sender_name);
            }
        }
    }

    /// Fills `quote` for every reply among `messages` that has none. A quoted message on
    /// the same page costs nothing; the others are read with one `messages_at` per
    /// conversation. A failed read leaves the quote out (the reply still shows, with
    /// `replyToSeq` to jump by).
    async fn quote_messages(&self, messages: &mut [MessageView]) {
        use std::collections::BTreeMap;
        let on_page: BTreeMap<(ConversationId, u64), QuoteView> = messages
            .iter()
            .map(|m| ((m.conversation_id.clone(), m.seq), quote_of_view(m)))
            .collect();
        let mut wanted: BTreeMap<ConversationId, Vec<u64>> = BTreeMap::new();
        for m in messages.iter().filter(|m| m.quote.is_none()) {
            if let Some(seq) = m.reply_to_seq
                && !on_page.contains_key(&(m.conversation_id.clone(), seq))
            {
                wanted.entry(m.conversation_id.clone()).or_default().push(seq);
            }
        }
        let mut found = on_page;
        for (conversation, mut seqs) in wanted {
            seqs.sort_unstable();
            seqs.dedup();
            seqs.truncate(100);
            match self.ports.store.messages_at(&conversation, &seqs).await {
                Ok(quoted) => {
                    for q in &quoted {
                        found.insert((conversation.clone(), q.seq), QuoteView::from(q));
                    }
                }
                Err(e) => tracing::warn!(error = %e, %conversation, "quoted messages not read"),
            }
        }
        for m in messages.iter_mut() {
            if let (None, Some(seq)) = (&m.quote, m.reply_to_seq) {
                m.quote = found.get(&(m.conversation_id.clone(), seq)).cloned();
            }
        }
    }

    pub(crate) async fn name_previews<'a>(&self, conversations: impl IntoIterator<Item = &'a mut ConversationView>) {
        let views: Vec<&mut ConversationView> = conversations.into_iter().collect();
        let senders = views
            .iter()
            .filter_map(|c| c.last_message.as_ref().map(|m| m.sender_id.clone()));
        let people = self.people(senders).await;
        for c in views {
            name_preview(&people, c);
        }
    }

    /// `GET /api/messaging/me`: the caller's directory profile.
    pub async fn my_profile(&self, who: &Identity) -> Result<ProfileView, Error> {
        let profile = self.caller_profile(who).await?;
        Ok(ProfileView::of(&profile, who))
    }

    /// A new display name for the caller. Everyone who shares a conversation with them
    /// hears `user-updated`; views name people from the directory, so every list and
    /// history shows the new name from now on.
    pub async fn rename_me(&self, who: &Identity, name: DisplayName) -> Result<ProfileView, Error> {
        let profile = self
            .ports
            .directory
            .set_name(&who.user_id, &name)
            .await?
            .ok_or_else(not_in_directory)?;
        tracing::info!(user = %who.user_id, "display name changed");
        self.announce_profile(&profile).await;
        Ok(ProfileView::of(&profile, who))
    }

    async fn announce_profile(&self, profile: &Profile) {
        let event = ServerEvent::UserUpdated {
            user_id: profile.user_id.clone(),
            name: profile.name.clone(),
            role: profile.role,
            organisation: profile.organisation.clone(),
            initials: profile.initials(),
            colour: profile.colour.clone(),
        };
        // Everyone who shares a conversation with them, and their own other devices.
        match self.presence_audience(&profile.user_id).await {
            Ok(mut users) => {
                users.push(profile.user_id.clone());
                self.publish_to_users(&users, &event).await;
            }
            Err(e) => tracing::warn!(error = %e, "could not announce a profile change"),
        }
    }

    /// `GET /api/messaging/people`: whom the caller may start a conversation with
    /// (see [`crate::policy`]), active users only, the caller left out.
    pub async fn search_people(&self, who: &Identity, search: &PeopleSearch) -> Result<ListPage<ProfileView>, Error> {
        let me = self.caller_profile(who).await?;
        let query = PeopleQuery {
            text: search.text()?,
            audience: self.settings.contacts.audience(&me),
            active: Some(true),
            exclude: Some(who.user_id.clone()),
            cursor: search.cursor.clone(),
            limit: PEOPLE_PAGE.parse(search.limit)?,
        };
        self.people_page(who, &query).await
    }

    /// Admins: everyone in the directory, `active` filtering by state.
    pub async fn admin_list_users(
        &self,
        who: &Identity,
        search: &PeopleSearch,
        active: Option<bool>,
    ) -> Result<ListPage<ProfileView>, Error> {
        require_admin(who)?;
        let query = PeopleQuery {
            text: search.text()?,
            audience: Audience::Everyone,
            active,
            exclude: None,
            cursor: search.cursor.clone(),
            limit: PEOPLE_PAGE.parse(search.limit)?,
        };
        self.people_page(who, &query).await
    }

    async fn people_page(&self, who: &Identity, query: &PeopleQuery) -> Result<ListPage<ProfileView>, Error> {
        let page = query.page(self.ports.directory.all_profiles().await?)?;
        Ok(ListPage {
            items: page.items.iter().map(|p| ProfileView::of(p, who)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Admins enable or disable a user. A disabled user's tokens stop working at once
    /// (every request asks the directory, through a cache this writes to) and their
    /// open sockets are closed.
    pub async fn admin_set_active(&self, who: &Identity, user: &UserId, active: bool) -> Result<ProfileView, Error> {
        require_admin(who)?;
        if !active && &who.user_id == user {
            return Err(Error::invalid("userId", "you cannot disable yourself"));
        }
        let profile = self
            .ports
            .directory
            .set_active(user, active)
            .await?
            .ok_or(Error::NotFound("user"))?;
        tracing::info!(user = %user, active, by = %who.user_id, "user state changed");
        if !active {
            self.close_connections_of(user).await?;
        }
        Ok(ProfileView::of(&profile, who))
    }

    /// Closes every live socket of `user` and forgets it (API Gateway runs `$disconnect`
    /// too, which then finds nothing left to do).
    async fn close_connections_of(&self, user: &UserId) -> Result<(), Error> {
        let now = Timestamp::now();
        let connections = self
            .ports
            .registry
            .connections_of(std::slice::from_ref(user), now)
            .await?;
        for (_, connection) in &connections {
            if let Err(e) = self.ports.pusher.close(connection).await {
                tracing::warn!(error = %e, user = %user, "could not close a connection");
            }
            self.disconnect(connection).await?;
        }
        tracing::info!(user = %user, closed = connections.len(), "connections closed");
        Ok(())
    }
}

/// The quote of a message already on the page.
fn quote_of_view(m: &MessageView) -> QuoteView {
    QuoteView {
        message_id: m.id.clone(),
        seq: m.seq,
        sender_id: m.sender_id.clone(),
        sender_name: m.sender_name.clone(),
        excerpt: m
            .body
            .as_deref()
            .map(crate::text::MessageBody::preview)
            .unwrap_or_default(),
        deleted: m.deleted,
        file_count: m.files.len() as u32,
    }
}
