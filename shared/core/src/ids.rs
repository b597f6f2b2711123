//! Identifiers, parsed at the edge so that an invalid id never reaches a store.
//!
//! Entity ids the server creates are ULIDs: 26 Crockford base32 characters that sort by
//! creation time, which keeps DynamoDB sort keys and SQLite indexes in insertion order.
//! Ids that come from elsewhere (users from the identity provider, WebSocket connections
//! from API Gateway, client message ids from browsers) have their own, looser grammars.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// `as_str`, `Display`, and the `String` conversions serde uses (`try_from` parses, so
/// invalid input never deserialises), shared by every string newtype of this crate.
#[macro_export]
#[doc(hidden)]
macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::Error;
            fn try_from(raw: String) -> Result<Self, $crate::error::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// On the wire, a string: `type UserId = string;` for the web client.
        #[cfg(feature = "ts")]
        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                stringify!($name).to_owned()
            }
            fn inline(_: &ts_rs::Config) -> String {
                "string".to_owned()
            }
            fn decl(_: &ts_rs::Config) -> String {
                format!("type {} = string;", stringify!($name))
            }
            fn decl_concrete(cfg: &ts_rs::Config) -> String {
                Self::decl(cfg)
            }
        }
    };
}

/// Declares a ULID-backed id newtype.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh id; ULIDs created later sort after earlier ones.
            pub fn generate() -> Self {
                Self(ulid::Ulid::generate().to_string())
            }

            /// Parses an id supplied by a client; `field` names it in the error.
            pub fn parse(raw: &str) -> Result<Self, Error> {
                parse_ulid(raw).map(Self).ok_or_else(|| {
                    Error::invalid($field, "must be a 26-character ULID")
                })
            }
        }

        $crate::string_newtype_impls!($name);
    };
}

fn parse_ulid(raw: &str) -> Option<String> {
    // Canonical upper-case form, so that an id typed in lower case still finds its row.
    // Only canonical spellings: the decoder would wrap an out-of-range first character,
    // letting two different strings name the same id.
    let ulid = ulid::Ulid::from_string(raw).ok()?;
    let canonical = ulid.to_string();
    canonical.eq_ignore_ascii_case(raw).then_some(canonical)
}

ulid_id!(
    /// A conversation (`conversations.id`).
    ConversationId,
    "conversationId"
);
ulid_id!(
    /// A message (`messages.id`); its position in the conversation is its `seq`.
    MessageId,
    "messageId"
);
ulid_id!(
    /// An attachment (`message_files.id`).
    FileId,
    "fileId"
);
ulid_id!(
    /// A report (`message_reports.id`).
    ReportId,
    "reportId"
);

/// Declares a bounded free-form token id (user ids, client message ids, ...).
macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Error> {
                let allowed: fn(char) -> bool = $allowed;
                if raw.is_empty() || raw.len() > $max {
                    return Err(Error::invalid(
                        $field,
                        format!("must be 1 to {} characters", $max),
                    ));
                }
                if let Some(bad) = raw.chars().find(|c| !allowed(*c)) {
                    return Err(Error::invalid(
                        $field,
                        format!("contains a character that is not allowed: {bad:?}"),
                    ));
                }
                Ok(Self(raw.to_owned()))
            }
        }

        $crate::string_newtype_impls!($name);
    };
}

token_id!(
    /// A user, as the identity provider names them (Cognito `sub`, or a demo user id).
    UserId,
    "userId",
    128,
    |c| c.is_ascii_alphanumeric() || "._-@+:".contains(c)
);
token_id!(
    /// The id a client generates for a message before sending it; retries reuse it,
    /// which is what makes sending idempotent.
    ClientMessageId,
    "clientMessageId",
    64,
    |c| c.is_ascii_alphanumeric() || "_-".contains(c)
);
token_id!(
    /// The project a conversation belongs to, as the delivery business names it.
    ProjectId,
    "projectId",
    64,
    |c| c.is_ascii_alphanumeric() || "._-".contains(c)
);
token_id!(
    /// An API Gateway WebSocket connection id (base64-like, e.g. `L0SM9cOFvHcCIhw=`).
    ConnectionId,
    "connectionId",
    128,
    |c| c.is_ascii_alphanumeric() || "=+/_-".contains(c)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_ids_are_canonicalised_to_upper_case() {
        let id = ConversationId::generate();
        let lower = id.as_str().to_ascii_lowercase();
        assert_eq!(ConversationId::parse(&lower).unwrap(), id);
    }

    #[test]
    fn a_malformed_conversation_id_names_its_field() {
        let err = ConversationId::parse("not-a-ulid").unwrap_err();
        assert_eq!(err.field(), Some("conversationId"));
    }

    #[test]
    fn only_canonical_ulids_are_ids() {
        let id = ConversationId::generate();
        let mut wrapped = id.as_str().to_owned();
        // '0' + 8 wraps to the same 128-bit value in a lenient decoder.
        let first = wrapped.remove(0);
        let bumped = char::from_digit(first.to_digit(32).unwrap() + 8, 32)
            .unwrap()
            .to_ascii_uppercase();
        wrapped.insert(0, bumped);
        assert!(ConversationId::parse(&wrapped).is_err());
    }

    #[test]
    fn user_ids_reject_spaces_and_overlong_values() {
        assert!(UserId::parse("u-client.ana@example").is_ok());
        assert!(UserId::parse("has space").is_err());
        assert!(UserId::parse(&"x".repeat(129)).is_err());
        assert!(UserId::parse("").is_err());
    }

    #[test]
    fn client_message_ids_accept_uuids_and_ulids() {
        assert!(ClientMessageId::parse("3f2b6c0e-8d2a-4d7e-9f59-0d7b1c2e4a11").is_ok());
        assert!(ClientMessageId::parse(&ulid::Ulid::generate().to_string()).is_ok());
        assert!(ClientMessageId::parse("a/b").is_err());
    }
}
