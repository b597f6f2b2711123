//! Reaching people who are not looking: notification settings, quiet hours, mentions,
//! push subscriptions and what a notification says.
//!
//! The pipeline itself (bursts, delays, the read-watermark check) is in
//! [`crate::service`]; this module is the data it works on, with no I/O.

use std::time::Duration;

use chrono::{NaiveTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{ConversationId, UserId};
use crate::time::Timestamp;

string_enum!(
    /// Which messages of a conversation notify a member: every message from others, only
    /// those that mention them, or none.
    NotifyLevel, "level" { All => "all", Mentions => "mentions", None => "none" }
);

/// The longest email delay a user may choose (a day).
pub const MAX_EMAIL_DELAY: Duration = Duration::from_secs(86_400);

/// A daily window in the user's time zone in which nothing is pushed and emails wait for
/// its end. `start == end` is refused (an empty or a whole-day window is a mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after local midnight.
    pub start: u16,
    pub end: u16,
    pub time_zone: chrono_tz::Tz,
}

fn minutes_of(raw: &str, field: &'static str) -> Result<u16, Error> {
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map(|t| (t.hour() * 60 + t.minute()) as u16)
        .map_err(|_| Error::invalid(field, "must be a time of day as HH:MM (00:00 to 23:59)"))
}

fn naive_utc(at: Timestamp) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(at.as_millis())
        .unwrap_or_default()
        .naive_utc()
}

impl QuietHours {
    pub fn parse(start: &str, end: &str, time_zone: &str) -> Result<Self, Error> {
        let start = minutes_of(start, "quietHours.start")?;
        let end = minutes_of(end, "quietHours.end")?;
        if start == end {
            return Err(Error::invalid("quietHours.end", "must differ from the start"));
        }
        let time_zone = time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::invalid(
                "quietHours.timeZone",
                "unknown time zone (an IANA name such as Europe/Paris)",
            )
        })?;
        Ok(Self { start, end, time_zone })
    }

    fn local_minute(&self, at: Timestamp) -> u16 {
        let local = self.time_zone.from_utc_datetime(&naive_utc(at));
        (local.hour() * 60 + local.minute()) as u16
    }

    /// Whether `at` is inside the window (its start included, its end not).
    pub fn contains(&self, at: Timestamp) -> bool {
        let m = self.local_minute(at);
        if self.start < self.end {
            (self.start..self.end).contains(&m)
        } else {
            m >= self.start || m < self.end
        }
    }

    /// The next end of the window after `at` (when deferred emails go out). Across a
    /// daylight-saving change the local end time may not exist: then an hour later.
    pub fn next_end(&self, at: Timestamp) -> Timestamp {
        let local = self.time_zone.from_utc_datetime(&naive_utc(at));
        let end_time =
            NaiveTime::from_hms_opt(u32::from(self.end / 60), u32::from(self.end % 60), 0).unwrap_or_default();
        let mut date = local.date_naive();
        for _ in 0..3 {
            let naive = date.and_time(end_time);
            let candidate = self.time_zone.from_local_datetime(&naive).earliest().or_else(|| {
                self.time_zone
                    .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            });
            if let Some(candidate) = candidate
                && candidate.timestamp_millis() > at.as_millis()
            {
                return Timestamp::from_millis(candidate.timestamp_millis());
            }
            date = date.succ_opt().unwrap_or(date);
        }
        at.plus_millis(24 * 3_600_000)
    }

    pub fn view(&self) -> QuietHoursView {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        QuietHoursView {
            start: hm(self.start),
            end: hm(self.end),
            time_zone: self.time_zone.name().to_owned(),
        }
    }
}

/// A user's notification settings. Per conversation, [`crate::model::Preferences`]
/// may override the level and turn emails off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationSettings {
    /// The level of conversations that do not set their own.
    pub level: NotifyLevel,
    pub push: bool,
    pub email: bool,
    /// How long an unread message waits before it is emailed (a digest of the burst).
    pub email_delay: Duration,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            level: NotifyLevel::All,
            push: true,
            email: true,
            email_delay: Duration::from_secs(600),
            quiet_hours: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuietHoursView {
    /// `HH:MM`, local time.
    pub start: String,
    pub end: String,
    /// An IANA time zone name (`Europe/Paris`).
    pub time_zone: String,
}

/// The settings on the wire (`GET`/`PUT /api/messaging/me/notifications`) and in the
/// stores (as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettingsView {
    pub level: NotifyLevel,
    pub push: bool,
    pub email: bool,
    pub email_delay_seconds: u32,
    pub quiet_hours: Option<QuietHoursView>,
}

impl NotificationSettings {
    pub fn view(&self) -> NotificationSettingsView {
        NotificationSettingsView {
            level: self.level,
            push: self.push,
            email: self.email,
            email_delay_seconds: self.email_delay.as_secs() as u32,
            quiet_hours: self.quiet_hours.as_ref().map(QuietHours::view),
        }
    }

    /// Checks what a client sent (or a store holds).
    pub fn from_view(view: &NotificationSettingsView) -> Result<Self, Error> {
        let email_delay = Duration::from_secs(u64::from(view.email_delay_seconds));
        if email_delay > MAX_EMAIL_DELAY {
            return Err(Error::invalid("emailDelaySeconds", "must be at most 86400 (a day)"));
        }
        let quiet_hours = view
            .quiet_hours
            .as_ref()
            .map(|q| QuietHours::parse(&q.start, &q.end, &q.time_zone))
            .transpose()?;
        Ok(Self {
            level: view.level,
            push: view.push,
            email: view.email,
            email_delay,
            quiet_hours,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.view()).unwrap_or_default()
    }

    /// Stored settings; anything unreadable reads as the defaults (and is logged).
    pub fn from_json(raw: &str) -> Self {
        serde_json::from_str::<NotificationSettingsView>(raw)
            .map_err(|e| e.to_string())
            .and_then(|v| Self::from_view(&v).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "unreadable notification settings; using the defaults");
                Self::default()
            })
    }
}

/// A browser's push subscription (`PushSubscription.toJSON()`), stored per user and device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    /// Derived from the endpoint: subscribing the same browser again replaces the row.
    pub id: String,
    pub user_id: UserId,
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (RFC 8291 `ua_public`).
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
    pub created_at: Timestamp,
    pub user_agent: Option<String>,
}

/// How long a push service keeps an undelivered notification (the `TTL` header).
pub const PUSH_TTL: Duration = Duration::from_secs(24 * 3600);

/// What a push notification carries; the service worker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushPayload {
    pub title: String,
    pub body: String,
    /// The web client's path of the conversation.
    pub url: String,
    /// One notification per conversation: a newer one replaces it.
    pub tag: String,
    pub conversation_id: ConversationId,
}

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers (`List-Unsubscribe`, `List-Unsubscribe-Post`).
    pub headers: Vec<(String, String)>,
}

/// One message of a burst, as a notification names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notable {
    pub sender: String,
    pub preview: String,
    pub at: Timestamp,
}

/// "Ana" / "Ana and Ben" / "Ana, Ben and 2 others".
pub fn senders_phrase(notables: &[Notable]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for n in notables {
        if !names.contains(&n.sender.as_str()) {
            names.push(&n.sender);
        }
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!(
            "{a}, {b} and {} other{}",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// "3 new messages from Ana" (or the one message's preview).
pub fn push_text(conversation: &ConversationId, title: &str, notables: &[Notable], web_path: &str) -> PushPayload {
    let body = match notables {
        [one] => format!("{}: {}", one.sender, one.preview),
        many => format!("{} new messages from {}", many.len(), senders_phrase(many)),
    };
    PushPayload {
        title: title.to_owned(),
        body,
        url: web_path.to_owned(),
        tag: conversation.to_string(),
        conversation_id: conversation.clone(),
    }
}

fn folded(text: &str) -> Vec<char> {
    text.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
}

/// The participants `body` mentions: `@` and a participant's display name (any case),
/// at the start or after a non-alphanumeric character and not followed by a letter or
/// digit; `@` and a first name also counts when only one participant has it. The longest
/// name wins (`@Ana Lima` over `@Ana`). Anyone else's name is plain text. First mention
/// first, each person once, at most [`MAX_MENTIONS`] (so that an event stays one frame).
pub fn mentions_in(body: &str, people: &[(UserId, String)]) -> Vec<UserId> {
    if !body.contains('@') {
        return Vec::new();
    }
    let mut names: Vec<(Vec<char>, &UserId)> = Vec::new();
    for (id, name) in people {
        let full = folded(name.trim());
        if full.is_empty() {
            continue;
        }
        let first: Vec<char> = full.iter().copied().take_while(|c| !c.is_whitespace()).collect();
        let first_is_unique = people
            .iter()
            .filter(|(_, other)| {
                folded(other.trim())
                    .iter()
                    .copied()
                    .take_while(|c| !c.is_whitespace())
                    .eq(first.iter().copied())
            })
            .count()
            == 1;
        if first.len() < full.len() && first_is_unique {
            names.push((first, id));
        }
        names.push((full, id));
    }
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let text = folded(body);
    let mut found: Vec<UserId> = Vec::new();
    for (i, c) in text.iter().enumerate() {
        if *c != '@' || (i > 0 && text[i - 1].is_alphanumeric()) {
            continue;
        }
        let rest = &text[i + 1..];
        let hit = names.iter().find(|(name, _)| {
            rest.starts_with(name) && rest.get(name.len()).is_none_or(|next| !next.is_alphanumeric())
        });
        if let Some((_, id)) = hit
            && !found.contains(id)
        {
            found.push((*id).clone());
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

/// The most people one message mentions.
pub const MAX_MENTIONS: usize = 50;

/// The key of a pending burst: one per conversation (the push step) or per user and
/// conversation (the email step).
pub fn burst_key(conversation: &ConversationId, user: Option<&UserId>) -> String {
    match user {
        None => format!("notify:{conversation}"),
        Some(u) => format!("email:{conversation}:{u}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc: &str) -> Timestamp {
        Timestamp::parse(rfc).unwrap()
    }

    #[test]
    fn quiet_hours_across_midnight_in_the_users_zone() {
        let q = QuietHours::parse("22:00", "07:00", "Europe/Paris").unwrap();
        // 21:30 UTC in winter is 22:30 in Paris.
        assert!(q.contains(at("2026-12-01T21:30:00Z")));
        assert!(q.contains(at("2026-12-02T05:59:00Z")));
        assert!(!q.contains(at("2026-12-02T06:00:00Z")), "07:00 Paris is the end");
        assert!(!q.contains(at("2026-12-01T12:00:00Z")));
        assert_eq!(q.next_end(at("2026-12-01T21:30:00Z")), at("2026-12-02T06:00:00Z"));
        // In summer Paris is UTC+2.
        assert!(q.contains(at("2026-07-01T04:30:00Z")));
        assert_eq!(q.next_end(at("2026-07-01T04:30:00Z")), at("2026-07-01T05:00:00Z"));
    }

    #[test]
    fn quiet_hours_within_a_day() {
        let q = QuietHours::parse("12:00", "13:30", "UTC").unwrap();
        assert!(q.contains(at("2026-12-01T12:00:00Z")));
        assert!(q.contains(at("2026-12-01T13:29:00Z")));
        assert!(!q.contains(at("2026-12-01T13:30:00Z")));
        assert!(!q.contains(at("2026-12-01T11:59:00Z")));
    }

    #[test]
    fn bad_settings_name_the_field() {
        let bad = |start: &str, end: &str, tz: &str| {
            QuietHours::parse(start, end, tz)
                .unwrap_err()
                .field()
                .map(str::to_owned)
        };
        assert_eq!(bad("25:00", "07:00", "UTC").as_deref(), Some("quietHours.start"));
        assert_eq!(bad("22:00", "7", "UTC").as_deref(), Some("quietHours.end"));
        assert_eq!(bad("22:00", "22:00", "UTC").as_deref(), Some("quietHours.end"));
        assert_eq!(
            bad("22:00", "07:00", "Mars/Olympus").as_deref(),
            Some("quietHours.timeZone")
        );
        let mut view = NotificationSettings::default().view();
        view.email_delay_seconds = 86_401;
        assert_eq!(
            NotificationSettings::from_view(&view).unwrap_err().field(),
            Some("emailDelaySeconds")
        );
    }

    #[test]
    fn settings_round_trip_through_their_stored_form() {
        let s = NotificationSettings {
            level: NotifyLevel::Mentions,
            push: false,
            email: true,
            email_delay: Duration::from_secs(300),
            quiet_hours: Some(QuietHours::parse("22:00", "07:30", "America/New_York").unwrap()),
        };
        assert_eq!(NotificationSettings::from_json(&s.to_json()), s);
        assert_eq!(
            NotificationSettings::from_json("garbage"),
            NotificationSettings::default()
        );
        assert_eq!(serde_json::to_string(&NotifyLevel::None).unwrap(), "\"none\"");
        assert_eq!(NotifyLevel::parse("none").unwrap(), NotifyLevel::None);
    }

    #[test]
    fn mentions_are_participants_named_after_an_at_sign() {
        let id = |s: &str| UserId::parse(s).unwrap();
        let people = vec![
            (id("u-ana"), "Ana Lima".to_owned()),
            (id("u-ben"), "Ben Okafor".to_owned()),
            (id("u-bea"), "Ben Adams".to_owned()),
            (id("u-zoe"), "Zoé".to_owned()),
        ];
        assert_eq!(mentions_in("hi @Ana Lima, see this", &people), vec![id("u-ana")]);
        assert_eq!(mentions_in("@ana and @ZOÉ!", &people), vec![id("u-ana"), id("u-zoe")]);
        // Two Bens: a first name alone is ambiguous, a full name is not.
        assert_eq!(mentions_in("@Ben can you", &people), Vec::<UserId>::new());
        assert_eq!(mentions_in("@Ben Adams can you", &people), vec![id("u-bea")]);
        // Not a mention: in an address, a longer word, someone not in the conversation.
        assert!(mentions_in("mail ana@Ana Lima.com", &people).is_empty());
        assert!(mentions_in("@Anabel", &people).is_empty());
        assert!(mentions_in("@Omar please", &people).is_empty());
        assert_eq!(mentions_in("@Ana @ana Lima", &people), vec![id("u-ana")], "once each");
    }

    #[test]
    fn a_burst_is_named_by_its_senders() {
        let n = |s: &str| Notable {
            sender: s.into(),
            preview: format!("hi from {s}"),
            at: Timestamp::now(),
        };
        let c = ConversationId::generate();
        assert_eq!(push_text(&c, "T", &[n("Ana")], "/m").body, "Ana: hi from Ana");
        assert_eq!(
            push_text(&c, "T", &[n("Ana"), n("Ana"), n("Ana")], "/m").body,
            "3 new messages from Ana"
        );
        assert_eq!(senders_phrase(&[n("Ana"), n("Ben")]), "Ana and Ben");
        assert_eq!(
            senders_phrase(&[n("Ana"), n("Ben"), n("Cleo"), n("Ana")]),
            "Ana, Ben and 1 other"
        );
    }
}
