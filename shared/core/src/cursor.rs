//! Opaque pagination cursors: URL-safe base64 of a small JSON value.
//!
//! The server is the only reader, but the client carries the cursor: it is parsed at the
//! edge ([`Cursor::parse`], a 400 naming `cursor` for anything malformed) and then
//! decoded by whoever issued it (the service, or a store adapter for its own key
//! positions), which treats a well-formed cursor of the wrong kind as invalid too.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The longest cursor accepted: positions are a few ids and timestamps.
const MAX_LEN: usize = 2048;

/// A cursor as issued by this server and handed back by a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cursor(String);

impl Cursor {
    /// A cursor for `position`.
    pub fn encode<T: Serialize>(position: &T) -> Self {
        Cursor(URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default()))
    }

    /// A cursor from a request: URL-safe base64 of JSON, at most 2 KB.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = || Error::invalid("cursor", "is not a cursor this server issued");
        if raw.is_empty() || raw.len() > MAX_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|_| invalid())?;
        Ok(Cursor(raw.to_owned()))
    }

    /// The position this cursor holds, if it holds a `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// On the wire a cursor is the plain string.
impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Cursor::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor::encode(&("2026-01-01T00:00:00.000Z", "01J"));
        let parsed = Cursor::parse(c.as_str()).unwrap();
        let back: (String, String) = parsed.decode().unwrap();
        assert_eq!(back.1, "01J");
    }

    #[test]
    fn malformed_cursors_are_a_400_naming_the_cursor() {
        for raw in ["", "!!!", "bm90IGpzb24", &"A".repeat(MAX_LEN + 1)] {
            let err = Cursor::parse(raw).unwrap_err();
            assert_eq!(err.field(), Some("cursor"), "{raw:?}");
        }
    }

    #[test]
    fn a_cursor_of_another_kind_does_not_decode() {
        let c = Cursor::encode(&42);
        assert_eq!(c.decode::<(String, String)>(), None);
    }
}
