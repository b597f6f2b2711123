//! Free text that users type, parsed once at the edge.
//!
//! Lengths count Unicode scalar values (what a user perceives as characters in nearly
//! every script), after trimming surrounding whitespace. Control characters other than
//! newline and tab are refused: they have no meaning in a chat message, and refusing them
//! keeps the JSON escaping of a 5,000-character body well inside API Gateway's 32 KB frame.

use serde::{Deserialize, Serialize};

use crate::error::Error;

fn parse_text(raw: &str, field: &'static str, max: usize, multiline: bool) -> Result<String, Error> {
    let normalised;
    let raw = if multiline && raw.contains('\r') {
        normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        raw
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\t');
    if trimmed.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, multiline = $multi:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Error> {
                parse_text(raw, $field, $max, $multi).map(Self)
            }
        }

        $crate::string_newtype_impls!($name);
    };
}

text_type!(
    /// A message body: 1 to 5,000 characters after trimming.
    MessageBody,
    "body",
    5000,
    multiline = true
);
text_type!(
    /// A conversation title: 1 to 200 characters, one line.
    Title,
    "title",
    200,
    multiline = false
);
text_type!(
    /// Why a user reports a message: 1 to 1,000 characters.
    ReportReason,
    "reason",
    1000,
    multiline = true
);
text_type!(
    /// A moderator's note when resolving a report.
    ResolutionNote,
    "note",
    1000,
    multiline = true
);
text_type!(
    /// The name shown for a user; from the token's `name` claim.
    DisplayName,
    "name",
    100,
    multiline = false
);

impl MessageBody {
    /// The first characters of a body, for conversation list previews.
    pub fn preview(body: &str) -> String {
        const PREVIEW_CHARS: usize = 140;
        match body.char_indices().nth(PREVIEW_CHARS) {
            Some((cut, _)) => format!("{}…", &body[..cut]),
            None => body.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_trimmed_before_it_is_measured() {
        let body = MessageBody::parse(&format!("  {}  ", "a".repeat(5000))).unwrap();
        assert_eq!(body.as_str().len(), 5000);
    }

    #[test]
    fn a_body_of_5001_characters_is_rejected() {
        let err = MessageBody::parse(&"é".repeat(5001)).unwrap_err();
        assert_eq!(err.field(), Some("body"));
        assert!(err.to_string().contains("5000"));
    }

    #[test]
    fn a_whitespace_only_body_is_rejected() {
        assert!(MessageBody::parse(" \n\t ").is_err());
    }

    #[test]
    fn newlines_are_kept_and_carriage_returns_normalised() {
        let body = MessageBody::parse("a\r\nb\rc").unwrap();
        assert_eq!(body.as_str(), "a\nb\nc");
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(MessageBody::parse("bell\u{7}").is_err());
        assert!(Title::parse("two\nlines").is_err());
    }

    #[test]
    fn previews_cut_at_a_character_boundary() {
        let preview = MessageBody::preview(&"ü".repeat(300));
        assert_eq!(preview.chars().count(), 141);
        assert!(preview.ends_with('…'));
        assert_eq!(MessageBody::preview("short"), "short");
    }
}
