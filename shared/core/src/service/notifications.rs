//! Reaching people who are not looking.
//!
//! 1. A stored message opens a *burst* for its conversation, unless one is open: one
//!    claim in the registry (`SET NX`), and a [`DelayedTask::NotifyConversation`]
//!    [`NotifySettings::push_delay`] later. The send path pays that one claim, nothing
//!    per member.
//! 2. When the burst ends, every member with unread messages from others in it (after
//!    their level: all, mentions only, none; muted is none) who has no live connection
//!    gets one Web Push per subscribed browser ("3 new messages from Ana"), outside their
//!    quiet hours; and, if they take emails, an [`DelayedTask::EmailDigest`] is scheduled
//!    for the burst's first message plus their email delay (one per member and
//!    conversation at a time, claimed like the burst).
//! 3. The digest checks again when it fires: what the member read since, deleted
//!    messages and their settings then. Nothing left: nothing is sent. In quiet hours it
//!    waits for their end.
//!
//! The claims are released when their task starts, before it reads: a message stored
//! after that opens the next burst rather than being missed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::Messaging;
use crate::directory::People;
use crate::error::Error;
use crate::identity::Identity;
use crate::ids::{ConversationId, UserId};
use crate::model::{Message, MessageRange, ReadReceipt};
use crate::notify::{
    Mail, Notable, NotificationSettings, NotificationSettingsView, NotifyLevel, PUSH_TTL, PushSubscription, burst_key,
    push_text, senders_phrase,
};
use crate::ports::{DelayedTask, SendFailure};
use crate::text::{MessageBody, escape_html};
use crate::time::Timestamp;

/// How notifications go out.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// A burst ends this long after its first message; then members who are away get
    /// one push for all of it.
    pub push_delay: Duration,
    /// The web client's address, for the links in emails (`https://chat.example.com`);
    /// the gateway fills in its own when empty.
    pub web_url: String,
    /// The REST API's address, for one-click unsubscribe (RFC 8058); `None` leaves the
    /// `List-Unsubscribe-Post` header out.
    pub api_url: Option<String>,
    /// The sender of emails (`Messaging <notifications@example.com>`).
    pub mail_from: String,
    /// Signs unsubscribe links (HMAC-SHA256). Keep it secret and stable: links die with it.
    pub signing_key: Vec<u8>,
    /// Subscriptions kept per user (browsers and devices); the oldest go first.
    pub max_push_subscriptions: usize,
    /// Accept push endpoints on this machine or a private network (`http://127.0.0.1:…`):
    /// the local gateway's tests run a push service there. Off in AWS, where such an
    /// endpoint would make the functions post into their own network on a user's behalf.
    pub local_push_endpoints: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        let mut key = vec![0u8; 32];
        let _ = getrandom::fill(&mut key);
        Self {
            push_delay: Duration::from_secs(30),
            web_url: String::new(),
            api_url: None,
            mail_from: "Messaging <notifications@localhost>".into(),
            signing_key: key,
            max_push_subscriptions: 10,
            local_push_endpoints: false,
        }
    }
}

/// `POST /api/messaging/me/push-subscriptions`: what `PushSubscription.toJSON()` gives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscriptionInput {
    pub endpoint: String,
    #[serde(default)]
    pub expiration_time: Option<serde_json::Value>,
    pub keys: PushKeys,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// A subscribed browser as its owner sees it (no keys).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PushSubscriptionView {
    pub id: String,
    /// The push service (`https://fcm.googleapis.com`).
    pub service: String,
    pub created_at: Timestamp,
    pub user_agent: Option<String>,
}

/// The answer to an unsubscribe link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Unsubscribed {
    pub conversation_id: ConversationId,
    pub title: String,
}

/// The MAC of an unsubscribe link, over what the link names.
fn link_mac(key: &[u8], conversation: &ConversationId, user: &UserId) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(format!("unsubscribe\n{conversation}\n{user}").as_bytes());
    mac
}

/// A link token that stops `user`'s emails about `conversation`, without signing in.
pub fn unsubscribe_token(key: &[u8], conversation: &ConversationId, user: &UserId) -> String {
    format!(
        "{conversation}.{user}.{}",
        B64.encode(link_mac(key, conversation, user).finalize().into_bytes())
    )
}

fn verify_unsubscribe(key: &[u8], token: &str) -> Option<(ConversationId, UserId)> {
    let mut parts = token.splitn(3, '.');
    let (c, u, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let conversation = ConversationId::parse(c).ok()?;
    let user = UserId::parse(u).ok()?;
    let given = B64.decode(sig).ok()?;
    link_mac(key, &conversation, &user).verify_slice(&given).ok()?;
    Some((conversation, user))
}

fn decode_key(field: &'static str, raw: &str) -> Result<Vec<u8>, Error> {
    let trimmed = raw.trim_end_matches('=');
    B64.decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
        .map_err(|_| Error::invalid(field, "must be base64url"))
}

impl PushSubscriptionInput {
    /// Checks the endpoint and the keys' shapes (RFC 8291: a P-256 point and a 16-byte
    /// secret). Push services are public https hosts; unless `local` allows it (tests on
    /// one machine), an endpoint on this machine or a private network is refused, so that
    /// a subscription cannot make the functions post into their own network.
    fn validate(&self, local: bool) -> Result<(), Error> {
        let endpoint = self.endpoint.trim();
        if endpoint.len() > 2048 {
            return Err(Error::invalid("endpoint", "must be at most 2048 characters"));
        }
        if endpoint.contains(char::is_whitespace) {
            return Err(Error::invalid("endpoint", "must be an https URL"));
        }
        let (https, rest) = match (endpoint.strip_prefix("https://"), endpoint.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => return Err(Error::invalid("endpoint", "must be an https URL")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(Error::invalid("endpoint", "must be an https URL of a push service"));
        }
        let inside = is_internal_host(authority);
        if inside && !local {
            return Err(Error::invalid("endpoint", "must be a push service on the internet"));
        }
        // Plain http only for a push service on this machine (where `local` allows one).
        if !https && !inside {
            return Err(Error::invalid("endpoint", "must be an https URL"));
        }
        let key = decode_key("keys.p256dh", &self.keys.p256dh)?;
        if key.len() != 65 || key[0] != 4 {
            return Err(Error::invalid(
                "keys.p256dh",
                "must be an uncompressed P-256 public key",
            ));
        }
        if decode_key("keys.auth", &self.keys.auth)?.len() != 16 {
            return Err(Error::invalid("keys.auth", "must be 16 bytes"));
        }
        Ok(())
    }
}

/// Whether `authority` (`host[:port]`) names this machine or a private network: a
/// loopback, private, link-local or unspecified address, or a local-only name.
fn is_internal_host(authority: &str) -> bool {
    use std::net::IpAddr;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private() || v4.is_link_local())
        }
        Err(_) => {
            host == "localhost"
                || !host.contains('.')
                || [".localhost", ".local", ".internal", ".localdomain"]
                    .iter()
                    .any(|suffix| host.ends_with(suffix))
        }
    }
}

/// The subscription id: a hash of the endpoint, so that the same browser subscribing
/// again replaces its row.
fn subscription_id(endpoint: &str) -> String {
    B64.encode(&Sha256::digest(endpoint.as_bytes())[..16])
}

/// The messages of `burst` that notify `user` given their watermark and level.
fn notable_for<'a>(burst: &'a [Message], user: &UserId, last_read: u64, level: NotifyLevel) -> Vec<&'a Message> {
    burst
        .iter()
        .filter(|m| m.seq > last_read && &m.sender_id != user && !m.is_deleted())
        .filter(|m| match level {
            NotifyLevel::All => true,
            NotifyLevel::Mentions => m.mentions.contains(user),
            NotifyLevel::None => false,
        })
        .collect()
}

/// The most messages a digest quotes (it says how many more there are).
const DIGEST_QUOTES: usize = 10;
/// How many messages one notification reads at most.
const BURST_READ: usize = 100;
/// How long a digest's claim outlives its due time (a late queue, a slow retry).
const DIGEST_HOLD: Duration = Duration::from_secs(3600);

/// How long from `now` until `at` (zero when past).
fn wait_until(at: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis(at.as_millis().saturating_sub(now.as_millis()).max(0) as u64)
}

impl Messaging {
    pub async fn notification_settings(&self, who: &Identity) -> Result<NotificationSettingsView, Error> {
        Ok(self.settings_for(&who.user_id).await?.view())
    }

    pub async fn set_notification_settings(
        &self,
        who: &Identity,
        view: &NotificationSettingsView,
    ) -> Result<NotificationSettingsView, Error> {
        let settings = NotificationSettings::from_view(view)?;
        self.ports
            .store
            .put_notification_settings(&who.user_id, &settings)
            .await?;
        Ok(settings.view())
    }

    /// The VAPID public key browsers subscribe with.
    pub fn push_public_key(&self) -> String {
        self.ports.push.public_key()
    }

    pub async fn add_push_subscription(
        &self,
        who: &Identity,
        input: &PushSubscriptionInput,
        user_agent: Option<&str>,
    ) -> Result<String, Error> {
        input.validate(self.settings.notify.local_push_endpoints)?;
        let endpoint = input.endpoint.trim().to_owned();
        let subscription = PushSubscription {
            id: subscription_id(&endpoint),
            user_id: who.user_id.clone(),
            endpoint,
            p256dh: input.keys.p256dh.trim_end_matches('=').to_owned(),
            auth: input.keys.auth.trim_end_matches('=').to_owned(),
            created_at: Timestamp::now(),
            user_agent: user_agent.map(|ua| ua.chars().take(256).collect()),
        };
        let store = &self.ports.store;
        let mut existing = store.push_subscriptions(&who.user_id).await?;
        existing.retain(|s| s.id != subscription.id);
        existing.sort_by_key(|s| s.created_at);
        let excess = (existing.len() + 1).saturating_sub(self.settings.notify.max_push_subscriptions);
        for old in existing.iter().take(excess) {
            store.remove_push_subscription(&who.user_id, &old.id).await?;
        }
        store.put_push_subscription(&subscription).await?;
        Ok(subscription.id)
    }

    pub async fn push_subscriptions(&self, who: &Identity) -> Result<Vec<PushSubscriptionView>, Error> {
        let subscriptions = self.ports.store.push_subscriptions(&who.user_id).await?;
        Ok(subscriptions
            .into_iter()
            .map(|s| PushSubscriptionView {
                service: s.endpoint.split('/').take(3).collect::<Vec<_>>().join("/"),
                id: s.id,
                created_at: s.created_at,
                user_agent: s.user_agent,
            })
            .collect())
    }

    pub async fn remove_push_subscription(&self, who: &Identity, id: &str) -> Result<(), Error> {
        if self.ports.store.remove_push_subscription(&who.user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("push subscription"))
        }
    }

    /// Follows an unsubscribe link: no more emails about that conversation for that user.
    pub async fn unsubscribe(&self, token: &str) -> Result<Unsubscribed, Error> {
        let (conversation, user) = verify_unsubscribe(&self.settings.notify.signing_key, token.trim())
            .ok_or_else(|| Error::invalid("token", "is not a valid unsubscribe link"))?;
        let stored = self.stored_conversation(&conversation).await?;
        let store = &self.ports.store;
        let mut prefs = store
            .receipts_of(&user, std::slice::from_ref(&conversation))
            .await?
            .first()
            .map(|r| r.preferences)
            .unwrap_or_default();
        prefs.email_off = true;
        store
            .set_preferences(&conversation, &user, prefs, Timestamp::now())
            .await?;
        tracing::info!(conversation = %conversation, user = %user, "unsubscribed from emails");
        Ok(Unsubscribed {
            conversation_id: conversation,
            title: stored.title.to_string(),
        })
    }

    async fn settings_of(&self, users: &[UserId]) -> Result<HashMap<UserId, NotificationSettings>, Error> {
        Ok(self
            .ports
            .store
            .notification_settings(users)
            .await?
            .into_iter()
            .collect())
    }

    /// One user's settings (the defaults until they save their own).
    async fn settings_for(&self, user: &UserId) -> Result<NotificationSettings, Error> {
        Ok(self
            .settings_of(std::slice::from_ref(user))
            .await?
            .remove(user)
            .unwrap_or_default())
    }

    /// Schedules `task` unless `key` is claimed already (one pending task per key); the
    /// claim is held for `hold`, and given back if the task could not be scheduled.
    /// Failures cost a notification and are logged.
    async fn claim_and_schedule(&self, key: &str, hold: Duration, task: DelayedTask, delay: Duration) {
        match self.ports.registry.claim(key, hold).await {
            Ok(true) => {
                if let Err(e) = self.ports.scheduler.schedule(task, delay).await {
                    tracing::warn!(error = %e, key, "could not schedule a notification");
                    let _ = self.ports.registry.release(key).await;
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, key, "could not claim a notification"),
        }
    }

    /// After a message is stored: opens its conversation's burst unless one is open.
    /// Failures cost notifications, never the send.
    pub(crate) async fn open_burst(&self, message: &Message) {
        let notify = &self.settings.notify;
        let key = burst_key(&message.conversation_id, None);
        // Held past the task's due time, so that a late queue does not open a second burst.
        let hold = notify.push_delay * 4 + Duration::from_secs(60);
        let task = DelayedTask::NotifyConversation {
            conversation_id: message.conversation_id.clone(),
            from_seq: message.seq,
        };
        self.claim_and_schedule(&key, hold, task, notify.push_delay).await;
    }

    /// The messages of a burst from `from_seq` on (oldest first), with their senders'
    /// current names.
    async fn burst(&self, conversation: &ConversationId, from_seq: u64) -> Result<(Vec<Message>, People), Error> {
        let messages = self
            .ports
            .store
            .list_messages(
                conversation,
                MessageRange::After {
                    seq: from_seq.saturating_sub(1),
                    limit: BURST_READ,
                },
            )
            .await?;
        let people = self.people(messages.iter().map(|m| m.sender_id.clone())).await;
        Ok((messages, people))
    }

    /// The end of a burst: pushes to members who are away, schedules email digests.
    pub(crate) async fn notify_conversation(&self, conversation: &ConversationId, from_seq: u64) -> Result<(), Error> {
        let registry = &self.ports.registry;
        registry.release(&burst_key(conversation, None)).await?;
        let Some(stored) = self.ports.store.get_conversation(conversation).await? else {
            return Ok(());
        };
        let (burst, people) = self.burst(conversation, from_seq).await?;
        if burst.is_empty() {
            return Ok(());
        }
        let members = self.members(conversation).await?;
        let now = Timestamp::now();
        let (receipts, settings, online) = futures::join!(
            self.ports.store.list_receipts(conversation),
            self.settings_of(&members),
            registry.online_users(&members, now),
        );
        let receipts: HashMap<UserId, ReadReceipt> = receipts?.into_iter().map(|r| (r.user_id.clone(), r)).collect();
        let settings = settings?;
        let online: HashSet<UserId> = online
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "presence unavailable; treating everyone as away");
                Vec::new()
            })
            .into_iter()
            .collect();
        for user in &members {
            let receipt = receipts.get(user);
            let prefs = receipt.map(|r| r.preferences).unwrap_or_default();
            let mine = settings.get(user).copied().unwrap_or_default();
            let notable = notable_for(
                &burst,
                user,
                receipt.map_or(0, |r| r.last_read_seq),
                prefs.level(mine.level),
            );
            let Some(first) = notable.first() else { continue };
            let quiet = mine.quiet_hours.is_some_and(|q| q.contains(now));
            if mine.push && !online.contains(user) && !quiet {
                let notables: Vec<Notable> = notable.iter().map(|m| notable_of(m, &people)).collect();
                let payload = push_text(
                    conversation,
                    stored.title.as_str(),
                    &notables,
                    &format!("/messages/{conversation}"),
                );
                self.push_to(user, &payload).await;
            }
            if mine.email && !prefs.email_off {
                self.schedule_digest(conversation, user, first, mine.email_delay).await;
            }
        }
        Ok(())
    }

    async fn push_to(&self, user: &UserId, payload: &crate::notify::PushPayload) {
        let subscriptions = match self.ports.store.push_subscriptions(user).await {
            Ok(s) => s,
            Err(e) => return tracing::warn!(error = %e, "could not read push subscriptions"),
        };
        let body = serde_json::to_vec(payload).unwrap_or_default();
        for subscription in subscriptions {
            match self.ports.push.send(&subscription, &body, PUSH_TTL).await {
                Ok(()) => tracing::info!(user = %user, subscription = %subscription.id, "push sent"),
                Err(SendFailure::Gone) => {
                    tracing::info!(user = %user, subscription = %subscription.id, "push subscription expired; removed");
                    if let Err(e) = self.ports.store.remove_push_subscription(user, &subscription.id).await {
                        tracing::warn!(error = %e, "could not remove an expired push subscription");
                    }
                }
                Err(e) => tracing::warn!(error = %e, user = %user, "push failed"),
            }
        }
    }

    /// One pending digest per member and conversation: it reads from its burst's start
    /// to whatever is newest when it fires.
    async fn schedule_digest(&self, conversation: &ConversationId, user: &UserId, first: &Message, delay: Duration) {
        let key = burst_key(conversation, Some(user));
        let due = first.created_at.plus_millis(delay.as_millis() as i64);
        let wait = wait_until(due, Timestamp::now());
        let task = DelayedTask::EmailDigest {
            conversation_id: conversation.clone(),
            user_id: user.clone(),
            from_seq: first.seq,
            not_before: Some(due),
        };
        self.claim_and_schedule(&key, wait + DIGEST_HOLD, task, wait).await;
    }

    /// A member's digest: sent if messages are still unread (and not deleted) now.
    pub(crate) async fn email_digest(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        from_seq: u64,
        not_before: Option<Timestamp>,
    ) -> Result<(), Error> {
        let now = Timestamp::now();
        let key = burst_key(conversation, Some(user));
        let mine = self.settings_for(user).await?;
        // Not yet (a queue that delays at most 15 minutes), or in quiet hours: again later.
        let wake = match mine.quiet_hours.filter(|q| q.contains(now)) {
            Some(q) => Some(q.next_end(now)),
            None => not_before.filter(|t| t.as_millis() > now.as_millis() + 1000),
        };
        if let Some(at) = wake {
            let wait = wait_until(at, now);
            let registry = &self.ports.registry;
            registry.release(&key).await?;
            registry.claim(&key, wait + DIGEST_HOLD).await?;
            let task = DelayedTask::EmailDigest {
                conversation_id: conversation.clone(),
                user_id: user.clone(),
                from_seq,
                not_before: Some(at),
            };
            return self
                .ports
                .scheduler
                .schedule(task, wait)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()));
        }
        self.ports.registry.release(&key).await?;
        let members = self.members(conversation).await?;
        if !members.contains(user) {
            return Ok(());
        }
        let Some(stored) = self.ports.store.get_conversation(conversation).await? else {
            return Ok(());
        };
        let receipt = self
            .ports
            .store
            .receipts_of(user, std::slice::from_ref(conversation))
            .await?
            .into_iter()
            .next();
        let prefs = receipt.as_ref().map(|r| r.preferences).unwrap_or_default();
        let level = prefs.level(mine.level);
        if !mine.email || prefs.email_off || level == NotifyLevel::None {
            return Ok(());
        }
        let last_read = receipt.as_ref().map_or(0, |r| r.last_read_seq);
        let (burst, people) = self.burst(conversation, from_seq.max(last_read + 1)).await?;
        let notable = notable_for(&burst, user, last_read, level);
        if notable.is_empty() {
            return Ok(());
        }
        let Some(to) = self.profile(user).await?.filter(|p| p.active).and_then(|p| p.email) else {
            tracing::info!(user = %user, "no email address; digest dropped");
            return Ok(());
        };
        let notables: Vec<Notable> = notable.iter().map(|m| notable_of(m, &people)).collect();
        let mail = self.digest_mail(&to, conversation, stored.title.as_str(), user, &notables);
        match self.ports.mailer.send(&mail).await {
            Ok(()) => {
                tracing::info!(user = %user, conversation = %conversation, messages = notables.len(), "digest sent");
                Ok(())
            }
            Err(SendFailure::Temporary(e)) => Err(Error::Unavailable(e)),
            Err(e) => {
                tracing::warn!(error = %e, user = %user, "digest refused");
                Ok(())
            }
        }
    }

    fn digest_mail(
        &self,
        to: &str,
        conversation: &ConversationId,
        title: &str,
        user: &UserId,
        notables: &[Notable],
    ) -> Mail {
        let notify = &self.settings.notify;
        let web = notify.web_url.trim_end_matches('/');
        let link = format!("{web}/messages/{conversation}");
        let token = unsubscribe_token(&notify.signing_key, conversation, user);
        let unsubscribe = format!("{web}/unsubscribe?token={token}");
        let settings = format!("{web}/settings/notifications");
        let count = notables.len();
        let senders = senders_phrase(notables);
        let subject = match count {
            1 => format!("New message from {senders} in “{title}”"),
            n => format!("{n} new messages from {senders} in “{title}”"),
        };
        let quoted = &notables[..count.min(DIGEST_QUOTES)];
        let more = count - quoted.len();
        let time = |n: &Notable| n.at.to_rfc3339().get(11..16).unwrap_or_default().to_owned();

        let mut text = format!("{subject}\n\n");
        for n in quoted {
            text.push_str(&format!("{} ({} UTC):\n  {}\n\n", n.sender, time(n), n.preview));
        }
        if more > 0 {
            text.push_str(&format!("… and {more} more.\n\n"));
        }
        text.push_str(&format!(
            "Open the conversation: {link}\n\n--\nYou get this because these messages are unread.\n\
             Stop emails about this conversation: {unsubscribe}\nNotification settings: {settings}\n"
        ));

        let mut html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><h1 style=\"font-size:18px\">{}</h1>",
            escape_html(&subject)
        );
        for n in quoted {
            html.push_str(&format!(
                "<p><strong>{}</strong> <span style=\"color:#666\">{} UTC</span><br>{}</p>",
                escape_html(&n.sender),
                time(n),
                escape_html(&n.preview)
            ));
        }
        if more > 0 {
            html.push_str(&format!("<p>… and {more} more.</p>"));
        }
        html.push_str(&format!(
            "<p><a href=\"{}\">Open the conversation</a></p><hr><p style=\"font-size:12px;color:#666\">You get this \
             because these messages are unread. <a href=\"{}\">Stop emails about this conversation</a> · \
             <a href=\"{}\">Notification settings</a></p></body></html>",
            escape_html(&link),
            escape_html(&unsubscribe),
            escape_html(&settings)
        ));

        let mut headers = Vec::new();
        match &notify.api_url {
            Some(api) => {
                let one_click = format!("{}/api/messaging/unsubscribe?token={token}", api.trim_end_matches('/'));
                headers.push(("List-Unsubscribe".to_owned(), format!("<{one_click}>")));
                headers.push((
                    "List-Unsubscribe-Post".to_owned(),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
            }
            None => headers.push(("List-Unsubscribe".to_owned(), format!("<{unsubscribe}>"))),
        }
        Mail {
            to: to.to_owned(),
            from: notify.mail_from.clone(),
            subject,
            text,
            html,
            headers,
        }
    }
}

fn notable_of(m: &Message, people: &People) -> Notable {
    let preview = m.body.as_deref().map(MessageBody::preview).unwrap_or_default();
    Notable {
        sender: people.name_of(&m.sender_id, &m.sender_name),
        preview: if preview.trim().is_empty() && !m.files.is_empty() {
            format!("📎 {} file{}", m.files.len(), if m.files.len() == 1 { "" } else { "s" })
        } else {
            preview
        },
        at: m.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_verify_only_unchanged() {
        let key = b"0123456789abcdef0123456789abcdef";
        let c = ConversationId::generate();
        let u = UserId::parse("u-client-ana").unwrap();
        let token = unsubscribe_token(key, &c, &u);
        assert_eq!(verify_unsubscribe(key, &token), Some((c.clone(), u.clone())));
        assert_eq!(verify_unsubscribe(b"another key", &token), None);
        let other = UserId::parse("u-team-ben").unwrap();
        let forged = token.replace(u.as_str(), other.as_str());
        assert_eq!(verify_unsubscribe(key, &forged), None, "the user is signed");
        assert_eq!(verify_unsubscribe(key, "nonsense"), None);
        assert_eq!(verify_unsubscribe(key, &format!("{c}.{u}.")), None);
    }

    #[test]
    fn subscriptions_are_checked_for_shape() {
        let ok = PushSubscriptionInput {
            endpoint: "https://push.example.com/send/abc".into(),
            expiration_time: None,
            keys: PushKeys {
                p256dh: B64.encode([4u8; 65]),
                auth: B64.encode([7u8; 16]),
            },
        };
        assert!(ok.validate(false).is_ok());
        let field = |i: PushSubscriptionInput| i.validate(false).unwrap_err().field().map(str::to_owned);
        let with = |endpoint: &str| PushSubscriptionInput {
            endpoint: endpoint.into(),
            ..ok.clone()
        };
        for refused in [
            "ftp://x",
            "http://push.example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3:8443/x",
            "https://169.254.169.254/latest",
            "https://192.168.0.1/x",
            "https://[::1]:443/x",
            "https://[fd00::1]/x",
            "https://localhost/x",
            "https://redis.internal/x",
            "https://intranet/x",
            "https://user@push.example.com/x",
            "https://",
        ] {
            assert_eq!(field(with(refused)).as_deref(), Some("endpoint"), "{refused}");
        }
        assert!(with("https://fcm.googleapis.com/fcm/send/abc").validate(false).is_ok());
        assert!(
            with("https://updates.push.services.mozilla.com/wpush/v2/x")
                .validate(false)
                .is_ok()
        );
        // A push service on this machine (the tests'), only where allowed.
        let local = with("http://127.0.0.1:4000/push/x");
        assert!(local.validate(true).is_ok());
        assert!(local.validate(false).is_err());
        assert!(
            with("http://push.example.com/x").validate(true).is_err(),
            "plain http only on this machine"
        );
        let mut bad = ok.clone();
        bad.keys.p256dh = B64.encode([4u8; 33]);
        assert_eq!(field(bad).as_deref(), Some("keys.p256dh"));
        let mut bad = ok.clone();
        bad.keys.auth = "!!".into();
        assert_eq!(field(bad).as_deref(), Some("keys.auth"));
        assert_eq!(
            subscription_id(&ok.endpoint),
            subscription_id("https://push.example.com/send/abc")
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }
}
