//! What the provider has handed out: authorization codes and refresh tokens, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use messaging_core::ids::UserId;

use super::OAuthError;

/// How long a code waits for its exchange (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// More than this many live entries of a kind and the expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;
/// A spent refresh token shown again this soon is two tabs of one sign-in renewing at
/// once (a duplicated tab shares its sessionStorage), not a leak: it gets tokens of its
/// own. Later, it ends the sign-in. (Okta and Auth0 have the same grace.)
pub const REUSE_GRACE: Duration = Duration::from_secs(10);

/// One sign-in: who, for which redirect and scope; a code also carries its PKCE challenge.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    /// The sign-in this grant belongs to (`sid`): every refresh token of it shares it, and
    /// logout or a replayed refresh token ends it.
    pub session: String,
    /// When the person signed in (Unix seconds): every ID token of the sign-in carries it
    /// unchanged, refreshed or not (OpenID Connect Core §12.2; clients check it).
    pub auth_time: i64,
}

struct Entry {
    grant: Grant,
    expires: Instant,
}

struct Spent {
    grant: Grant,
    at: Instant,
    expires: Instant,
}

#[derive(Default)]
struct State {
    codes: HashMap<String, Entry>,
    refresh: HashMap<String, Entry>,
    /// Refresh tokens already exchanged.
    spent: HashMap<String, Spent>,
    /// Sign-ins ended (logout, a replay), until their last refresh token would have
    /// expired: a renewal still under way when one ends gets no new token.
    ended: HashMap<String, Instant>,
}

pub struct Grants {
    refresh_ttl: Duration,
    reuse_grace: Duration,
    state: Mutex<State>,
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // getrandom fails only without an OS RNG; a zero token would then be refused later
    // as unknown rather than guessed, since each issue also checks for collisions.
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sweep<V>(map: &mut HashMap<String, V>, expires: impl Fn(&V) -> Instant) {
    if map.len() > SWEEP_ABOVE {
        let now = Instant::now();
        map.retain(|_, v| expires(v) > now);
    }
}

impl Grants {
    pub fn new(refresh_ttl: Duration) -> Self {
        Self {
            refresh_ttl,
            reuse_grace: REUSE_GRACE,
            state: Mutex::new(State::default()),
        }
    }

    /// Another grace for a spent refresh token (tests).
    pub fn with_reuse_grace(mut self, grace: Duration) -> Self {
        self.reuse_grace = grace;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn insert(map: &mut HashMap<String, Entry>, grant: Grant, ttl: Duration) -> String {
        sweep(map, |e| e.expires);
        let mut token = random_token();
        while map.contains_key(&token) {
            token = random_token();
        }
        map.insert(
            token.clone(),
            Entry {
                grant,
                expires: Instant::now() + ttl,
            },
        );
        token
    }

    pub fn issue_code(&self, grant: Grant) -> String {
        Self::insert(&mut self.state().codes, grant, CODE_TTL)
    }

    /// The code's grant; the code is gone whatever happens next.
    pub fn take_code(&self, code: &str) -> Option<Grant> {
        self.state()
            .codes
            .remove(code)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.grant)
    }

    /// A refresh token for `grant`; none once its sign-in has ended (a logout or a replay
    /// that happened while this renewal was being answered).
    pub fn issue_refresh(&self, grant: Grant) -> Option<String> {
        let mut state = self.state();
        if state.ended.contains_key(&grant.session) {
            return None;
        }
        Some(Self::insert(&mut state.refresh, grant, self.refresh_ttl))
    }

    /// Exchanges a refresh token: its grant, and the token is spent. A spent token shown
    /// again within [`REUSE_GRACE`] is a second tab and gets its own tokens; later it means
    /// the token leaked: the whole sign-in ends.
    pub fn take_refresh(&self, token: &str) -> Result<Grant, OAuthError> {
        let mut state = self.state();
        let now = Instant::now();
        if let Some(entry) = state.refresh.remove(token) {
            if entry.expires <= now {
                return Err(OAuthError::invalid_grant("the refresh token expired"));
            }
            sweep(&mut state.spent, |s| s.expires);
            state.spent.insert(
                token.to_owned(),
                Spent {
                    grant: entry.grant.clone(),
                    at: now,
                    expires: entry.expires,
                },
            );
            return Ok(entry.grant);
        }
        let Some(spent) = state.spent.get(token) else {
            return Err(OAuthError::invalid_grant("the refresh token is unknown or revoked"));
        };
        if state.ended.contains_key(&spent.grant.session) {
            return Err(OAuthError::invalid_grant("the sign-in has ended"));
        }
        if now.duration_since(spent.at) <= self.reuse_grace {
            return Ok(spent.grant.clone());
        }
        let session = spent.grant.session.clone();
        Self::end(&mut state, &session, self.refresh_ttl);
        tracing::warn!("a spent refresh token was presented again: its sign-in is ended");
        Err(OAuthError::invalid_grant("the refresh token was already used"))
    }

    fn end(state: &mut State, session: &str, refresh_ttl: Duration) {
        state.refresh.retain(|_, e| e.grant.session != session);
        sweep(&mut state.ended, |e| *e);
        state.ended.insert(session.to_owned(), Instant::now() + refresh_ttl);
    }

    /// A refresh token's grant, the token kept (Cognito's refresh tokens do not rotate).
    pub fn peek_refresh(&self, token: &str) -> Result<Grant, OAuthError> {
        self.state()
            .refresh
            .get(token)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.grant.clone())
            .ok_or_else(|| OAuthError::invalid_grant("the refresh token is unknown, revoked or expired"))
    }

    pub fn revoke_refresh(&self, token: &str) {
        self.state().refresh.remove(token);
    }

    pub fn end_session(&self, session: &str) {
        Self::end(&mut self.state(), session, self.refresh_ttl);
    }
}
