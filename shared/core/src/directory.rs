//! People, as the identity provider's directory knows them.
//!
//! Names, roles and organisations shown to others come from here, never from what a
//! client typed: a roster is a list of user ids, and every view that names someone looks
//! the name up (through a cache, see [`CachedDirectory`]). A user the directory does not
//! know, or one an admin disabled, cannot sign in ([`crate::Messaging::authenticate`]).
//!
//! Search is done here, over the directory's profiles, so that every adapter answers a
//! [`PeopleQuery`] the same way; adapters only fetch and persist.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::error::{DirectoryResult, Error};
use crate::identity::{Identity, Role};
use crate::ids::UserId;
use crate::model::{Page, PageSize};
use crate::ports::{ProfileCache, UserDirectory};
use crate::text::DisplayName;

/// One person in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: UserId,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// From the identity provider's groups (`admin`, `team`; anyone else is a client).
    pub role: Role,
    /// The client's company, when the directory records one.
    #[serde(default)]
    pub organisation: Option<String>,
    /// An avatar colour (`#rrggbb`) the directory assigns, if any.
    #[serde(default)]
    pub colour: Option<String>,
    /// Disabled users cannot sign in, and their tokens stop working at once.
    pub active: bool,
}

impl Profile {
    /// Who this person is to the service once their token verified.
    pub fn identity(&self) -> Identity {
        Identity {
            user_id: self.user_id.clone(),
            role: self.role,
            name: self.name.clone(),
        }
    }

    /// Up to two letters for an avatar: the first letters of the first and last words.
    pub fn initials(&self) -> String {
        initials(&self.name)
    }

    fn matches_text(&self, needle: &str) -> bool {
        self.name.to_lowercase().contains(needle)
            || self.email.as_deref().is_some_and(|e| e.to_lowercase().contains(needle))
    }
}

pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: &str| {
        w.chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
            .unwrap_or_default()
    };
    match words.as_slice() {
        [] => String::new(),
        [only] => first(only),
        [head, .., last] => format!("{}{}", first(head), first(last)),
    }
}

/// A profile as the wire shows it to a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub initials: String,
    pub colour: Option<String>,
    /// Shown to the team, to admins and to the person themselves; `null` to other clients.
    pub email: Option<String>,
    pub active: bool,
}

impl ProfileView {
    pub fn of(profile: &Profile, viewer: &Identity) -> Self {
        let sees_email = viewer.is_staff() || viewer.user_id == profile.user_id;
        Self {
            user_id: profile.user_id.clone(),
            name: profile.name.clone(),
            role: profile.role,
            organisation: profile.organisation.clone(),
            initials: profile.initials(),
            colour: profile.colour.clone(),
            email: if sees_email { profile.email.clone() } else { None },
            active: profile.active,
        }
    }
}

/// Which part of the directory a search covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Team members and admins, and the clients of `organisation` when there is one.
    TeamAnd {
        organisation: Option<String>,
    },
}

impl Audience {
    pub fn includes(&self, p: &Profile) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::TeamAnd { organisation } => {
                p.role != Role::Client || (organisation.is_some() && p.organisation == *organisation)
            }
        }
    }
}

/// People search: `GET /api/messaging/people` (what the caller may see) and the admin's
/// user list (everyone, disabled users too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Matches a part of the name or the email, ignoring case.
    pub text: Option<String>,
    pub audience: Audience,
    /// Only users in this state (`Some(true)` for people search); `None`: everyone.
    pub active: Option<bool>,
    /// Left out of the results (the caller, who does not add themselves).
    pub exclude: Option<UserId>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

pub const PEOPLE_PAGE: PageSize = PageSize { default: 20, max: 100 };

/// Keyset position in a people list: sorted by lower-cased name, then id.
#[derive(Serialize, Deserialize)]
struct PeoplePosition {
    name: String,
    id: String,
}

fn sort_key(p: &Profile) -> (String, String) {
    (p.name.to_lowercase(), p.user_id.to_string())
}

impl PeopleQuery {
    pub fn matches(&self, p: &Profile) -> bool {
        self.active.is_none_or(|active| p.active == active)
            && self.audience.includes(p)
            && self.exclude.as_ref() != Some(&p.user_id)
            && self.text.as_deref().is_none_or(|t| p.matches_text(t))
    }

    /// The page of `profiles` this query asks for.
    pub fn page(&self, profiles: Vec<Profile>) -> Result<Page<Profile>, Error> {
        let after: Option<(String, String)> = self
            .cursor
            .as_ref()
            .map(|c| {
                c.decode::<PeoplePosition>()
                    .map(|p| (p.name, p.id))
                    .ok_or_else(|| Error::invalid("cursor", "is not a cursor of this list"))
            })
            .transpose()?;
        let mut hits: Vec<Profile> = profiles
            .into_iter()
            .filter(|p| self.matches(p))
            .filter(|p| after.as_ref().is_none_or(|a| sort_key(p) > *a))
            .collect();
        hits.sort_by_key(sort_key);
        let more = hits.len() > self.limit;
        hits.truncate(self.limit);
        let next_cursor = if more {
            hits.last().map(|p| {
                let (name, id) = sort_key(p);
                Cursor::encode(&PeoplePosition { name, id })
            })
        } else {
            None
        };
        Ok(Page {
            items: hits,
            next_cursor,
        })
    }
}

/// Profiles by id, for naming people in views.
#[derive(Debug, Clone, Default)]
pub struct People(HashMap<UserId, Profile>);

impl People {
    pub fn new(profiles: Vec<Profile>) -> Self {
        Self(profiles.into_iter().map(|p| (p.user_id.clone(), p)).collect())
    }

    pub fn get(&self, id: &UserId) -> Option<&Profile> {
        self.0.get(id)
    }

    pub fn extend(&mut self, more: People) {
        self.0.extend(more.0);
    }

    /// The directory's name for `id`, or `fallback` (what a row recorded) when the
    /// directory no longer knows them.
    pub fn name_of(&self, id: &UserId, fallback: &str) -> String {
        self.0.get(id).map_or_else(|| fallback.to_owned(), |p| p.name.clone())
    }

    pub fn role_of(&self, id: &UserId, fallback: Role) -> Role {
        self.0.get(id).map_or(fallback, |p| p.role)
    }
}

/// A directory behind a cache shared by every function (the registry: Redis in AWS).
///
/// Cognito's admin APIs are rate-limited (tens of requests per second per pool) and each
/// costs a network round trip, so profiles are cached for `ttl` and the whole listing
/// (people search) for `listing_ttl`. Changes made through the service (disabling a
/// user, a new display name) are written to the cache at once, so they show
/// everywhere at once; changes made directly in the identity provider's console show
/// after at most `ttl`. A cache failure falls back to the directory for reads; writes
/// fail, so that nobody believes a disabled user is still enabled.
pub struct CachedDirectory {
    inner: Arc<dyn UserDirectory>,
    cache: Arc<dyn ProfileCache>,
    ttl: Duration,
    listing_ttl: Duration,
}

impl CachedDirectory {
    pub fn new(
        inner: Arc<dyn UserDirectory>,
        cache: Arc<dyn ProfileCache>,
        ttl: Duration,
        listing_ttl: Duration,
    ) -> Self {
        Self {
            inner,
            cache,
            ttl,
            listing_ttl,
        }
    }

    async fn remember(&self, profile: Option<Profile>) -> DirectoryResult<Option<Profile>> {
        if let Some(p) = &profile {
            self.cache
                .cache_profiles(std::slice::from_ref(p), self.ttl)
                .await
                .map_err(|e| crate::error::DirectoryError::Backend(format!("profile cache: {e}")))?;
            self.cache
                .forget_listing()
                .await
                .map_err(|e| crate::error::DirectoryError::Backend(format!("profile cache: {e}")))?;
        }
        Ok(profile)
    }
}

#[async_trait]
impl UserDirectory for CachedDirectory {
    async fn profiles(&self, ids: &[UserId]) -> DirectoryResult<Vec<Profile>> {
        let mut found = match self.cache.cached_profiles(ids).await {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(error = %e, "profile cache unavailable; asking the directory");
                Vec::new()
            }
        };
        let missing: Vec<UserId> = ids
            .iter()
            .filter(|id| !found.iter().any(|p| &p.user_id == *id))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let fetched = self.inner.profiles(&missing).await?;
            if !fetched.is_empty()
                && let Err(e) = self.cache.cache_profiles(&fetched, self.ttl).await
            {
                tracing::warn!(error = %e, "could not cache profiles");
            }
            found.extend(fetched);
        }
        Ok(found)
    }

    async fn all_profiles(&self) -> DirectoryResult<Vec<Profile>> {
        match self.cache.cached_listing().await {
            Ok(Some(all)) => return Ok(all),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "profile cache unavailable; listing the directory"),
        }
        let all = self.inner.all_profiles().await?;
        if let Err(e) = self.cache.cache_listing(&all, self.listing_ttl).await {
            tracing::warn!(error = %e, "could not cache the directory listing");
        }
        Ok(all)
    }

    async fn set_active(&self, id: &UserId, active: bool) -> DirectoryResult<Option<Profile>> {
        let profile = self.inner.set_active(id, active).await?;
        self.remember(profile).await
    }

    async fn set_name(&self, id: &UserId, name: &DisplayName) -> DirectoryResult<Option<Profile>> {
        let profile = self.inner.set_name(id, name).await?;
        self.remember(profile).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str, name: &str, role: Role, org: Option<&str>, active: bool) -> Profile {
        Profile {
            user_id: UserId::parse(id).unwrap(),
            name: name.into(),
            email: Some(format!("{id}@example.com")),
            role,
            organisation: org.map(str::to_owned),
            colour: None,
            active,
        }
    }

    fn query(audience: Audience) -> PeopleQuery {
        PeopleQuery {
            text: None,
            audience,
            active: Some(true),
            exclude: None,
            cursor: None,
            limit: 10,
        }
    }

    #[test]
    fn initials_take_the_first_and_last_words() {
        assert_eq!(initials("ana maria alvarez"), "AA");
        assert_eq!(initials("Cleo"), "C");
        assert_eq!(initials("  "), "");
    }

    #[test]
    fn a_client_audience_is_the_team_and_their_own_organisation() {
        let all = vec![
            profile("t", "Team", Role::Team, None, true),
            profile("a", "Admin", Role::Admin, None, true),
            profile("c1", "Same org", Role::Client, Some("Acme"), true),
            profile("c2", "Other org", Role::Client, Some("Globex"), true),
            profile("c3", "No org", Role::Client, None, true),
            profile("t2", "Disabled", Role::Team, None, false),
        ];
        let ids = |q: PeopleQuery| -> Vec<String> {
            q.page(all.clone())
                .unwrap()
                .items
                .into_iter()
                .map(|p| p.user_id.to_string())
                .collect()
        };
        let acme = Audience::TeamAnd {
            organisation: Some("Acme".into()),
        };
        assert_eq!(ids(query(acme)), vec!["a", "c1", "t"]);
        assert_eq!(ids(query(Audience::TeamAnd { organisation: None })), vec!["a", "t"]);
        assert_eq!(ids(query(Audience::Everyone)).len(), 5);
    }

    #[test]
    fn pages_follow_the_name_order_without_repeats() {
        let all: Vec<Profile> = (0..25)
            .map(|i| profile(&format!("u{i:02}"), &format!("Person {i:02}"), Role::Team, None, true))
            .collect();
        let mut q = query(Audience::Everyone);
        let mut seen = Vec::new();
        loop {
            let page = q.page(all.clone()).unwrap();
            seen.extend(page.items.into_iter().map(|p| p.user_id.to_string()));
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        let expected: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn text_matches_a_part_of_the_name_or_the_email() {
        let all = vec![
            profile("ben", "Ben Carter", Role::Team, None, true),
            profile("cleo", "Cleo Park", Role::Team, None, true),
        ];
        let mut q = query(Audience::Everyone);
        q.text = Some("cart".into());
        assert_eq!(q.page(all.clone()).unwrap().items.len(), 1);
        q.text = Some("cleo@".into());
        assert_eq!(q.page(all).unwrap().items[0].name, "Cleo Park");
    }
}
