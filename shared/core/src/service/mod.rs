//! The application service: every operation a route or a WebSocket action performs,
//! with its permission check, validation that needs state, store calls and events.
//!
//! Handlers parse input into domain types and call one method here; they never touch a
//! port directly. Operations take the caller's [`Identity`] first.

mod admin;
mod conversations;
mod fanout;
mod files;
mod messages;
mod notifications;
mod people;
mod pins;
mod reactions;
mod realtime;
mod search;
mod threads;

use std::sync::Arc;
use std::time::Duration;

pub use conversations::{CreateConversation, PreferencesChange};
pub use files::{AttachmentRequest, EXTENSIONS, FilePolicy, UploadGrant, UploadSlot, bytes_match_type, download_name};
pub use messages::SendMessage;
pub use notifications::{
    NotifySettings, PushKeys, PushSubscriptionInput, PushSubscriptionView, Unsubscribed, unsubscribe_token,
};
pub use people::PeopleSearch;
pub use pins::PinnedMessages;
pub use realtime::Ticket;
pub use search::{MessageSearch, SearchResultView};
pub use threads::ThreadPage;

use crate::error::Error;
use crate::identity::Identity;
use crate::ids::{ConversationId, UserId};
use crate::limits::{Action, RateDecision, RateLimits};
use crate::policy::ContactPolicy;
use crate::ports::{
    BlobStore, ConnectionPusher, Mailer, PushSender, Registry, SearchIndex, Store, TaskScheduler, UserDirectory,
};
use crate::time::Timestamp;

/// The adapters the service runs on, chosen by the caller (embedded or AWS).
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub registry: Arc<dyn Registry>,
    pub pusher: Arc<dyn ConnectionPusher>,
    pub blobs: Arc<dyn BlobStore>,
    pub scheduler: Arc<dyn TaskScheduler>,
    pub directory: Arc<dyn UserDirectory>,
    /// Web Push to browsers that subscribed.
    pub push: Arc<dyn PushSender>,
    pub mailer: Arc<dyn Mailer>,
    /// Full-text search over messages.
    pub search: Arc<dyn SearchIndex>,
}

/// Tunables, with defaults suitable for production.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a WebSocket ticket stays valid.
    pub ticket_ttl: Duration,
    /// A connection counts as live this long after its last heartbeat.
    pub presence_ttl: Duration,
    /// Typing shows this long after the last `typing` action.
    pub typing_ttl: Duration,
    /// How long after `$connect` a 410 for the new connection may only mean "not open
    /// yet" (API Gateway answers 410 while `$connect` runs; its integrations time out
    /// after 29 s). The client's first frame ends it sooner.
    pub connect_grace: Duration,
    /// How long conversation members stay cached in the registry.
    pub member_cache_ttl: Duration,
    /// Concurrent pushes per fan-out.
    pub fanout_concurrency: usize,
    /// How long a push of message `seq` waits for `seq - 1` to be pushed first.
    pub delivery_order_timeout: Duration,
    /// Largest event frame pushed as is (API Gateway WebSocket frames are at most 32 KB).
    pub max_event_bytes: usize,
    pub files: FilePolicy,
    /// Who may talk to whom ([`crate::policy`]).
    pub contacts: ContactPolicy,
    /// Each user's allowance per kind of action ([`crate::limits`]).
    pub limits: RateLimits,
    /// Push and email notifications ([`NotifySettings`]).
    pub notify: NotifySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ticket_ttl: Duration::from_secs(30),
            presence_ttl: Duration::from_secs(90),
            typing_ttl: Duration::from_secs(6),
            connect_grace: Duration::from_secs(30),
            member_cache_ttl: Duration::from_secs(300),
            fanout_concurrency: 64,
            delivery_order_timeout: Duration::from_millis(750),
            max_event_bytes: 32 * 1024,
            files: FilePolicy::default(),
            contacts: ContactPolicy::default(),
            limits: RateLimits::default(),
            notify: NotifySettings::default(),
        }
    }
}

/// The messaging application. Cheap to share: hold it in an `Arc`.
pub struct Messaging {
    ports: Ports,
    settings: Settings,
}

impl Messaging {
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self { ports, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Takes one `action` from `who`'s allowance: `rate_limited` (429) when it is used
    /// up. A registry failure lets the action through (and is logged): limits protect
    /// the service, they must not be what takes it down.
    pub(crate) async fn spend(&self, who: &Identity, action: Action) -> Result<(), Error> {
        let key = format!("{action}:{}", who.user_id);
        match self
            .ports
            .registry
            .acquire(&key, self.settings.limits.of(action), Timestamp::now())
            .await
        {
            Ok(RateDecision::Allowed) => Ok(()),
            Ok(RateDecision::Limited { retry_after }) => {
                tracing::info!(user = %who.user_id, %action, ?retry_after, "rate limited");
                Err(Error::RateLimited {
                    action: action.as_str(),
                    retry_after_secs: retry_after.as_millis().div_ceil(1000).max(1) as u64,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, %action, "rate limiter unavailable; letting the action through");
                Ok(())
            }
        }
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The conversation's participants, from the registry's cache when it has them.
    /// A registry failure only costs the cache: the store answers.
    pub(crate) async fn members(&self, conversation: &ConversationId) -> Result<Vec<UserId>, Error> {
        match self.ports.registry.cached_members(conversation).await {
            Ok(Some(members)) => return Ok(members),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "membership cache unavailable"),
        }
        let members: Vec<UserId> = self
            .ports
            .store
            .list_participants(conversation)
            .await?
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        if !members.is_empty()
            && let Err(e) = self
                .ports
                .registry
                .cache_members(conversation, &members, self.settings.member_cache_ttl)
                .await
        {
            tracing::warn!(error = %e, "could not cache members");
        }
        Ok(members)
    }

    /// The members of many conversations: the registry's cache first (concurrent reads,
    /// which a multiplexed Redis connection sends as one pipeline), then one batched store
    /// read for the conversations it did not have, cached in turn. Conversations that do
    /// not exist are left out.
    pub(crate) async fn members_of_many(&self, conversations: &[ConversationId]) -> Result<Vec<Vec<UserId>>, Error> {
        let registry = &self.ports.registry;
        let cached = futures::future::join_all(conversations.iter().map(|c| registry.cached_members(c))).await;
        let mut found = Vec::with_capacity(conversations.len());
        let mut misses = Vec::new();
        for (conversation, hit) in conversations.iter().zip(cached) {
            match hit {
                Ok(Some(members)) => found.push(members),
                Ok(None) => misses.push(conversation.clone()),
                Err(e) => {
                    tracing::warn!(error = %e, "membership cache unavailable");
                    misses.push(conversation.clone());
                }
            }
        }
        if misses.is_empty() {
            return Ok(found);
        }
        let loaded = self.ports.store.members_of(&misses).await?;
        let ttl = self.settings.member_cache_ttl;
        let writes = loaded
            .iter()
            .filter(|(_, members)| !members.is_empty())
            .map(|(c, members)| registry.cache_members(c, members, ttl));
        for result in futures::future::join_all(writes).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not cache members");
            }
        }
        found.extend(loaded.into_iter().map(|(_, members)| members));
        Ok(found)
    }

    /// Forgets cached members after a change of participants.
    pub(crate) async fn forget_members(&self, conversation: &ConversationId) {
        if let Err(e) = self.ports.registry.invalidate_members(conversation).await {
            tracing::warn!(error = %e, "could not invalidate cached members");
        }
    }

    /// Members only. A non-member learns nothing, not even that the conversation exists.
    pub(crate) async fn require_member(
        &self,
        who: &Identity,
        conversation: &ConversationId,
    ) -> Result<Vec<UserId>, Error> {
        let members = self.members(conversation).await?;
        if members.contains(&who.user_id) {
            Ok(members)
        } else {
            Err(Error::NotFound("conversation"))
        }
    }

    /// Members, and admins (who oversee every conversation) for reading and moderating.
    pub(crate) async fn require_reader(
        &self,
        who: &Identity,
        conversation: &ConversationId,
    ) -> Result<Vec<UserId>, Error> {
        let members = self.members(conversation).await?;
        if members.contains(&who.user_id) {
            return Ok(members);
        }
        if who.is_admin() && self.ports.store.get_conversation(conversation).await?.is_some() {
            return Ok(members);
        }
        Err(Error::NotFound("conversation"))
    }
}

pub(crate) fn require_admin(who: &Identity) -> Result<(), Error> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("this route is for admins"))
    }
}
