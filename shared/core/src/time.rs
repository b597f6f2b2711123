//! Timestamps with millisecond precision and one text form.
//!
//! Stores keep timestamps as fixed-width RFC 3339 strings (`2026-11-23T10:15:00.123Z`), so
//! that string order is time order in DynamoDB sort keys and SQLite indexes alike.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_millis(Utc::now().timestamp_millis())
    }

    pub fn from_millis(ms: i64) -> Self {
        Self(Utc.timestamp_millis_opt(ms).single().unwrap_or_default())
    }

    pub fn as_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// Seconds since the epoch, as DynamoDB's TTL attribute wants them.
    pub fn as_epoch_seconds(&self) -> i64 {
        self.0.timestamp()
    }

    pub fn plus_millis(&self, ms: i64) -> Self {
        Self::from_millis(self.as_millis().saturating_add(ms))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|t| Self::from_millis(t.with_timezone(&Utc).timestamp_millis()))
    }

    /// The fixed-width storage and wire form.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_fixed_width_and_round_trips() {
        let t = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20.000Z");
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t));
    }
}
