//! The registry conformance suite: every case runs on the in-process registry and on
//! Redis (single node and cluster mode), so `make dev` behaves like production.

use std::sync::Arc;
use std::time::Duration;

use messaging_core::identity::Identity;
use messaging_core::ids::{ConnectionId, ConversationId, UserId};
use messaging_core::model::Role;
use messaging_core::ports::*;
use messaging_core::time::Timestamp;

use crate::services::unique;

fn user() -> UserId {
    UserId::parse(&unique("u")).expect("user id")
}

fn identity(user: &UserId) -> Identity {
    Identity {
        user_id: user.clone(),
        role: Role::Client,
        name: format!("{user} name"),
    }
}

fn connection() -> ConnectionId {
    ConnectionId::parse(&format!("{}=", unique("C"))).expect("connection id")
}

fn info(user: &UserId, connection: &ConnectionId, now: Timestamp, ttl_ms: i64) -> ConnectionInfo {
    ConnectionInfo {
        connection_id: connection.clone(),
        identity: identity(user),
        connected_at: now,
        expires_at: now.plus_millis(ttl_ms),
        opening_until: None,
    }
}

pub async fn tickets_are_single_use_and_expire(r: Arc<dyn Registry>) {
    let who = identity(&user());
    let ticket = unique("ticket");
    r.put_ticket(&ticket, &who, Duration::from_secs(30)).await.unwrap();
    assert_eq!(r.take_ticket(&ticket).await.unwrap(), Some(who.clone()));
    assert_eq!(r.take_ticket(&ticket).await.unwrap(), None, "a ticket works once");
    let short = unique("ticket");
    r.put_ticket(&short, &who, Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(r.take_ticket(&short).await.unwrap(), None, "an expired ticket is gone");
    assert_eq!(r.take_ticket(&unique("never")).await.unwrap(), None);
}

pub async fn presence_follows_the_first_and_last_connection(r: Arc<dyn Registry>) {
    let u = user();
    let (c1, c2) = (connection(), connection());
    let now = Timestamp::now();
    assert_eq!(
        r.add_connection(&info(&u, &c1, now, 60_000), now).await.unwrap(),
        PresenceChange::CameOnline
    );
    assert_eq!(
        r.add_connection(&info(&u, &c2, now, 60_000), now).await.unwrap(),
        PresenceChange::Unchanged,
        "second device"
    );
    assert_eq!(
        r.online_users(std::slice::from_ref(&u), now).await.unwrap(),
        vec![u.clone()]
    );
    let mut live = r.connections_of(std::slice::from_ref(&u), now).await.unwrap();
    live.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = vec![(u.clone(), c1.clone()), (u.clone(), c2.clone())];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(live, expected);
    assert_eq!(
        r.remove_connection(&c1, now).await.unwrap(),
        Some((u.clone(), PresenceChange::Unchanged))
    );
    assert_eq!(
        r.online_users(std::slice::from_ref(&u), now).await.unwrap(),
        vec![u.clone()],
        "online while any device is"
    );
    assert_eq!(
        r.remove_connection(&c2, now).await.unwrap(),
        Some((u.clone(), PresenceChange::WentOffline))
    );
    assert!(r.online_users(std::slice::from_ref(&u), now).await.unwrap().is_empty());
    assert_eq!(
        r.remove_connection(&c2, now).await.unwrap(),
        None,
        "unknown connections are not an error"
    );
    assert_eq!(r.get_connection(&c1).await.unwrap(), None);
}

pub async fn connections_are_listed_per_user_and_carry_their_identity(r: Arc<dyn Registry>) {
    let (a, b, nobody) = (user(), user(), user());
    let (ca, cb) = (connection(), connection());
    let now = Timestamp::now();
    r.add_connection(&info(&a, &ca, now, 60_000), now).await.unwrap();
    r.add_connection(&info(&b, &cb, now, 60_000), now).await.unwrap();
    let only_a = r.connections_of(&[a.clone(), nobody.clone()], now).await.unwrap();
    assert_eq!(only_a, vec![(a.clone(), ca.clone())]);
    let stored = r.get_connection(&cb).await.unwrap().expect("registered");
    assert_eq!((stored.identity.user_id, stored.connected_at), (b.clone(), now));
    assert!(r.connections_of(&[], now).await.unwrap().is_empty());
}

pub async fn expired_connections_stop_counting_and_a_sweep_takes_the_user_offline(r: Arc<dyn Registry>) {
    let u = user();
    let (c1, c2) = (connection(), connection());
    let now = Timestamp::now();
    r.add_connection(&info(&u, &c1, now, 1_000), now).await.unwrap();
    r.add_connection(&info(&u, &c2, now, 5_000), now).await.unwrap();
    let sweep = r.sweep_user(&u, now).await.unwrap();
    assert_eq!(
        sweep,
        Sweep {
            change: PresenceChange::Unchanged,
            next_expiry: Some(now.plus_millis(1_000))
        }
    );
    let later = now.plus_millis(2_000);
    assert_eq!(
        r.connections_of(std::slice::from_ref(&u), later).await.unwrap(),
        vec![(u.clone(), c2.clone())]
    );
    let sweep = r.sweep_user(&u, later).await.unwrap();
    assert_eq!(
        sweep,
        Sweep {
            change: PresenceChange::Unchanged,
            next_expiry: Some(now.plus_millis(5_000))
        }
    );
    let much_later = now.plus_millis(6_000);
    assert!(
        r.online_users(std::slice::from_ref(&u), much_later)
            .await
            .unwrap()
            .is_empty(),
        "no heartbeat, not online"
    );
    let sweep = r.sweep_user(&u, much_later).await.unwrap();
    assert_eq!(
        sweep,
        Sweep {
            change: PresenceChange::WentOffline,
            next_expiry: None
        }
    );
    let again = r.sweep_user(&u, much_later).await.unwrap();
    assert_eq!(again.change, PresenceChange::Unchanged, "offline is announced once");
}

pub async fn heartbeats_extend_a_connection_and_heal_a_swept_one(r: Arc<dyn Registry>) {
    let u = user();
    let c = connection();
    let t0 = Timestamp::now();
    r.add_connection(&info(&u, &c, t0, 1_000), t0).await.unwrap();
    let t1 = t0.plus_millis(800);
    let touched = r.touch_connection(&info(&u, &c, t1, 1_000), t1).await.unwrap();
    assert_eq!(touched, PresenceChange::Unchanged);
    let t2 = t0.plus_millis(1_500);
    assert_eq!(
        r.connections_of(std::slice::from_ref(&u), t2).await.unwrap().len(),
        1,
        "the heartbeat pushed expiry to t1+1s"
    );
    assert_eq!(
        r.get_connection(&c)
            .await
            .unwrap()
            .expect("still registered")
            .connected_at,
        t0,
        "connect time kept"
    );
    // Swept after missing heartbeats, then a late heartbeat arrives: back online.
    let t3 = t0.plus_millis(5_000);
    assert_eq!(r.sweep_user(&u, t3).await.unwrap().change, PresenceChange::WentOffline);
    assert_eq!(
        r.touch_connection(&info(&u, &c, t3, 1_000), t3).await.unwrap(),
        PresenceChange::CameOnline
    );
    assert_eq!(
        r.connections_of(std::slice::from_ref(&u), t3).await.unwrap(),
        vec![(u.clone(), c.clone())]
    );
}

pub async fn an_opening_connection_stays_marked_until_its_first_heartbeat(r: Arc<dyn Registry>) {
    let u = user();
    let c = connection();
    let now = Timestamp::now();
    let opening = ConnectionInfo {
        opening_until: Some(now.plus_millis(30_000)),
        ..info(&u, &c, now, 60_000)
    };
    r.add_connection(&opening, now).await.unwrap();
    let stored = r.get_connection(&c).await.unwrap().expect("registered");
    assert!(stored.is_opening(now), "marked as opening: {stored:?}");
    assert!(!stored.is_opening(now.plus_millis(30_001)), "only for the grace period");
    // The client's first frame (a heartbeat) proves the socket open.
    let later = now.plus_millis(500);
    r.touch_connection(&info(&u, &c, later, 60_000), later).await.unwrap();
    let stored = r.get_connection(&c).await.unwrap().expect("still registered");
    assert!(!stored.is_opening(later), "open after a heartbeat: {stored:?}");
    assert_eq!(stored.connected_at, now, "the connect time is kept");
}

pub async fn presence_check_claims_are_exclusive_until_released_or_expired(r: Arc<dyn Registry>) {
    let u = user();
    assert!(r.claim_presence_check(&u, Duration::from_secs(30)).await.unwrap());
    assert!(!r.claim_presence_check(&u, Duration::from_secs(30)).await.unwrap());
    r.release_presence_check(&u).await.unwrap();
    assert!(r.claim_presence_check(&u, Duration::from_millis(100)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        r.claim_presence_check(&u, Duration::from_secs(30)).await.unwrap(),
        "an abandoned claim expires"
    );
}

pub async fn claims_are_exclusive_per_key_until_released_or_expired(r: Arc<dyn Registry>) {
    let key = format!("notify:{}", ConversationId::generate());
    let other = format!("email:{}", ConversationId::generate());
    assert!(r.claim(&key, Duration::from_secs(30)).await.unwrap());
    assert!(!r.claim(&key, Duration::from_secs(30)).await.unwrap(), "held");
    assert!(r.claim(&other, Duration::from_secs(30)).await.unwrap(), "per key");
    r.release(&key).await.unwrap();
    r.release(&key).await.unwrap();
    assert!(r.claim(&key, Duration::from_millis(100)).await.unwrap(), "released");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        r.claim(&key, Duration::from_secs(30)).await.unwrap(),
        "an abandoned claim expires"
    );
    // Concurrent claims: exactly one wins.
    let contested = format!("notify:{}", ConversationId::generate());
    let tries = futures::future::join_all((0..20).map(|_| r.claim(&contested, Duration::from_secs(30)))).await;
    assert_eq!(tries.into_iter().filter(|t| *t.as_ref().unwrap()).count(), 1);
}

pub async fn typing_starts_refreshes_and_expires_exactly_once(r: Arc<dyn Registry>) {
    let (conv, u) = (ConversationId::generate(), user());
    let now = Timestamp::now();
    let until = now.plus_millis(3_000);
    assert_eq!(r.set_typing(&conv, &u, until).await.unwrap(), TypingChange::Started);
    let later_until = now.plus_millis(4_000);
    assert_eq!(
        r.set_typing(&conv, &u, later_until).await.unwrap(),
        TypingChange::Refreshed
    );
    assert_eq!(
        r.expire_typing(&conv, &u, now.plus_millis(3_500)).await.unwrap(),
        TypingExpiry::StillTyping { until: later_until }
    );
    assert_eq!(
        r.expire_typing(&conv, &u, now.plus_millis(4_500)).await.unwrap(),
        TypingExpiry::Expired
    );
    assert_eq!(
        r.expire_typing(&conv, &u, now.plus_millis(4_600)).await.unwrap(),
        TypingExpiry::NotTyping,
        "claimed once"
    );
    assert_eq!(r.set_typing(&conv, &u, until).await.unwrap(), TypingChange::Started);
    assert!(r.clear_typing(&conv, &u).await.unwrap());
    assert!(
        !r.clear_typing(&conv, &u).await.unwrap(),
        "stopping twice announces once"
    );
    assert_eq!(r.expire_typing(&conv, &u, now).await.unwrap(), TypingExpiry::NotTyping);
}

pub async fn the_membership_cache_round_trips_expires_and_invalidates(r: Arc<dyn Registry>) {
    let conv = ConversationId::generate();
    let members = vec![user(), user()];
    assert_eq!(r.cached_members(&conv).await.unwrap(), None);
    r.cache_members(&conv, &members, Duration::from_secs(30)).await.unwrap();
    assert_eq!(r.cached_members(&conv).await.unwrap(), Some(members.clone()));
    r.invalidate_members(&conv).await.unwrap();
    assert_eq!(r.cached_members(&conv).await.unwrap(), None);
    r.cache_members(&conv, &members, Duration::from_millis(100))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(r.cached_members(&conv).await.unwrap(), None, "expired");
}

pub async fn the_profile_cache_round_trips_expires_and_forgets_the_listing(r: Arc<dyn Registry>) {
    let profile = |name: &str| messaging_core::directory::Profile {
        user_id: user(),
        name: name.into(),
        email: Some("x@example.com".into()),
        role: Role::Team,
        organisation: Some("Acme Corp".into()),
        colour: Some("#112233".into()),
        active: true,
    };
    let (a, b) = (profile("Ben Carter"), profile("Cleo Park"));
    let ids = [a.user_id.clone(), b.user_id.clone(), user()];
    assert!(r.cached_profiles(&ids).await.unwrap().is_empty());
    r.cache_profiles(&[a.clone(), b.clone()], Duration::from_secs(30))
        .await
        .unwrap();
    let mut hits = r.cached_profiles(&ids).await.unwrap();
    hits.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(hits, vec![a.clone(), b.clone()], "misses are left out");
    let renamed = messaging_core::directory::Profile {
        name: "Ben C.".into(),
        active: false,
        ..a.clone()
    };
    r.cache_profiles(std::slice::from_ref(&renamed), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        r.cached_profiles(std::slice::from_ref(&a.user_id)).await.unwrap(),
        vec![renamed.clone()]
    );
    r.cache_profiles(std::slice::from_ref(&b), Duration::from_millis(100))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        r.cached_profiles(std::slice::from_ref(&b.user_id))
            .await
            .unwrap()
            .is_empty(),
        "expired"
    );

    assert_eq!(r.cached_listing().await.unwrap(), None);
    r.cache_listing(&[renamed.clone(), b.clone()], Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(r.cached_listing().await.unwrap(), Some(vec![renamed, b.clone()]));
    r.forget_listing().await.unwrap();
    assert_eq!(r.cached_listing().await.unwrap(), None);
    r.cache_listing(&[b], Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(r.cached_listing().await.unwrap(), None, "the listing expires too");
}

pub async fn delivery_waits_for_the_previous_seq_within_a_bound(r: Arc<dyn Registry>) {
    let fresh = ConversationId::generate();
    assert!(
        r.wait_turn(&fresh, 7, Duration::from_secs(5)).await.unwrap(),
        "nothing known: go at once"
    );

    let conv = ConversationId::generate();
    r.mark_delivered(&conv, 0).await.unwrap();
    assert!(r.wait_turn(&conv, 1, Duration::from_secs(5)).await.unwrap());
    let started = std::time::Instant::now();
    assert!(
        !r.wait_turn(&conv, 2, Duration::from_millis(200)).await.unwrap(),
        "seq 1 never delivered"
    );
    assert!(started.elapsed() >= Duration::from_millis(190), "it waited the bound");

    let waiter = {
        let r = r.clone();
        let conv = conv.clone();
        tokio::spawn(async move {
            let t = std::time::Instant::now();
            (
                r.wait_turn(&conv, 2, Duration::from_secs(5)).await.unwrap(),
                t.elapsed(),
            )
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    r.mark_delivered(&conv, 1).await.unwrap();
    let (turn, waited) = waiter.await.unwrap();
    assert!(
        turn && waited < Duration::from_secs(2),
        "released when seq 1 was delivered (after {waited:?})"
    );

    r.mark_delivered(&conv, 5).await.unwrap();
    r.mark_delivered(&conv, 3).await.unwrap();
    assert!(
        r.wait_turn(&conv, 6, Duration::from_millis(50)).await.unwrap(),
        "the watermark never moves back"
    );
    assert!(!r.wait_turn(&conv, 7, Duration::from_millis(50)).await.unwrap());
}

/// One `#[tokio::test]` per case for a registry adapter; `$fixture` is an async fn
/// returning `Arc<dyn Registry>`.
#[macro_export]
macro_rules! registry_conformance_tests {
    ($fixture:path) => {
        $crate::registry_conformance_tests!(@cases $fixture;
            tickets_are_single_use_and_expire,
            presence_follows_the_first_and_last_connection,
            connections_are_listed_per_user_and_carry_their_identity,
            expired_connections_stop_counting_and_a_sweep_takes_the_user_offline,
            heartbeats_extend_a_connection_and_heal_a_swept_one,
            an_opening_connection_stays_marked_until_its_first_heartbeat,
            presence_check_claims_are_exclusive_until_released_or_expired,
            claims_are_exclusive_per_key_until_released_or_expired,
            typing_starts_refreshes_and_expires_exactly_once,
            the_membership_cache_round_trips_expires_and_invalidates,
            the_profile_cache_round_trips_expires_and_forgets_the_listing,
            delivery_waits_for_the_previous_seq_within_a_bound,
        );
        /// Every registry is also the rate limiter.
        mod rate_limiter {
            $crate::limiter_conformance_tests!($fixture);
        }
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::registry::$case($fixture().await).await;
            }
        )+
    };
}
