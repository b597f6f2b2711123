//! Emoji reactions: a fixed vocabulary, so that what a message can carry is bounded (at
//! most [`VOCABULARY`]`.len()` reactions per person per message, each person once per
//! emoji) and every client can draw every reaction.
//!
//! A message's reactions are stored as one set of user ids per emoji: on DynamoDB one
//! string-set attribute per emoji ([`Emoji::attribute`]), changed with `ADD` / `DELETE`,
//! which DynamoDB applies atomically, so concurrent reactions all count and none is lost;
//! in SQLite a JSON column rewritten inside the writer's transaction.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::UserId;

/// Every reaction there is, in the order a picker shows them and views list them.
pub const VOCABULARY: &[&str] = &["👍", "👎", "❤️", "😂", "😮", "😢", "🎉", "🙏", "👀", "✅", "🔥", "🚀"];

/// One emoji of [`VOCABULARY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Emoji(usize);

impl Emoji {
    /// The emoji `raw` is, if it is in the vocabulary (an emoji written without its
    /// variation selector, `❤` for `❤️`, is the same reaction).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bare = |s: &str| s.replace('\u{FE0F}', "");
        VOCABULARY
            .iter()
            .position(|e| *e == raw || bare(e) == bare(raw))
            .map(Emoji)
            .ok_or_else(|| Error::invalid("emoji", format!("must be one of: {}", VOCABULARY.join(" "))))
    }

    pub fn as_str(self) -> &'static str {
        VOCABULARY[self.0]
    }

    /// The emoji's DynamoDB attribute: `reaction_` and its code points in hex
    /// (`reaction_2764_fe0f` for ❤️). Attribute names stay ASCII and top-level (`ADD`
    /// and `DELETE` on a set act on top-level attributes).
    pub fn attribute(self) -> String {
        let points: Vec<String> = self.as_str().chars().map(|c| format!("{:x}", c as u32)).collect();
        format!("{ATTRIBUTE_PREFIX}{}", points.join("_"))
    }

    /// The emoji whose [`Emoji::attribute`] is `name`.
    pub fn from_attribute(name: &str) -> Option<Self> {
        let points = name.strip_prefix(ATTRIBUTE_PREFIX)?;
        let text: Option<String> = points
            .split('_')
            .map(|p| u32::from_str_radix(p, 16).ok().and_then(char::from_u32))
            .collect();
        VOCABULARY.iter().position(|e| Some(*e) == text.as_deref()).map(Emoji)
    }

    pub fn all() -> impl Iterator<Item = Emoji> {
        (0..VOCABULARY.len()).map(Emoji)
    }
}

/// Reactions one message holds at most (every emoji's users counted): what keeps a
/// message's largest frame (a 5,000-character body and every reaction) under API
/// Gateway's 32 KB.
pub const MAX_PER_MESSAGE: usize = 120;

/// How many reactions `reactions` holds.
pub fn total(reactions: &[Reaction]) -> usize {
    reactions.iter().map(|r| r.user_ids.len()).sum()
}

/// What every reaction attribute's name starts with.
pub const ATTRIBUTE_PREFIX: &str = "reaction_";

/// One emoji on a message and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub emoji: String,
    /// Who reacted with it, by id (sorted).
    pub user_ids: Vec<UserId>,
}

/// A message's reactions: emoji in vocabulary order, none without a user.
pub fn collect(per_emoji: impl IntoIterator<Item = (Emoji, BTreeSet<UserId>)>) -> Vec<Reaction> {
    let mut all: Vec<(Emoji, BTreeSet<UserId>)> = per_emoji.into_iter().filter(|(_, u)| !u.is_empty()).collect();
    all.sort_by_key(|(e, _)| *e);
    all.into_iter()
        .map(|(e, users)| Reaction {
            emoji: e.as_str().to_owned(),
            user_ids: users.into_iter().collect(),
        })
        .collect()
}

/// `reactions` with `user`'s `emoji` added or taken away.
pub fn changed(reactions: &[Reaction], emoji: Emoji, user: &UserId, add: bool) -> Vec<Reaction> {
    let mut per_emoji: Vec<(Emoji, BTreeSet<UserId>)> = reactions
        .iter()
        .filter_map(|r| Some((Emoji::parse(&r.emoji).ok()?, r.user_ids.iter().cloned().collect())))
        .collect();
    match per_emoji.iter_mut().find(|(e, _)| *e == emoji) {
        Some((_, users)) if add => {
            users.insert(user.clone());
        }
        Some((_, users)) => {
            users.remove(user);
        }
        None if add => per_emoji.push((emoji, BTreeSet::from([user.clone()]))),
        None => {}
    }
    collect(per_emoji)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn only_the_vocabulary_is_accepted_with_or_without_its_variation_selector() {
        assert_eq!(Emoji::parse("👍").unwrap().as_str(), "👍");
        assert_eq!(Emoji::parse("❤").unwrap().as_str(), "❤️");
        for bad in ["", "x", "👍👍", "<script>", "🦀", "👍\u{200d}"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attributes_name_every_emoji_in_ascii_and_read_back() {
        for e in Emoji::all() {
            let name = e.attribute();
            assert!(name.is_ascii(), "{name}");
            assert_eq!(Emoji::from_attribute(&name), Some(e));
        }
        assert_eq!(Emoji::parse("❤️").unwrap().attribute(), "reaction_2764_fe0f");
        assert_eq!(Emoji::from_attribute("reaction_1f980"), None, "not in the vocabulary");
        assert_eq!(Emoji::from_attribute("body"), None);
    }

    #[test]
    fn changes_add_once_remove_and_keep_vocabulary_order() {
        let (ana, ben) = (user("u-ana"), user("u-ben"));
        let fire = Emoji::parse("🔥").unwrap();
        let up = Emoji::parse("👍").unwrap();
        let r = changed(&[], fire, &ana, true);
        let r = changed(&r, fire, &ana, true);
        let r = changed(&r, up, &ben, true);
        let r = changed(&r, fire, &ben, true);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].emoji, "👍", "vocabulary order");
        assert_eq!(r[1].user_ids, [ana.clone(), ben.clone()]);
        let r = changed(&r, up, &ben, false);
        let r = changed(&r, up, &ana, false);
        assert_eq!(r.len(), 1, "an emoji nobody uses any more is gone");
        assert_eq!(r[0].user_ids, [ana, ben]);
    }
}
