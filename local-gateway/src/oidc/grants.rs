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

#[derive(Default)]
struct State {
    codes: HashMap<String, Entry>,
    refresh: HashMap<String, Entry>,
    /// Refresh tokens already exchanged, with the session they belonged to.
    spent: HashMap<String, (String, Instant)>,
}

pub struct Grants {
    refresh_ttl: Duration,
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
            state: Mutex::new(State::default()),
        }
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

    pub fn issue_refresh(&self, grant: Grant) -> String {
        Self::insert(&mut self.state().refresh, grant, self.refresh_ttl)
    }

    /// Exchanges a refresh token: its grant, and the token is spent. A spent token shown
    /// again means it leaked (or two tabs raced): the whole sign-in ends.
    pub fn take_refresh(&self, token: &str) -> Result<Grant, OAuthError> {
        let mut state = self.state();
        if let Some(entry) = state.refresh.remove(token) {
            if entry.expires <= Instant::now() {
                return Err(OAuthError::invalid_grant("the refresh token expired"));
            }
            sweep(&mut state.spent, |(_, e)| *e);
            state
                .spent
                .insert(token.to_owned(), (entry.grant.session.clone(), entry.expires));
            return Ok(entry.grant);
        }
        if let Some((session, _)) = state.spent.remove(token) {
            state.refresh.retain(|_, e| e.grant.session != session);
            tracing::warn!("a spent refresh token was presented again: its sign-in is ended");
            return Err(OAuthError::invalid_grant("the refresh token was already used"));
        }
        Err(OAuthError::invalid_grant("the refresh token is unknown or revoked"))
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
        self.state().refresh.retain(|_, e| e.grant.session != session);
    }
}
