//! Fan-out: pushing an event to every live connection of a set of users.
//!
//! A push that fails never fails the operation that caused it: the state change is
//! already stored and clients catch up with `after=<seq>`. A 410 Gone means the
//! connection is dead; it is removed from the registry on the spot, unless it is still
//! opening (API Gateway answers 410 while `$connect` runs; see
//! [`crate::ports::ConnectionInfo::is_opening`]). Any other failure is counted in the
//! `PushFailures` metric and logged as an error: it usually means nobody hears anything.

use futures::StreamExt;

use super::Messaging;
use crate::events::ServerEvent;
use crate::ids::{ConnectionId, ConversationId, UserId};
use crate::metrics;
use crate::ports::{PresenceChange, PushError};
use crate::time::Timestamp;

/// What became of a connection API Gateway answered 410 for.
enum Gone {
    /// Still inside its `$connect`: kept, it will hear the next events.
    StillOpening,
    /// Removed from the registry; the user, if that took them offline.
    Forgotten(Option<UserId>),
}

/// One metric point per reason and one error line per fan-out, however many pushes
/// failed: a broken deployment fails every push, and a line per push would drown the logs.
fn report_failures(event: &ServerEvent, failures: &[PushError]) {
    let mut reasons: Vec<&'static str> = failures.iter().map(PushError::reason).collect();
    reasons.sort_unstable();
    reasons.dedup();
    for reason in &reasons {
        let n = failures.iter().filter(|f| f.reason() == *reason).count();
        metrics::count(metrics::PUSH_FAILURES, n as u64, reason);
    }
    let forbidden = failures.iter().any(|f| matches!(f, PushError::Forbidden(_)));
    let hint = if forbidden {
        "PostToConnection is forbidden: check that the functions' IAM policy allows \
         execute-api:ManageConnections on this stage, and that no execute-api VPC endpoint \
         with private DNS captures the API's public hostname"
    } else {
        "pushes failed; clients will only catch up when they next fetch"
    };
    tracing::error!(
        event = event.name(),
        failed = failures.len(),
        first = %failures[0],
        "{hint}"
    );
}

/// What one fan-out did; logged, and returned for tests and the benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FanoutReport {
    pub delivered: usize,
    /// 410s of connections that were forgotten.
    pub gone: usize,
    /// 410s of connections still inside their `$connect` (kept).
    pub opening: usize,
    pub failed: usize,
}

impl Messaging {
    /// Pushes `event` to all live connections of `users`.
    pub(crate) async fn publish_to_users(&self, users: &[UserId], event: &ServerEvent) -> FanoutReport {
        let (report, offline) = self.push_event(users, event).await;
        // Connections found dead may have been someone's last: tell the others. One level
        // only: dead connections found while announcing that are just removed.
        for user in offline {
            let left = ServerEvent::UserLeft {
                user_id: user.clone(),
                at: Timestamp::now(),
            };
            if let Ok(audience) = self.presence_audience(&user).await {
                self.push_event(&audience, &left).await;
            }
        }
        report
    }

    /// Publishes message `seq`'s event after `seq - 1`'s, so that every socket sees a
    /// conversation's messages in order even when sends race (bounded wait, see
    /// [`crate::ports::DeliveryOrder`]).
    pub(crate) async fn deliver_in_order(
        &self,
        conversation: &ConversationId,
        seq: u64,
        members: &[UserId],
        event: ServerEvent,
    ) {
        let registry = &self.ports.registry;
        match registry
            .wait_turn(conversation, seq, self.settings.delivery_order_timeout)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(conversation = %conversation, seq, "previous message not delivered in time; pushing anyway")
            }
            Err(e) => tracing::warn!(error = %e, "delivery order unavailable; pushing anyway"),
        }
        self.publish_to_users(members, &event).await;
        if let Err(e) = registry.mark_delivered(conversation, seq).await {
            tracing::warn!(error = %e, "could not record delivery");
        }
    }

    /// The pushes themselves; returns the users whose last connection turned out dead.
    async fn push_event(&self, users: &[UserId], event: &ServerEvent) -> (FanoutReport, Vec<UserId>) {
        let mut report = FanoutReport::default();
        let connections = match self.ports.registry.connections_of(users, Timestamp::now()).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, event = event.name(), "registry unavailable; event not pushed");
                return (report, Vec::new());
            }
        };
        if connections.is_empty() {
            return (report, Vec::new());
        }
        let payload = self.frame_for(event);
        let pusher = &self.ports.pusher;
        let results: Vec<(ConnectionId, Result<(), PushError>)> = futures::stream::iter(connections)
            .map(|(_, conn)| {
                let payload = &payload;
                async move {
                    let r = pusher.push(&conn, payload).await;
                    (conn, r)
                }
            })
            .buffer_unordered(self.settings.fanout_concurrency.max(1))
            .collect()
            .await;

        let mut offline = Vec::new();
        let mut failures: Vec<PushError> = Vec::new();
        for (conn, result) in results {
            match result {
                Ok(()) => report.delivered += 1,
                Err(PushError::Gone) => match self.forget_gone(&conn).await {
                    Gone::StillOpening => report.opening += 1,
                    Gone::Forgotten(went_offline) => {
                        report.gone += 1;
                        offline.extend(went_offline);
                    }
                },
                Err(e) => failures.push(e),
            }
        }
        report.failed = failures.len();
        if !failures.is_empty() {
            report_failures(event, &failures);
        }
        tracing::debug!(event = event.name(), ?report, "fan-out done");
        (report, offline)
    }

    /// A 410 for `connection`: forgets it, unless it is still opening. Returns who went
    /// offline with it.
    async fn forget_gone(&self, connection: &ConnectionId) -> Gone {
        let registry = &self.ports.registry;
        let now = Timestamp::now();
        match registry.get_connection(connection).await {
            Ok(Some(info)) if info.is_opening(now) => {
                tracing::debug!(connection = %connection, "410 while the connection is opening; kept");
                return Gone::StillOpening;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not look up a gone connection");
                return Gone::Forgotten(None);
            }
        }
        match registry.remove_connection(connection, now).await {
            Ok(Some((user, PresenceChange::WentOffline))) => Gone::Forgotten(Some(user)),
            Ok(_) => Gone::Forgotten(None),
            Err(e) => {
                tracing::warn!(error = %e, "could not remove a gone connection");
                Gone::Forgotten(None)
            }
        }
    }

    /// The frame to push. An event over the frame limit is replaced by `resync`, which
    /// tells the client to fetch the message over REST instead.
    fn frame_for(&self, event: &ServerEvent) -> Vec<u8> {
        let payload = event.to_json();
        if payload.len() <= self.settings.max_event_bytes {
            return payload;
        }
        match event {
            ServerEvent::NewMessage {
                conversation_id,
                message,
            }
            | ServerEvent::MessageUpdated {
                conversation_id,
                message,
            } => ServerEvent::Resync {
                conversation_id: conversation_id.clone(),
                after_seq: message.seq.saturating_sub(1),
            }
            .to_json(),
            _ => {
                tracing::error!(
                    event = event.name(),
                    bytes = payload.len(),
                    "event over the frame limit"
                );
                payload
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::events::ServerEvent;
    use crate::ids::{ConversationId, MessageId, UserId};
    use crate::time::Timestamp;
    use crate::views::MessageView;

    fn view(body: String) -> MessageView {
        MessageView {
            id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            seq: 7,
            sender_id: UserId::parse("u1").unwrap(),
            sender_name: "U".into(),
            body: Some(body),
            client_message_id: "c1".into(),
            created_at: Timestamp::now(),
            edited_at: None,
            deleted: false,
            deleted_at: None,
            files: vec![],
            mentions: vec![],
            reactions: vec![],
            reply_to_seq: None,
            quote: None,
            thread_root: None,
            reply_count: 0,
        }
    }

    #[test]
    fn the_largest_valid_message_fits_one_frame() {
        // 5,000 four-byte characters that JSON must not escape: the worst valid body.
        let body = "😀".repeat(5000);
        let message = view(body);
        let conversation_id = message.conversation_id.clone();
        let frame = ServerEvent::NewMessage {
            conversation_id,
            message,
        }
        .to_json();
        assert!(frame.len() < 32 * 1024, "frame is {} bytes", frame.len());
    }
}
