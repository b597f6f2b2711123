//! The local gateway as an OpenID Connect provider for the people of its directory, so
//! that the web client signs in locally exactly as it does against Cognito: the
//! authorization code flow with PKCE, refresh tokens, RS256 tokens the functions verify
//! through `JWKS_URL`.
//!
//! - [`keys`]: the RS256 signing key, generated once per data folder, and its JWKS.
//! - [`grants`]: authorization codes (one use, one minute) and refresh tokens (rotated on
//!   every use; a spent one presented again ends its whole sign-in, as OAuth 2.0 Security
//!   BCP §4.14 asks).
//! - [`routes`]: discovery, `authorize` (the demo user picker), `token`, `jwks.json`,
//!   `userinfo`, `revoke`, `logout`, and the web client's `config.json`.
//!
//! Like `/dev/login`, it signs anyone in as anyone: it only runs with the dev login
//! (loopback by default, see `GatewayConfig::check_exposure`). State lives in memory; a
//! restart ends every refresh token, which the web client handles as an expired session.

pub mod grants;
pub mod keys;
pub mod page;
pub mod routes;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use messaging_core::directory::Profile;
use messaging_core::identity::Role;

pub use grants::{Grant, Grants};
pub use keys::SigningKey;

/// The web client's id at this provider (what `aud` and `client_id` name).
pub const CLIENT_ID: &str = "messaging-web";
/// Where the web client receives the authorization response.
pub const REDIRECT_PATH: &str = "/auth/callback";
/// Where it lands after signing out.
pub const POST_LOGOUT_PATH: &str = "/login";

/// The provider's settings.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The issuer: the gateway's public URL, no trailing slash.
    pub issuer: String,
    /// Lifetime of access and ID tokens (tests make it short to see renewals).
    pub token_ttl: Duration,
    /// Lifetime of a refresh token (each use gives a new one).
    pub refresh_ttl: Duration,
    /// Behave as Cognito does where it differs from the rest (`--oidc-like-cognito`), so
    /// that the web client's Cognito path runs in the browser tests: no
    /// `end_session_endpoint` nor `revocation_endpoint` in discovery (Cognito's `/logout`
    /// and `/oauth2/revoke` are named in `config.json` instead), no `iss` on the redirect,
    /// refresh tokens that do not rotate, and Cognito's claims (access tokens with
    /// `client_id` and no `aud`, roles as `cognito:groups`).
    pub like_cognito: bool,
}

/// An OAuth error, as RFC 6749 §5.2 spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }
}

/// A checked authorization request: who to send the code to, and what it is bound to.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub redirect_uri: Url,
    /// As the client sent it: the token request must repeat exactly this (RFC 6749 §4.1.3).
    pub redirect_uri_raw: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
    /// Every parameter as received, for the picker's form to send back.
    pub params: Vec<(String, String)>,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or its redirect URI is unknown: never redirect there (RFC 6749 §4.1.2.1);
    /// the page says why.
    Page(String),
    /// Anything else goes back to the client.
    Redirect {
        redirect_uri: Box<Url>,
        error: OAuthError,
        state: Option<String>,
    },
}

/// What the token endpoint answers.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSet {
    pub access_token: String,
    pub id_token: String,
    /// None when a refresh keeps the refresh token it was given (Cognito).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// The provider: its key, its settings and the grants it has handed out.
pub struct Provider {
    pub config: ProviderConfig,
    key: SigningKey,
    grants: Grants,
}

impl Provider {
    pub fn new(config: ProviderConfig, key: SigningKey) -> Self {
        let grants = Grants::new(config.refresh_ttl);
        Self { config, key, grants }
    }

    /// How soon a spent refresh token may come back as a second tab ([`grants::REUSE_GRACE`]).
    pub fn with_reuse_grace(mut self, grace: Duration) -> Self {
        self.grants = self.grants.with_reuse_grace(grace);
        self
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.key.jwk()] })
    }

    /// The discovery document (OpenID Connect Discovery 1.0 §3).
    pub fn discovery(&self) -> serde_json::Value {
        let at = |path: &str| format!("{}{path}", self.config.issuer);
        let mut doc = json!({
            "issuer": self.config.issuer,
            "authorization_endpoint": at("/oidc/authorize"),
            "token_endpoint": at("/oidc/token"),
            "jwks_uri": at("/oidc/jwks.json"),
            "userinfo_endpoint": at("/oidc/userinfo"),
            "end_session_endpoint": at("/oidc/logout"),
            "revocation_endpoint": at("/oidc/revoke"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": ["sub", "name", "email", "role"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": true,
        });
        if self.config.like_cognito
            && let Some(doc) = doc.as_object_mut()
        {
            for name in [
                "end_session_endpoint",
                "revocation_endpoint",
                "revocation_endpoint_auth_methods_supported",
                "authorization_response_iss_parameter_supported",
            ] {
                doc.remove(name);
            }
        }
        doc
    }

    /// Cognito's logout and revocation URLs (they are not in its discovery document), for
    /// the web client's `config.json`.
    pub fn cognito_urls(&self) -> Option<(String, String)> {
        self.config.like_cognito.then(|| {
            (
                format!("{}/logout", self.config.issuer),
                format!("{}/oauth2/revoke", self.config.issuer),
            )
        })
    }

    /// A redirect URI this provider sends codes to: its own origin, or a loopback one (any
    /// port: `make dev`, a Vite dev server, a test on a free port; RFC 8252 §7.3).
    pub fn redirect_allowed(&self, uri: &Url) -> bool {
        if !matches!(uri.scheme(), "http" | "https") || uri.fragment().is_some() || !uri.username().is_empty() {
            return false;
        }
        let loopback = match uri.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        loopback
            || Url::parse(&self.config.issuer)
                .map(|issuer| issuer.origin() == uri.origin())
                .unwrap_or(false)
    }

    /// Checks an authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3).
    pub fn check_authorize(&self, params: &[(String, String)]) -> Result<AuthorizeRequest, AuthorizeError> {
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        match get("client_id") {
            Some(id) if id == CLIENT_ID => {}
            Some(id) => return Err(AuthorizeError::Page(format!("unknown client_id {id:?}"))),
            None => return Err(AuthorizeError::Page("client_id is missing".into())),
        }
        let raw = get("redirect_uri").ok_or_else(|| AuthorizeError::Page("redirect_uri is missing".into()))?;
        let redirect_uri = Url::parse(&raw)
            .ok()
            .filter(|u| self.redirect_allowed(u))
            .ok_or_else(|| AuthorizeError::Page(format!("redirect_uri {raw:?} is not registered for this client")))?;
        let state = get("state");
        let refuse = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: Box::new(redirect_uri.clone()),
            error,
            state: state.clone(),
        };
        if get("response_type").as_deref() != Some("code") {
            return Err(refuse(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            )));
        }
        let scope = get("scope").unwrap_or_default();
        if !scope.split(' ').any(|s| s == "openid") {
            return Err(refuse(OAuthError::new(
                "invalid_scope",
                "the scope must include openid",
            )));
        }
        if get("prompt").is_some_and(|p| p.split(' ').any(|p| p == "none")) {
            // No sign-in is remembered here: a silent request cannot succeed.
            return Err(refuse(OAuthError::new("login_required", "sign in with the picker")));
        }
        let code_challenge = get("code_challenge")
            .filter(|c| valid_pkce_value(c))
            .ok_or_else(|| refuse(OAuthError::invalid_request("code_challenge (PKCE) is required")))?;
        if get("code_challenge_method").as_deref() != Some("S256") {
            return Err(refuse(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            )));
        }
        Ok(AuthorizeRequest {
            redirect_uri,
            redirect_uri_raw: raw,
            scope,
            state,
            code_challenge,
            nonce: get("nonce"),
            params: params.to_vec(),
        })
    }

    /// A code for `user`, and the URL that hands it to the client.
    pub fn grant_code(&self, request: &AuthorizeRequest, user: &Profile) -> Url {
        let code = self.grants.issue_code(Grant {
            user_id: user.user_id.clone(),
            redirect_uri: request.redirect_uri_raw.clone(),
            scope: request.scope.clone(),
            code_challenge: Some(request.code_challenge.clone()),
            nonce: request.nonce.clone(),
            session: grants::random_token(),
            auth_time: chrono::Utc::now().timestamp(),
        });
        let mut uri = request.redirect_uri.clone();
        {
            let mut q = uri.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(state) = &request.state {
                q.append_pair("state", state);
            }
            if !self.config.like_cognito {
                q.append_pair("iss", &self.config.issuer);
            }
        }
        uri
    }

    /// The error response of an authorization request, as a redirect URL.
    pub fn error_redirect(&self, redirect_uri: &Url, error: &OAuthError, state: Option<&str>) -> Url {
        let mut uri = redirect_uri.clone();
        {
            let mut q = uri.query_pairs_mut();
            q.append_pair("error", error.error);
            q.append_pair("error_description", &error.description);
            if let Some(state) = state {
                q.append_pair("state", state);
            }
            if !self.config.like_cognito {
                q.append_pair("iss", &self.config.issuer);
            }
        }
        uri
    }

    /// `grant_type=authorization_code`: the code, once, with the verifier of its challenge.
    pub fn redeem_code(&self, form: &HashMap<String, String>) -> Result<Grant, OAuthError> {
        let code = form
            .get("code")
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        // Taken out before any check: a code is spent by its first use, right or wrong.
        let grant = self
            .grants
            .take_code(code)
            .ok_or_else(|| OAuthError::invalid_grant("the code is unknown, used or expired"))?;
        self.check_client(form)?;
        if form.get("redirect_uri") != Some(&grant.redirect_uri) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| OAuthError::invalid_grant("code_verifier (PKCE) is missing"))?;
        if !valid_pkce_value(verifier) || Some(pkce_challenge(verifier)) != grant.code_challenge {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        Ok(grant)
    }

    /// `grant_type=refresh_token`: the sign-in behind a refresh token, which is spent
    /// (kept, like Cognito).
    pub fn redeem_refresh(&self, form: &HashMap<String, String>) -> Result<Grant, OAuthError> {
        self.check_client(form)?;
        let token = form
            .get("refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        match self.config.like_cognito {
            true => self.grants.peek_refresh(token),
            false => self.grants.take_refresh(token),
        }
    }

    fn check_client(&self, form: &HashMap<String, String>) -> Result<(), OAuthError> {
        match form.get("client_id") {
            Some(id) if id == CLIENT_ID => Ok(()),
            _ => Err(OAuthError::new("invalid_client", "unknown or missing client_id")),
        }
    }

    /// Access and ID tokens for `user` under `grant`, and a refresh token unless
    /// `renewing` like Cognito (which keeps the one it gave).
    pub fn tokens(&self, grant: &Grant, user: &Profile, renewing: bool) -> Result<TokenSet, OAuthError> {
        let now = chrono::Utc::now().timestamp();
        let exp = now + self.config.token_ttl.as_secs() as i64;
        let mut common = json!({
            "iss": self.config.issuer,
            "sub": user.user_id.as_str(),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": exp,
            "name": user.name,
            "email": user.email,
            "role": user.role.as_str(),
        });
        if self.config.like_cognito {
            common["cognito:groups"] = match user.role {
                Role::Admin => json!(["admin"]),
                Role::Team => json!(["team"]),
                Role::Client => json!([]),
            };
            if let Some(claims) = common.as_object_mut() {
                claims.remove("role");
            }
        }
        // Claims over `common`; a null value removes one.
        let with = |extra: serde_json::Value| {
            let mut claims = common.clone();
            if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
                for (name, value) in extra {
                    match value {
                        serde_json::Value::Null => claims.remove(name),
                        v => claims.insert(name.clone(), v.clone()),
                    };
                }
            }
            self.key.sign(&claims)
        };
        let mut access = json!({
            "token_use": "access",
            "client_id": CLIENT_ID,
            "scope": grant.scope,
            "jti": grants::random_token(),
        });
        if self.config.like_cognito {
            // Cognito's access tokens name their client in `client_id` only.
            access["aud"] = serde_json::Value::Null;
            access["username"] = json!(user.user_id.as_str());
        }
        let access_token = with(access);
        let mut id = json!({
            "token_use": "id",
            "auth_time": grant.auth_time,
            "sid": grant.session,
        });
        if self.config.like_cognito {
            id["cognito:username"] = json!(user.user_id.as_str());
        }
        // Only when the request had one (a refreshed ID token has none).
        if let Some(nonce) = &grant.nonce {
            id["nonce"] = json!(nonce);
        }
        let id_token = with(id);
        let refresh_token = match renewing && self.config.like_cognito {
            true => None,
            false => Some(
                self.grants
                    .issue_refresh(Grant {
                        code_challenge: None,
                        nonce: None,
                        ..grant.clone()
                    })
                    .ok_or_else(|| OAuthError::invalid_grant("the sign-in has ended"))?,
            ),
        };
        Ok(TokenSet {
            access_token,
            id_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: self.config.token_ttl.as_secs(),
            scope: grant.scope.clone(),
        })
    }

    /// Ends a sign-in: none of its refresh tokens works any more.
    pub fn grants_end(&self, session: &str) {
        self.grants.end_session(session);
    }

    /// RFC 7009: the refresh token stops working (unknown tokens are fine too).
    pub fn revoke(&self, token: &str) {
        self.grants.revoke_refresh(token);
    }

    /// RP-initiated logout: ends the sign-in an ID token names (its `sid`), expired or not.
    pub fn end_session(&self, id_token_hint: Option<&str>) -> bool {
        let Some(session) = id_token_hint
            .and_then(|t| self.key.read_own(t))
            .and_then(|c| c.get("sid").and_then(|s| s.as_str()).map(str::to_owned))
        else {
            return false;
        };
        self.grants.end_session(&session);
        true
    }

    /// The claims of a token this provider signed, if it did.
    pub fn read_own(&self, token: &str) -> Option<serde_json::Value> {
        self.key.read_own(token)
    }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]` (a challenge of S256 is 43).
fn valid_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests;
