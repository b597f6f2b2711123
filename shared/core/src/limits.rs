//! Per-user rate limits: how many actions of each kind one person may take.
//!
//! API Gateway's stage throttle is shared by everyone, so one user could spend the whole
//! budget (and everybody's WebSocket pushes). Each user therefore has an allowance per
//! kind of action ([`Action`]), kept in the registry ([`crate::ports::RateLimiter`]:
//! Redis in AWS, in process locally) with the generic cell rate algorithm: `count`
//! actions per `per`, all of them usable at once, refilled evenly. Over the limit, REST
//! answers 429 with `Retry-After` and WebSocket actions get an `error` frame.
//!
//! The limits are one setting, `RATE_LIMITS` (`send=30/10s,typing=20/10s`, overriding the
//! defaults of [`RateLimits::default`] one action at a time).

use std::time::Duration;

use crate::error::Error;

string_enum!(
    /// What a limit counts.
    Action, "RATE_LIMITS" {
        Send => "send",
        CreateConversation => "create-conversation",
        AddPeople => "add-people",
        Typing => "typing",
        Connect => "connect",
        Uploads => "uploads",
        Reports => "reports",
        Search => "search",
        React => "reactions",
    }
);

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Send,
        Action::CreateConversation,
        Action::AddPeople,
        Action::Typing,
        Action::Connect,
        Action::Uploads,
        Action::Reports,
        Action::Search,
        Action::React,
    ];
}

/// `count` actions per `per`, all usable at once (a burst of `count`), refilled evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub per: Duration,
}

impl Limit {
    pub const fn new(count: u32, per: Duration) -> Self {
        Self { count, per }
    }

    /// `30/10s`, `10/1m`, `5/1h`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "RATE_LIMITS",
                format!("{raw:?} is not COUNT/PERIOD such as 30/10s, 10/1m or 5/1h"),
            )
        };
        let (count, period) = raw.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let split = period.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (amount, unit) = period.split_at(split);
        let amount: u64 = amount.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => amount,
            "m" => amount * 60,
            "h" => amount * 3600,
            _ => return Err(bad()),
        };
        if count == 0 || seconds == 0 {
            return Err(bad());
        }
        Ok(Self::new(count, Duration::from_secs(seconds)))
    }

    /// Milliseconds between two actions at the sustained rate.
    pub fn interval_ms(&self) -> i64 {
        (self.per.as_millis() as i64 / i64::from(self.count)).max(1)
    }

    /// How far ahead of `now` the allowance may be spent (a burst of `count`).
    pub fn tolerance_ms(&self) -> i64 {
        self.interval_ms() * (i64::from(self.count) - 1)
    }
}

/// One try at the allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after: Duration },
}

/// The generic cell rate algorithm on a "theoretical arrival time" (`tat`, ms): the
/// in-process adapter runs this, and the Redis script is the same steps. Returns the
/// decision and the new `tat` to store (unchanged when limited).
pub fn gcra(tat: Option<i64>, now: i64, limit: Limit) -> (RateDecision, i64) {
    let tat = tat.unwrap_or(now).max(now);
    let allowed_from = tat - limit.tolerance_ms();
    if now < allowed_from {
        let wait = (allowed_from - now) as u64;
        return (
            RateDecision::Limited {
                retry_after: Duration::from_millis(wait),
            },
            tat,
        );
    }
    (RateDecision::Allowed, tat + limit.interval_ms())
}

/// The allowance of every [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    limits: [(Action, Limit); 9],
}

impl Default for RateLimits {
    /// Generous for a person, tight for a script: a person types a few messages a
    /// minute; 2,000 in four seconds is not a person.
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            limits: [
                (Action::Send, Limit::new(30, s(10))),
                (Action::CreateConversation, Limit::new(10, s(60))),
                (Action::AddPeople, Limit::new(20, s(60))),
                (Action::Typing, Limit::new(20, s(10))),
                (Action::Connect, Limit::new(20, s(60))),
                (Action::Uploads, Limit::new(20, s(60))),
                (Action::Reports, Limit::new(10, s(600))),
                (Action::Search, Limit::new(30, s(10))),
                (Action::React, Limit::new(30, s(10))),
            ],
        }
    }
}

impl RateLimits {
    pub fn of(&self, action: Action) -> Limit {
        self.limits
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, l)| *l)
            .unwrap_or(Limit::new(1, Duration::from_secs(1)))
    }

    pub fn set(&mut self, action: Action, limit: Limit) {
        for (a, l) in &mut self.limits {
            if *a == action {
                *l = limit;
            }
        }
    }

    /// `RATE_LIMITS`: `action=COUNT/PERIOD` entries, comma-separated, over the defaults.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut limits = Self::default();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (action, limit) = entry
                .split_once('=')
                .ok_or_else(|| Error::invalid("RATE_LIMITS", format!("{entry:?} is not action=COUNT/PERIOD")))?;
            limits.set(Action::parse(action.trim())?, Limit::parse(limit)?);
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_their_units_and_refuse_nonsense() {
        assert_eq!(Limit::parse("30/10s").unwrap(), Limit::new(30, Duration::from_secs(10)));
        assert_eq!(Limit::parse("10/1m").unwrap(), Limit::new(10, Duration::from_secs(60)));
        assert_eq!(
            Limit::parse(" 5/2h ").unwrap(),
            Limit::new(5, Duration::from_secs(7200))
        );
        for bad in ["", "30", "0/10s", "3/0s", "3/10", "3/10d", "x/10s", "3/s"] {
            assert!(Limit::parse(bad).is_err(), "{bad}");
        }
        let limits = RateLimits::parse("send=5/1s, typing=2/2s").unwrap();
        assert_eq!(limits.of(Action::Send), Limit::new(5, Duration::from_secs(1)));
        assert_eq!(limits.of(Action::Typing), Limit::new(2, Duration::from_secs(2)));
        assert_eq!(limits.of(Action::Reports), RateLimits::default().of(Action::Reports));
        assert!(RateLimits::parse("dance=1/1s").is_err());
        assert!(RateLimits::parse("send").is_err());
    }

    #[test]
    fn a_burst_of_count_then_one_per_interval() {
        let limit = Limit::new(5, Duration::from_secs(10)); // one every 2 s, 5 at once
        let mut tat = None;
        for _ in 0..5 {
            let (d, next) = gcra(tat, 0, limit);
            assert_eq!(d, RateDecision::Allowed);
            tat = Some(next);
        }
        let (d, same) = gcra(tat, 0, limit);
        assert_eq!(
            d,
            RateDecision::Limited {
                retry_after: Duration::from_secs(2)
            }
        );
        assert_eq!(Some(same), tat, "a refusal costs nothing");
        assert_eq!(
            gcra(tat, 1_999, limit).0,
            RateDecision::Limited {
                retry_after: Duration::from_millis(1)
            }
        );
        assert_eq!(gcra(tat, 2_000, limit).0, RateDecision::Allowed);
        // Long idle: the allowance is full again, not more than full.
        let (_, later) = gcra(tat, 1_000_000, limit);
        assert_eq!(later, 1_002_000);
    }
}
