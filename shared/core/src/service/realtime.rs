//! The real-time side: WebSocket tickets, connections, presence, typing, delayed tasks.
//!
//! Lambda functions have no timers, so "later" is a [`DelayedTask`] on the scheduler (an
//! SQS delay queue in AWS, a tokio timer locally). Typing expiry and presence healing are
//! both driven that way; their state lives in the registry with TTLs, so a lost task
//! costs at most a late "stopped"/"left", never a stuck state.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::Messaging;
use crate::error::Error;
use crate::events::{ClientAction, ServerEvent};
use crate::identity::Identity;
use crate::ids::{ConnectionId, ConversationId, UserId};
use crate::limits::{Action, Limit, RateDecision};
use crate::ports::{ConnectionInfo, DelayedTask, PresenceChange, TypingChange, TypingExpiry};
use crate::time::Timestamp;

/// At most one `user-typing` per user and conversation this often (refreshes between
/// are absorbed; receivers keep showing it for `expiresInMs`).
pub const TYPING_PUSH_INTERVAL: Duration = Duration::from_secs(2);

/// A single-use WebSocket ticket: browsers cannot set headers on a WebSocket, and a
/// long-lived token in a URL ends up in logs, so `$connect` takes this instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub ticket: String,
    pub expires_in_seconds: u64,
}

/// Tickets are 32 random bytes: unguessable for their 30-second life.
fn random_ticket() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Unavailable(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl Messaging {
    pub async fn issue_ticket(&self, who: &Identity) -> Result<Ticket, Error> {
        // Every connection needs a ticket: this is the connect limit.
        self.spend(who, Action::Connect).await?;
        let ticket = random_ticket()?;
        self.ports
            .registry
            .put_ticket(&ticket, who, self.settings.ticket_ttl)
            .await?;
        Ok(Ticket {
            ticket,
            expires_in_seconds: self.settings.ticket_ttl.as_secs(),
        })
    }

    /// Redeems a ticket (the `$connect` authorizer). A ticket works once.
    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Identity, Error> {
        if ticket.is_empty() || ticket.len() > 128 {
            return Err(Error::unauthenticated("missing or malformed ticket"));
        }
        let identity = self
            .ports
            .registry
            .take_ticket(ticket)
            .await?
            .ok_or_else(|| Error::unauthenticated("unknown, used or expired ticket"))?;
        // Disabled since the ticket was issued: refused too.
        self.authenticate(identity).await
    }

    /// The registration of a connection that has spoken (a heartbeat): it is open.
    fn connection_info(&self, connection: &ConnectionId, who: &Identity, now: Timestamp) -> ConnectionInfo {
        ConnectionInfo {
            connection_id: connection.clone(),
            identity: who.clone(),
            connected_at: now,
            expires_at: now.plus_millis(self.settings.presence_ttl.as_millis() as i64),
            opening_until: None,
        }
    }

    /// `$connect`: registers the connection; the user's first one makes them online.
    ///
    /// The connection is registered before API Gateway has opened it (it opens when this
    /// handler returns), so it is marked as opening: pushes racing this handler get 410,
    /// and the fan-out keeps such a connection instead of forgetting it (which would leave
    /// the new socket deaf until its next heartbeat). The client's first frame, or
    /// [`super::Settings::connect_grace`], ends that.
    pub async fn connect(&self, connection: &ConnectionId, who: &Identity) -> Result<(), Error> {
        let now = Timestamp::now();
        let info = ConnectionInfo {
            opening_until: Some(now.plus_millis(self.settings.connect_grace.as_millis() as i64)),
            ..self.connection_info(connection, who, now)
        };
        let change = self.ports.registry.add_connection(&info, now).await?;
        // Connection ids are what `@connections` pushes to: DEBUG only, never in the
        // INFO logs that operators ship and share.
        tracing::debug!(connection = %connection, "connection registered");
        tracing::info!(user = %who.user_id, ?change, "connected");
        self.after_presence_change(who, change).await;
        self.schedule_presence_check(&who.user_id).await;
        Ok(())
    }

    /// `$disconnect` (best effort: API Gateway may never call it; presence checks heal that).
    pub async fn disconnect(&self, connection: &ConnectionId) -> Result<(), Error> {
        let removed = self
            .ports
            .registry
            .remove_connection(connection, Timestamp::now())
            .await?;
        if let Some((user, change)) = removed {
            tracing::debug!(connection = %connection, "connection removed");
            tracing::info!(user = %user, ?change, "disconnected");
            if change == PresenceChange::WentOffline {
                self.announce_left(&user).await;
            }
        }
        Ok(())
    }

    /// A client action on an open connection; the answer (if any) goes back on the socket.
    pub async fn handle_action(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        action: ClientAction,
    ) -> Result<Option<ServerEvent>, Error> {
        match action {
            ClientAction::Ping => {
                let now = Timestamp::now();
                let info = self.connection_info(connection, who, now);
                let change = self.ports.registry.touch_connection(&info, now).await?;
                self.after_presence_change(who, change).await;
                self.schedule_presence_check(&who.user_id).await;
                Ok(Some(ServerEvent::Pong { at: now }))
            }
            ClientAction::Typing { conversation_id } => {
                self.start_typing(who, &conversation_id).await?;
                Ok(None)
            }
            ClientAction::StopTyping { conversation_id } => {
                let members = self.require_member(who, &conversation_id).await?;
                self.stop_typing_quietly(who, &conversation_id, &members).await;
                Ok(None)
            }
        }
    }

    async fn start_typing(&self, who: &Identity, conversation: &ConversationId) -> Result<(), Error> {
        let members = self.require_member(who, conversation).await?;
        self.spend(who, Action::Typing).await?;
        let ttl = self.settings.typing_ttl;
        let until = Timestamp::now().plus_millis(ttl.as_millis() as i64);
        let change = self
            .ports
            .registry
            .set_typing(conversation, &who.user_id, until)
            .await?;
        if change == TypingChange::Started {
            self.schedule(
                DelayedTask::TypingExpiry {
                    conversation_id: conversation.clone(),
                    user_id: who.user_id.clone(),
                },
                ttl,
            )
            .await;
        }
        // Refreshes are re-announced so that receivers' own safety timers stay ahead, but
        // at most one announcement per user and conversation per TYPING_PUSH_INTERVAL:
        // a client sending `typing` on every keystroke costs its co-members nothing more.
        let coalesce = format!("typing-push:{conversation}:{}", who.user_id);
        let announce = match self
            .ports
            .registry
            .acquire(&coalesce, Limit::new(1, TYPING_PUSH_INTERVAL), Timestamp::now())
            .await
        {
            Ok(RateDecision::Limited { .. }) => change == TypingChange::Started,
            Ok(RateDecision::Allowed) => true,
            Err(e) => {
                tracing::warn!(error = %e, "typing coalescing unavailable; announcing");
                true
            }
        };
        if !announce {
            return Ok(());
        }
        let others: Vec<UserId> = members.into_iter().filter(|m| m != &who.user_id).collect();
        self.publish_to_users(
            &others,
            &ServerEvent::UserTyping {
                conversation_id: conversation.clone(),
                user_id: who.user_id.clone(),
                name: who.name.clone(),
                expires_in_ms: ttl.as_millis() as u64,
            },
        )
        .await;
        Ok(())
    }

    /// Ends typing and announces "stopped" if the user was typing. Registry trouble is
    /// logged, not returned: the expiry task still announces it.
    pub(crate) async fn stop_typing_quietly(&self, who: &Identity, conversation: &ConversationId, members: &[UserId]) {
        match self.ports.registry.clear_typing(conversation, &who.user_id).await {
            Ok(true) => self.announce_stopped(conversation, &who.user_id, members).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not clear typing"),
        }
    }

    async fn announce_stopped(&self, conversation: &ConversationId, user: &UserId, members: &[UserId]) {
        let others: Vec<UserId> = members.iter().filter(|m| *m != user).cloned().collect();
        self.publish_to_users(
            &others,
            &ServerEvent::UserStoppedTyping {
                conversation_id: conversation.clone(),
                user_id: user.clone(),
            },
        )
        .await;
    }

    /// Runs a delayed task (from the SQS queue, or the local timer).
    pub async fn run_task(&self, task: DelayedTask) -> Result<(), Error> {
        match task {
            DelayedTask::TypingExpiry {
                conversation_id,
                user_id,
            } => {
                let now = Timestamp::now();
                match self
                    .ports
                    .registry
                    .expire_typing(&conversation_id, &user_id, now)
                    .await?
                {
                    TypingExpiry::Expired => {
                        let members = self.members(&conversation_id).await?;
                        self.announce_stopped(&conversation_id, &user_id, &members).await;
                    }
                    TypingExpiry::StillTyping { until } => {
                        let wait =
                            Duration::from_millis(until.as_millis().saturating_sub(now.as_millis()).max(1) as u64);
                        self.schedule(
                            DelayedTask::TypingExpiry {
                                conversation_id,
                                user_id,
                            },
                            wait,
                        )
                        .await;
                    }
                    TypingExpiry::NotTyping => {}
                }
            }
            DelayedTask::PresenceCheck { user_id } => {
                let registry = &self.ports.registry;
                registry.release_presence_check(&user_id).await?;
                let sweep = registry.sweep_user(&user_id, Timestamp::now()).await?;
                if sweep.change == PresenceChange::WentOffline {
                    self.announce_left(&user_id).await;
                }
                if sweep.next_expiry.is_some() {
                    self.schedule_presence_check(&user_id).await;
                }
            }
            DelayedTask::NotifyConversation {
                conversation_id,
                from_seq,
            } => self.notify_conversation(&conversation_id, from_seq).await?,
            DelayedTask::EmailDigest {
                conversation_id,
                user_id,
                from_seq,
                not_before,
            } => {
                self.email_digest(&conversation_id, &user_id, from_seq, not_before)
                    .await?
            }
        }
        Ok(())
    }

    /// Makes sure one presence check is pending for the user while they are connected.
    async fn schedule_presence_check(&self, user: &UserId) {
        let ttl = self.settings.presence_ttl;
        match self.ports.registry.claim_presence_check(user, ttl * 2).await {
            Ok(true) => {
                // Just after the newest heartbeat's expiry: a live client will have pinged again.
                let delay = ttl + Duration::from_millis(250);
                self.schedule(DelayedTask::PresenceCheck { user_id: user.clone() }, delay)
                    .await;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim presence check"),
        }
    }

    async fn schedule(&self, task: DelayedTask, delay: Duration) {
        if let Err(e) = self.ports.scheduler.schedule(task, delay).await {
            tracing::warn!(error = %e, "could not schedule a delayed task");
        }
    }

    async fn after_presence_change(&self, who: &Identity, change: PresenceChange) {
        if change == PresenceChange::CameOnline {
            let event = ServerEvent::UserJoined {
                user_id: who.user_id.clone(),
                name: who.name.clone(),
                at: Timestamp::now(),
            };
            if let Ok(audience) = self.presence_audience(&who.user_id).await {
                self.publish_to_users(&audience, &event).await;
            }
        }
    }

    async fn announce_left(&self, user: &UserId) {
        let event = ServerEvent::UserLeft {
            user_id: user.clone(),
            at: Timestamp::now(),
        };
        if let Ok(audience) = self.presence_audience(user).await {
            self.publish_to_users(&audience, &event).await;
        }
    }

    /// Everyone who shares a conversation with `user`: they see the user's presence.
    /// A constant number of round trips however many conversations the user is in
    /// ([`Messaging::members_of_many`]).
    pub(crate) async fn presence_audience(&self, user: &UserId) -> Result<Vec<UserId>, Error> {
        let conversations = self.ports.store.conversation_ids_of(user).await.inspect_err(|e| {
            tracing::warn!(error = %e, "could not list conversations for presence");
        })?;
        let mut audience: HashSet<UserId> = self
            .members_of_many(&conversations)
            .await?
            .into_iter()
            .flatten()
            .collect();
        audience.remove(user);
        Ok(audience.into_iter().collect())
    }
}
