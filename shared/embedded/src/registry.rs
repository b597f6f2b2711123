//! The in-process registry: tickets, connections, presence, typing, membership cache and
//! delivery order in one mutex-guarded map, with the same TTL semantics as the Redis
//! adapter (the registry conformance suite runs against both).
//!
//! Right for one process (the local gateway); state is lost on restart, as Redis state is
//! on a cache flush, and the TTL design makes that harmless.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;

use messaging_core::directory::Profile;
use messaging_core::identity::Identity;
use messaging_core::ids::{ConnectionId, ConversationId, UserId};
use messaging_core::limits::{Limit, RateDecision, gcra};
use messaging_core::ports::*;
use messaging_core::time::Timestamp;

#[derive(Default)]
struct State {
    tickets: HashMap<String, (Identity, Instant)>,
    connections: HashMap<ConnectionId, ConnectionInfo>,
    /// user → connection → expiry (ms)
    by_user: HashMap<UserId, HashMap<ConnectionId, i64>>,
    /// Users the others were told are online.
    announced_online: HashSet<UserId>,
    presence_checks: HashMap<UserId, Instant>,
    typing: HashMap<(ConversationId, UserId), i64>,
    members: HashMap<ConversationId, (Vec<UserId>, Instant)>,
    delivered: HashMap<ConversationId, watch::Sender<u64>>,
    profiles: HashMap<UserId, (Profile, Instant)>,
    listing: Option<(Vec<Profile>, Instant)>,
    /// Rate-limit key → theoretical arrival time (ms).
    allowances: HashMap<String, i64>,
    claims: HashMap<String, Instant>,
}

impl State {
    /// Drops the user's expired connections; returns the live ones' expiries.
    fn prune(&mut self, user: &UserId, now: i64) -> Vec<i64> {
        let Some(conns) = self.by_user.get_mut(user) else {
            return Vec::new();
        };
        let expired: Vec<ConnectionId> = conns
            .iter()
            .filter(|(_, exp)| **exp <= now)
            .map(|(c, _)| c.clone())
            .collect();
        for c in &expired {
            conns.remove(c);
            self.connections.remove(c);
        }
        let live: Vec<i64> = conns.values().copied().collect();
        if live.is_empty() {
            self.by_user.remove(user);
        }
        live
    }

    fn register(&mut self, info: &ConnectionInfo, now: i64) -> PresenceChange {
        let user = info.identity.user_id.clone();
        self.prune(&user, now);
        self.connections.insert(info.connection_id.clone(), info.clone());
        self.by_user
            .entry(user.clone())
            .or_default()
            .insert(info.connection_id.clone(), info.expires_at.as_millis());
        if self.announced_online.insert(user) {
            PresenceChange::CameOnline
        } else {
            PresenceChange::Unchanged
        }
    }

    fn offline_if_empty(&mut self, user: &UserId, live: &[i64]) -> PresenceChange {
        if live.is_empty() && self.announced_online.remove(user) {
            PresenceChange::WentOffline
        } else {
            PresenceChange::Unchanged
        }
    }
}

/// In-process [`Registry`].
#[derive(Default)]
pub struct MemoryRegistry {
    state: Mutex<State>,
}

impl MemoryRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> RegistryResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| RegistryError("registry mutex poisoned".into()))
    }
}

#[async_trait]
impl TicketStore for MemoryRegistry {
    async fn put_ticket(&self, ticket: &str, identity: &Identity, ttl: Duration) -> RegistryResult<()> {
        let mut s = self.lock()?;
        let now = Instant::now();
        s.tickets.retain(|_, (_, exp)| *exp > now);
        s.tickets.insert(ticket.to_owned(), (identity.clone(), now + ttl));
        Ok(())
    }

    async fn take_ticket(&self, ticket: &str) -> RegistryResult<Option<Identity>> {
        let mut s = self.lock()?;
        Ok(s.tickets
            .remove(ticket)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(id, _)| id))
    }
}

#[async_trait]
impl ConnectionRegistry for MemoryRegistry {
    async fn add_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange> {
        Ok(self.lock()?.register(info, now.as_millis()))
    }

    async fn touch_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange> {
        let mut s = self.lock()?;
        let mut info = info.clone();
        // Keep the original connect time when the connection is still registered.
        if let Some(existing) = s.connections.get(&info.connection_id) {
            info.connected_at = existing.connected_at;
        }
        Ok(s.register(&info, now.as_millis()))
    }

    async fn remove_connection(
        &self,
        id: &ConnectionId,
        now: Timestamp,
    ) -> RegistryResult<Option<(UserId, PresenceChange)>> {
        let mut s = self.lock()?;
        let Some(info) = s.connections.remove(id) else {
            return Ok(None);
        };
        let user = info.identity.user_id;
        if let Some(conns) = s.by_user.get_mut(&user) {
            conns.remove(id);
        }
        let live = s.prune(&user, now.as_millis());
        let change = s.offline_if_empty(&user, &live);
        Ok(Some((user, change)))
    }

    async fn get_connection(&self, id: &ConnectionId) -> RegistryResult<Option<ConnectionInfo>> {
        Ok(self.lock()?.connections.get(id).cloned())
    }

    async fn connections_of(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<(UserId, ConnectionId)>> {
        let s = self.lock()?;
        let now = now.as_millis();
        let mut out = Vec::new();
        for user in users {
            if let Some(conns) = s.by_user.get(user) {
                out.extend(
                    conns
                        .iter()
                        .filter(|(_, exp)| **exp > now)
                        .map(|(c, _)| (user.clone(), c.clone())),
                );
            }
        }
        Ok(out)
    }

    async fn online_users(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<UserId>> {
        let s = self.lock()?;
        let now = now.as_millis();
        Ok(users
            .iter()
            .filter(|u| s.by_user.get(*u).is_some_and(|c| c.values().any(|exp| *exp > now)))
            .cloned()
            .collect())
    }

    async fn sweep_user(&self, user: &UserId, now: Timestamp) -> RegistryResult<Sweep> {
        let mut s = self.lock()?;
        let live = s.prune(user, now.as_millis());
        let change = s.offline_if_empty(user, &live);
        Ok(Sweep {
            change,
            next_expiry: live.iter().min().map(|ms| Timestamp::from_millis(*ms)),
        })
    }

    async fn claim_presence_check(&self, user: &UserId, ttl: Duration) -> RegistryResult<bool> {
        let mut s = self.lock()?;
        let now = Instant::now();
        match s.presence_checks.get(user) {
            Some(exp) if *exp > now => Ok(false),
            _ => {
                s.presence_checks.insert(user.clone(), now + ttl);
                Ok(true)
            }
        }
    }

    async fn release_presence_check(&self, user: &UserId) -> RegistryResult<()> {
        self.lock()?.presence_checks.remove(user);
        Ok(())
    }
}

#[async_trait]
impl TypingRegistry for MemoryRegistry {
    async fn set_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        until: Timestamp,
    ) -> RegistryResult<TypingChange> {
        let mut s = self.lock()?;
        let previous = s.typing.insert((conversation.clone(), user.clone()), until.as_millis());
        Ok(if previous.is_some() {
            TypingChange::Refreshed
        } else {
            TypingChange::Started
        })
    }

    async fn clear_typing(&self, conversation: &ConversationId, user: &UserId) -> RegistryResult<bool> {
        Ok(self
            .lock()?
            .typing
            .remove(&(conversation.clone(), user.clone()))
            .is_some())
    }

    async fn expire_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        now: Timestamp,
    ) -> RegistryResult<TypingExpiry> {
        let mut s = self.lock()?;
        let key = (conversation.clone(), user.clone());
        match s.typing.get(&key).copied() {
            None => Ok(TypingExpiry::NotTyping),
            Some(until) if until > now.as_millis() => Ok(TypingExpiry::StillTyping {
                until: Timestamp::from_millis(until),
            }),
            Some(_) => {
                s.typing.remove(&key);
                Ok(TypingExpiry::Expired)
            }
        }
    }
}

#[async_trait]
impl MembershipCache for MemoryRegistry {
    async fn cached_members(&self, conversation: &ConversationId) -> RegistryResult<Option<Vec<UserId>>> {
        let s = self.lock()?;
        Ok(s.members
            .get(conversation)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(m, _)| m.clone()))
    }

    async fn cache_members(
        &self,
        conversation: &ConversationId,
        members: &[UserId],
        ttl: Duration,
    ) -> RegistryResult<()> {
        self.lock()?
            .members
            .insert(conversation.clone(), (members.to_vec(), Instant::now() + ttl));
        Ok(())
    }

    async fn invalidate_members(&self, conversation: &ConversationId) -> RegistryResult<()> {
        self.lock()?.members.remove(conversation);
        Ok(())
    }
}

#[async_trait]
impl Claims for MemoryRegistry {
    async fn claim(&self, key: &str, ttl: Duration) -> RegistryResult<bool> {
        let mut s = self.lock()?;
        let now = Instant::now();
        s.claims.retain(|_, until| *until > now);
        if s.claims.contains_key(key) {
            return Ok(false);
        }
        s.claims.insert(key.to_owned(), now + ttl);
        Ok(true)
    }

    async fn release(&self, key: &str) -> RegistryResult<()> {
        self.lock()?.claims.remove(key);
        Ok(())
    }
}

#[async_trait]
impl RateLimiter for MemoryRegistry {
    async fn acquire(&self, key: &str, limit: Limit, now: Timestamp) -> RegistryResult<RateDecision> {
        let mut s = self.lock()?;
        let now = now.as_millis();
        // Allowances back at full are dropped, so idle users cost no memory.
        if s.allowances.len() > 10_000 {
            s.allowances.retain(|_, tat| *tat > now);
        }
        let (decision, tat) = gcra(s.allowances.get(key).copied(), now, limit);
        s.allowances.insert(key.to_owned(), tat);
        Ok(decision)
    }
}

#[async_trait]
impl ProfileCache for MemoryRegistry {
    async fn cached_profiles(&self, ids: &[UserId]) -> RegistryResult<Vec<Profile>> {
        let s = self.lock()?;
        let now = Instant::now();
        Ok(ids
            .iter()
            .filter_map(|id| s.profiles.get(id))
            .filter(|(_, exp)| *exp > now)
            .map(|(p, _)| p.clone())
            .collect())
    }

    async fn cache_profiles(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()> {
        let mut s = self.lock()?;
        let until = Instant::now() + ttl;
        for p in profiles {
            s.profiles.insert(p.user_id.clone(), (p.clone(), until));
        }
        Ok(())
    }

    async fn cached_listing(&self) -> RegistryResult<Option<Vec<Profile>>> {
        let s = self.lock()?;
        Ok(s.listing
            .as_ref()
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(all, _)| all.clone()))
    }

    async fn cache_listing(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()> {
        self.lock()?.listing = Some((profiles.to_vec(), Instant::now() + ttl));
        Ok(())
    }

    async fn forget_listing(&self) -> RegistryResult<()> {
        self.lock()?.listing = None;
        Ok(())
    }
}

#[async_trait]
impl DeliveryOrder for MemoryRegistry {
    async fn wait_turn(&self, conversation: &ConversationId, seq: u64, timeout: Duration) -> RegistryResult<bool> {
        let mut rx = {
            let s = self.lock()?;
            match s.delivered.get(conversation) {
                None => return Ok(true),
                Some(tx) => tx.subscribe(),
            }
        };
        let turn = |delivered: &u64| *delivered + 1 >= seq;
        let waited = tokio::time::timeout(timeout, rx.wait_for(turn)).await;
        Ok(matches!(waited, Ok(Ok(_))))
    }

    async fn mark_delivered(&self, conversation: &ConversationId, seq: u64) -> RegistryResult<()> {
        let mut s = self.lock()?;
        match s.delivered.get(conversation) {
            Some(tx) => {
                tx.send_if_modified(|d| {
                    let moved = seq > *d;
                    if moved {
                        *d = seq;
                    }
                    moved
                });
            }
            None => {
                let (tx, _) = watch::channel(seq);
                s.delivered.insert(conversation.clone(), tx);
            }
        }
        Ok(())
    }
}
