//! Full-text message search: what a query is, what goes into the index, and what the
//! index answers ([`crate::ports::SearchIndex`]).
//!
//! The index knows text, positions and a few filterable fields; it does not know who
//! may read what. The service narrows every query to the conversations the caller is a
//! member of *now* (so someone removed from a conversation stops finding it at once),
//! and checks every hit against the store before answering (so a message deleted after
//! it was indexed is never shown, even by an index that lags behind, as one fed from a
//! stream can).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{ConversationId, MessageId, UserId};
use crate::model::{Message, PageSize};
use crate::time::Timestamp;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most terms (words and phrases) one query may have.
pub const MAX_TERMS: usize = 12;
/// A word this long or longer also matches words it begins (`deploy` finds `deployment`);
/// shorter ones match whole words only (a one-letter prefix would match half the index).
pub const PREFIX_MIN_CHARS: usize = 3;
/// The deepest page of best-match results (relevance pages are positional).
pub const MAX_RELEVANCE_OFFSET: usize = 1_000;
pub const SEARCH_PAGE: PageSize = PageSize { default: 20, max: 50 };

/// One term of a query: every term must match (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word, lower-cased; a prefix when at least [`PREFIX_MIN_CHARS`] long.
    Word(String),
    /// `"words in quotes"`: these words, next to each other, in this order.
    Phrase(Vec<String>),
}

/// What a user typed, as terms. Words are runs of letters and digits (as the index
/// splits text), so punctuation and query syntax are plain separators: a query cannot
/// be an injection into the index's own query language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    terms: Vec<Term>,
}

impl SearchText {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid("q", format!("at most {MAX_QUERY_CHARS} characters")));
        }
        let mut terms = Vec::new();
        for (i, part) in raw.split('"').enumerate() {
            let words = words(part);
            // Odd parts are inside quotes (an unclosed quote runs to the end).
            if i % 2 == 1 && words.len() > 1 {
                terms.push(Term::Phrase(words));
            } else {
                terms.extend(words.into_iter().map(Term::Word));
            }
        }
        terms.dedup();
        if terms.is_empty() {
            return Err(Error::invalid("q", "must contain at least one letter or digit"));
        }
        if terms.len() > MAX_TERMS {
            return Err(Error::invalid("q", format!("at most {MAX_TERMS} words or phrases")));
        }
        Ok(Self { terms })
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }
}

/// Lower-cased runs of letters, digits and combining marks.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || crate::text::is_combining_mark(c)))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

string_enum!(
    /// Newest first, or best match first.
    SearchOrder, "order" { Newest => "newest", Relevance => "relevance" }
);

/// Which conversations a query may look in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every conversation (admins).
    All,
    /// These conversations only (a member's, or the one asked for).
    Only(Vec<ConversationId>),
}

/// A query as the index runs it: the service has already narrowed `scope` to what the
/// caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexQuery {
    pub text: SearchText,
    pub scope: Scope,
    pub sender: Option<UserId>,
    /// Sent at or after.
    pub from: Option<Timestamp>,
    /// Sent before.
    pub to: Option<Timestamp>,
    /// `Some(true)`: only messages with attachments; `Some(false)`: only without.
    pub has_files: Option<bool>,
    pub order: SearchOrder,
    /// Where the previous page ended ([`IndexPage::next`]).
    pub after: Option<i64>,
    pub limit: usize,
}

/// The searchable part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub sender_id: UserId,
    pub created_at: Timestamp,
    pub body: String,
    /// Attachment names: searchable too, and what `has_files` filters on.
    pub file_names: Vec<String>,
}

impl SearchDocument {
    /// What the index keeps of `message`: nothing once it is deleted.
    pub fn of(message: &Message) -> Option<Self> {
        let body = message.body.as_ref().filter(|_| !message.is_deleted())?;
        Some(Self {
            message_id: message.id.clone(),
            conversation_id: message.conversation_id.clone(),
            seq: message.seq,
            sender_id: message.sender_id.clone(),
            created_at: message.created_at,
            body: body.clone(),
            file_names: message.files.iter().map(|f| f.name.clone()).collect(),
        })
    }
}

/// A change to the index. Applying the same change twice leaves it as once (a stream
/// may deliver a record again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexChange {
    /// Adds the message, or replaces its text (an edit).
    Upsert(SearchDocument),
    /// Removes the message and its text (a delete).
    Remove(MessageId),
}

impl IndexChange {
    /// The change that brings the index in line with `message` as stored now.
    pub fn of(message: &Message) -> Self {
        match SearchDocument::of(message) {
            Some(doc) => IndexChange::Upsert(doc),
            None => IndexChange::Remove(message.id.clone()),
        }
    }
}

/// A piece of a snippet: matched words are marked, so the client highlights them
/// without ever interpreting the text as markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SnippetPart {
    pub text: String,
    /// Whether this piece matched the query.
    #[serde(rename = "match")]
    pub matched: bool,
}

/// One matching message as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexHit {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub snippet: Vec<SnippetPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexPage {
    pub hits: Vec<IndexHit>,
    /// Where the next page starts, when there may be one.
    pub next: Option<i64>,
}

/// Splits text the index marked with `open`/`close` around matches into parts.
pub fn snippet_parts(marked: &str, open: char, close: char) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, matched: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.matched == matched => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.to_owned(),
                matched,
            }),
        }
    };
    let mut rest = marked;
    while let Some(start) = rest.find(open) {
        push(&rest[..start], false);
        let after = &rest[start + open.len_utf8()..];
        let end = after.find(close).unwrap_or(after.len());
        push(&after[..end], true);
        rest = after.get(end + close.len_utf8()..).unwrap_or("");
    }
    push(rest, false);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_and_quoted_phrases() {
        let q = SearchText::parse(r#"Deploy "release notes" v2.1 fix"#).unwrap();
        assert_eq!(
            q.terms(),
            [
                Term::Word("deploy".into()),
                Term::Phrase(vec!["release".into(), "notes".into()]),
                Term::Word("v2".into()),
                Term::Word("1".into()),
                Term::Word("fix".into()),
            ]
        );
    }

    #[test]
    fn query_syntax_is_only_separators() {
        let q = SearchText::parse(r#"body:x OR NEAR(a b) * ^c -d "unclosed phrase"#).unwrap();
        let words: Vec<&String> = q
            .terms()
            .iter()
            .flat_map(|t| match t {
                Term::Word(w) => vec![w],
                Term::Phrase(p) => p.iter().collect(),
            })
            .collect();
        assert!(words.iter().all(|w| w.chars().all(char::is_alphanumeric)), "{words:?}");
        assert_eq!(
            q.terms().last(),
            Some(&Term::Phrase(vec!["unclosed".into(), "phrase".into()]))
        );
    }

    #[test]
    fn empty_long_and_wordless_queries_are_refused_naming_q() {
        let too_many: Vec<String> = (0..=MAX_TERMS).map(|i| format!("w{i}")).collect();
        for raw in [
            "",
            "   ",
            "!!! ???",
            &"a".repeat(MAX_QUERY_CHARS + 1),
            &too_many.join(" "),
        ] {
            assert_eq!(SearchText::parse(raw).unwrap_err().field(), Some("q"), "{raw:?}");
        }
    }

    #[test]
    fn accents_and_scripts_are_words() {
        let q = SearchText::parse("Café 東京 naïve").unwrap();
        assert_eq!(
            q.terms(),
            [
                Term::Word("café".into()),
                Term::Word("東京".into()),
                Term::Word("naïve".into())
            ]
        );
    }

    #[test]
    fn snippets_split_at_the_marks() {
        let parts = snippet_parts("…the \u{2}deploy\u{3} of \u{2}v2\u{3}", '\u{2}', '\u{3}');
        let shown: Vec<_> = parts.iter().map(|p| (p.text.as_str(), p.matched)).collect();
        assert_eq!(
            shown,
            [("…the ", false), ("deploy", true), (" of ", false), ("v2", true)]
        );
        assert!(snippet_parts("\u{2}unclosed", '\u{2}', '\u{3}')[0].matched);
    }
}
