//! Free text that users type, parsed once at the edge.
//!
//! Lengths count Unicode scalar values (what a user perceives as characters in nearly
//! every script), after trimming surrounding whitespace. Control characters other than
//! newline and tab are refused: they have no meaning in a chat message, and refusing them
//! keeps the JSON escaping of a 5,000-character body well inside API Gateway's 32 KB frame.
//!
//! Text must not deceive the people who read it:
//! - a value made only of invisible characters (zero-width spaces, fillers, variation
//!   selectors: Unicode's default-ignorable code points) is as empty as a blank one;
//! - more than [`MAX_COMBINING_RUN`] combining marks in a row is refused: real scripts
//!   stack a few (Vietnamese two, Hebrew with cantillation four or five), "Zalgo" text
//!   stacks thousands and paints over the messages around it;
//! - one-line labels (titles, names, file names) refuse the bidirectional embedding,
//!   override and isolate controls (U+202A–202E, U+2066–2069): `invoice_<U+202E>fdp.exe`
//!   reads as `invoice_exe.pdf`. Bodies keep them, because right-to-left writers use them,
//!   and the web client isolates each bubble so they cannot reorder anything outside it.

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup};
use icu_properties::{CodePointMapData, CodePointSetData};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest run of combining marks accepted on one base character.
pub const MAX_COMBINING_RUN: usize = 8;

/// Bidirectional embedding, override and isolate controls.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that draw nothing: whitespace, default-ignorables, and the blank braille pattern.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace() || c == '\u{2800}' || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// Combining marks (Unicode category M): accents, vowel signs, and Zalgo's stacks.
pub fn is_combining_mark(c: char) -> bool {
    GeneralCategoryGroup::Mark.contains(CodePointMapData::<GeneralCategory>::new().get(c))
}

/// The checks every label and body share, after trimming and the length check.
/// `one_line` adds the bidi-control refusal.
pub fn check_legible(text: &str, field: impl Into<Cow<'static, str>>, one_line: bool) -> Result<(), Error> {
    let field = field.into();
    if text.chars().all(is_invisible) {
        return Err(Error::invalid(field, "must contain visible characters"));
    }
    if one_line && text.chars().any(is_bidi_control) {
        return Err(Error::invalid(
            field,
            "must not contain bidirectional control characters (U+202A–202E, U+2066–2069)",
        ));
    }
    let mut run = 0;
    for c in text.chars() {
        run = if is_combining_mark(c) { run + 1 } else { 0 };
        if run > MAX_COMBINING_RUN {
            return Err(Error::invalid(
                field,
                format!("must not stack more than {MAX_COMBINING_RUN} combining marks on one character"),
            ));
        }
    }
    Ok(())
}

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
    check_legible(trimmed, field, !multiline)?;
    Ok(trimmed.to_owned())
}

/// Escapes text for HTML content and double-quoted attributes (emails, server pages).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

            /// A value read back from storage: written by an earlier version whose rules
            /// may have been looser, it stays readable rather than failing the whole page.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
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
    fn invisible_only_text_is_empty() {
        for raw in [
            "\u{200B}\u{200B}",
            "\u{200D} \u{FEFF}",
            "\u{3164}",
            "\u{2800}\u{2800}",
            "\u{FE0F}",
        ] {
            let err = MessageBody::parse(raw).unwrap_err();
            assert_eq!(err.field(), Some("body"), "{raw:?}");
            assert!(err.to_string().contains("visible"), "{err}");
        }
        assert!(Title::parse("\u{200B}").is_err());
        // Invisible characters inside real text are fine (emoji ZWJ sequences use them).
        assert!(MessageBody::parse("👩\u{200D}💻 ready").is_ok());
    }

    #[test]
    fn combining_mark_runs_are_capped() {
        let zalgo = format!("a{}", "\u{0301}".repeat(3000));
        let err = MessageBody::parse(&zalgo).unwrap_err();
        assert!(err.to_string().contains("combining marks"), "{err}");
        let stacked = format!("a{}", "\u{0301}".repeat(MAX_COMBINING_RUN + 1));
        assert!(Title::parse(&stacked).is_err());
        let ok = format!(
            "a{} b{}",
            "\u{0301}".repeat(MAX_COMBINING_RUN),
            "\u{0302}".repeat(MAX_COMBINING_RUN)
        );
        assert!(MessageBody::parse(&ok).is_ok());
        // Real scripts: Vietnamese, Devanagari, Hebrew with points.
        for text in ["Tiếng Việt", "नमस्ते दुनिया", "שָׁלוֹם"] {
            assert!(MessageBody::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn bidi_controls_are_refused_in_labels_and_kept_in_bodies() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let label = format!("invoice_{c}fdp.exe");
            let err = Title::parse(&label).unwrap_err();
            assert!(err.to_string().contains("bidirectional"), "{err}");
            assert_eq!(DisplayName::parse(&label).unwrap_err().field(), Some("name"));
            assert!(MessageBody::parse(&label).is_ok());
        }
        assert!(Title::parse("שלום team").is_ok());
    }

    #[test]
    fn previews_cut_at_a_character_boundary() {
        let preview = MessageBody::preview(&"ü".repeat(300));
        assert_eq!(preview.chars().count(), 141);
        assert!(preview.ends_with('…'));
        assert_eq!(MessageBody::preview("short"), "short");
    }
}
