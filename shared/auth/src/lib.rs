//! Bearer-token authentication: JWTs verified by the functions themselves.
//!
//! - Local and dev: HS256 with a shared secret (`JWT_SECRET`); the local gateway's dev
//!   login issues such tokens for the seeded demo users ([`DevTokens`]).
//! - AWS: RS256 against a JWKS URL (`JWKS_URL`, e.g. a Cognito user pool's
//!   `/.well-known/jwks.json`); keys are cached and refetched when an unknown `kid` shows up.
//!
//! Issuer, audience (or Cognito's `client_id` for access tokens) and expiry are always
//! checked. The role comes from a `role` claim or from Cognito groups (`admin`, `team`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use messaging_core::Error;
use messaging_core::identity::Identity;
use messaging_core::ids::UserId;
use messaging_core::model::Role;
use messaging_core::text::DisplayName;

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 30;

/// Claims we read. Unknown claims are ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not valid before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or a list of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// `access` or `id` (Cognito's and the local provider's tokens say which they are):
    /// only access tokens are bearer tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_use: Option<String>,
    /// Cognito access tokens name their app client here instead of `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, rename = "cognito:groups", skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Cognito's ID tokens.
    #[serde(default, rename = "cognito:username", skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Cognito's access tokens say `username` (a separate field, not an alias: a token
    /// with both must still parse).
    #[serde(default, rename = "username", skip_serializing_if = "Option::is_none")]
    pub access_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Claims {
    fn audience_matches(&self, expected: &str) -> bool {
        let in_aud = match &self.aud {
            Some(serde_json::Value::String(a)) => a == expected,
            Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expected)),
            _ => false,
        };
        in_aud || self.client_id.as_deref() == Some(expected)
    }

    /// The role: an explicit `role` claim wins, then Cognito groups; otherwise a client.
    fn role(&self) -> Role {
        if let Some(role) = self.role.as_deref().and_then(|r| Role::parse(r).ok()) {
            return role;
        }
        let groups = self.groups.as_deref().unwrap_or_default();
        if groups.iter().any(|g| g == "admin") {
            Role::Admin
        } else if groups.iter().any(|g| g == "team") {
            Role::Team
        } else {
            Role::Client
        }
    }

    fn identity(&self) -> Result<Identity, Error> {
        let user_id =
            UserId::parse(&self.sub).map_err(|_| Error::unauthenticated("token subject is not a valid user id"))?;
        let name = [&self.name, &self.username, &self.access_username, &self.email]
            .into_iter()
            .flatten()
            .find_map(|n| DisplayName::parse(n).ok())
            .map(String::from)
            .unwrap_or_else(|| user_id.to_string());
        Ok(Identity {
            user_id,
            role: self.role(),
            name,
        })
    }
}

enum Keys {
    Shared(DecodingKey),
    Jwks {
        url: String,
        http: reqwest::Client,
        cache: RwLock<JwksCache>,
    },
}

#[derive(Default)]
struct JwksCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies bearer tokens. Build once per process; cheap to share behind an `Arc`.
///
/// One verifier per signing algorithm: a token is checked by the verifier of the
/// algorithm its header names, and refused when there is none. The functions have exactly
/// one (RS256 through `JWKS_URL` wins over a dev secret, see [`Authenticator::from_vars`]);
/// the local gateway adds its HS256 dev tokens beside its OIDC provider's RS256 keys
/// ([`Authenticator::also`]).
pub struct Authenticator {
    verifiers: Vec<Verifier>,
    verified: std::sync::Mutex<VerifiedTokens>,
}

struct Verifier {
    keys: Keys,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
}

/// Tokens already verified, with their expiry: a client sends the same token on every
/// request, and an RS256 check costs tens of microseconds. Bounded; entries go when their
/// token expires. (A JWT cannot be revoked before its expiry anyway.)
#[derive(Default)]
struct VerifiedTokens {
    entries: HashMap<String, (Identity, i64)>,
}

impl VerifiedTokens {
    const CAPACITY: usize = 10_000;

    fn get(&self, token: &str, now: i64) -> Option<Identity> {
        self.entries
            .get(token)
            .filter(|(_, exp)| *exp > now)
            .map(|(id, _)| id.clone())
    }

    fn insert(&mut self, token: &str, identity: &Identity, exp: i64, now: i64) {
        if self.entries.len() >= Self::CAPACITY {
            self.entries.retain(|_, (_, e)| *e > now);
            if self.entries.len() >= Self::CAPACITY {
                self.entries.clear();
            }
        }
        self.entries.insert(token.to_owned(), (identity.clone(), exp));
    }
}

/// How often an unknown `kid` may trigger a JWKS refetch.
const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

impl Authenticator {
    /// HS256 with a shared secret (local and dev).
    pub fn hs256(secret: &[u8], issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self::one(Verifier {
            keys: Keys::Shared(DecodingKey::from_secret(secret)),
            algorithm: Algorithm::HS256,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    fn one(verifier: Verifier) -> Self {
        Self {
            verifiers: vec![verifier],
            verified: Default::default(),
        }
    }

    /// Also accepts what `other` accepts, for the algorithms this one has no verifier for
    /// (the first verifier of an algorithm wins).
    pub fn also(mut self, other: Authenticator) -> Self {
        for verifier in other.verifiers {
            if !self.verifiers.iter().any(|v| v.algorithm == verifier.algorithm) {
                self.verifiers.push(verifier);
            }
        }
        self
    }

    /// RS256 with keys from a JWKS URL (Cognito in AWS).
    pub fn rs256_jwks(url: impl Into<String>, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self::one(Verifier {
            keys: Keys::Jwks {
                url: url.into(),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default(),
                cache: RwLock::new(JwksCache::default()),
            },
            algorithm: Algorithm::RS256,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// From `JWKS_URL` (RS256) or `JWT_SECRET` (HS256), with `JWT_ISSUER` and
    /// `JWT_AUDIENCE`, looked up by `var` (the composition root passes its declared
    /// environment, where empty counts as unset: `sam local invoke --env-vars` cannot unset
    /// a variable).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let issuer = set("JWT_ISSUER").unwrap_or_else(|| DevTokens::ISSUER.into());
        let audience = set("JWT_AUDIENCE").unwrap_or_else(|| DevTokens::AUDIENCE.into());
        if let Some(url) = set("JWKS_URL") {
            // A deployed stack always has JWKS_URL: a dev secret given to it anyway must
            // not open a second way in.
            if set("JWT_SECRET").is_some() {
                tracing::warn!("JWT_SECRET is ignored: JWKS_URL is set, tokens are verified against it");
            }
            return Ok(Self::rs256_jwks(url, issuer, audience));
        }
        match set("JWT_SECRET").ok_or(()) {
            Ok(secret) if secret.len() >= 32 => Ok(Self::hs256(secret.as_bytes(), issuer, audience)),
            Ok(_) => Err("JWT_SECRET must be at least 32 characters".into()),
            Err(_) => Err("set JWKS_URL (RS256) or JWT_SECRET (HS256)".into()),
        }
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>`).
    pub async fn verify_header(&self, header: Option<&str>) -> Result<Identity, Error> {
        let header = header.ok_or_else(|| Error::unauthenticated("missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| Error::unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        self.verify(token.trim()).await
    }

    pub async fn verify(&self, token: &str) -> Result<Identity, Error> {
        let now = chrono::Utc::now().timestamp();
        if let Some(identity) = self.verified.lock().ok().and_then(|v| v.get(token, now)) {
            return Ok(identity);
        }
        let invalid = || Error::unauthenticated("invalid token");
        let header = decode_header(token).map_err(|_| invalid())?;
        let verifier = self
            .verifiers
            .iter()
            .find(|v| v.algorithm == header.alg)
            .ok_or_else(invalid)?;
        let key = verifier.key_for(header.kid.as_deref()).await?;
        let mut validation = Validation::new(verifier.algorithm);
        validation.set_issuer(&[&verifier.issuer]);
        // Checked below: Cognito access tokens carry `client_id` instead of `aud`.
        validation.validate_aud = false;
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::unauthenticated("token expired"),
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => Error::unauthenticated("token not valid yet"),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => Error::unauthenticated("token issuer not accepted"),
            _ => invalid(),
        })?;
        // Issued in the future: a clock far ahead, or a token minted to be used later.
        // The same skew as `exp` and `nbf`.
        if data.claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
            return Err(Error::unauthenticated("token not valid yet"));
        }
        // An ID token names the client as its audience too, but it is proof of a sign-in
        // for the client, not a credential for the API (and travels in logout URLs).
        if data.claims.token_use.as_deref().is_some_and(|u| u != "access") {
            return Err(Error::unauthenticated(
                "an ID token is not accepted here: send the access token",
            ));
        }
        if !data.claims.audience_matches(&verifier.audience) {
            return Err(Error::unauthenticated("token audience not accepted"));
        }
        let identity = data.claims.identity()?;
        if let Ok(mut verified) = self.verified.lock() {
            verified.insert(token, &identity, data.claims.exp, now);
        }
        Ok(identity)
    }
}

impl Verifier {
    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, Error> {
        match &self.keys {
            Keys::Shared(key) => Ok(key.clone()),
            Keys::Jwks { url, http, cache } => {
                let kid = kid.ok_or_else(|| Error::unauthenticated("token has no key id"))?;
                if let Some(key) = cache.read().await.keys.get(kid) {
                    return Ok(key.clone());
                }
                let mut cache = cache.write().await;
                let stale = cache.fetched_at.is_none_or(|t| t.elapsed() > JWKS_REFRESH_INTERVAL);
                if stale && !cache.keys.contains_key(kid) {
                    cache.keys = fetch_jwks(http, url).await?;
                    cache.fetched_at = Some(Instant::now());
                }
                cache
                    .keys
                    .get(kid)
                    .cloned()
                    .ok_or_else(|| Error::unauthenticated("token signed with an unknown key"))
            }
        }
    }
}

async fn fetch_jwks(http: &reqwest::Client, url: &str) -> Result<HashMap<String, DecodingKey>, Error> {
    let unavailable = |e: String| Error::Unavailable(format!("cannot load signing keys: {e}"));
    let set: jsonwebtoken::jwk::JwkSet = http
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| unavailable(e.to_string()))?
        .json()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(set
        .keys
        .iter()
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
        .collect())
}

/// Issues HS256 tokens for the local gateway's dev login and for tests. Never used in AWS,
/// where Cognito issues tokens.
pub struct DevTokens {
    key: EncodingKey,
}

impl DevTokens {
    pub const ISSUER: &'static str = "messaging-local";
    pub const AUDIENCE: &'static str = "messaging";

    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
        }
    }

    pub fn issue(&self, user: &str, role: Role, name: &str, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        self.issue_claims(&Claims {
            sub: user.into(),
            exp: now + ttl.as_secs() as i64,
            iat: Some(now),
            nbf: None,
            iss: Some(Self::ISSUER.into()),
            aud: Some(serde_json::Value::String(Self::AUDIENCE.into())),
            token_use: None,
            client_id: None,
            role: Some(role.as_str().into()),
            groups: None,
            name: Some(name.into()),
            username: None,
            access_username: None,
            email: None,
        })
    }

    /// Any claims, for tests of the verifier (expired tokens, foreign issuers...).
    pub fn issue_claims(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.key).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn auth() -> Authenticator {
        Authenticator::hs256(SECRET, DevTokens::ISSUER, DevTokens::AUDIENCE)
    }

    fn claims() -> Claims {
        Claims {
            sub: "u-ana".into(),
            exp: chrono::Utc::now().timestamp() + 600,
            iat: None,
            nbf: None,
            iss: Some(DevTokens::ISSUER.into()),
            aud: Some(serde_json::json!(DevTokens::AUDIENCE)),
            token_use: None,
            client_id: None,
            role: None,
            groups: None,
            name: Some("Ana".into()),
            username: None,
            access_username: None,
            email: None,
        }
    }

    #[tokio::test]
    async fn a_dev_token_verifies_with_its_role_and_name() {
        let token = DevTokens::new(SECRET).issue("u-ana", Role::Team, "Ana", Duration::from_secs(60));
        let id = auth().verify_header(Some(&format!("Bearer {token}"))).await.unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.role, id.name.as_str()),
            ("u-ana", Role::Team, "Ana")
        );
    }

    #[tokio::test]
    async fn a_cached_token_still_expires() {
        let auth = auth();
        let mut c = claims();
        c.exp = chrono::Utc::now().timestamp() + 1;
        let token = DevTokens::new(SECRET).issue_claims(&c);
        assert!(auth.verify(&token).await.is_ok());
        assert!(auth.verify(&token).await.is_ok(), "served from the cache");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        // Past `exp` the cache no longer answers; the verifier's leeway may still accept it
        // briefly, but never beyond 30 s.
        let mut late = claims();
        late.exp = chrono::Utc::now().timestamp() - 120;
        assert!(auth.verify(&DevTokens::new(SECRET).issue_claims(&late)).await.is_err());
        assert!(
            auth.verified
                .lock()
                .unwrap()
                .get(&token, chrono::Utc::now().timestamp())
                .is_none()
        );
    }

    #[tokio::test]
    async fn tokens_not_valid_yet_or_issued_in_the_future_are_refused() {
        let now = chrono::Utc::now().timestamp();
        let tokens = DevTokens::new(SECRET);
        let mut c = claims();
        c.nbf = Some(now + 600);
        assert_eq!(
            auth().verify(&tokens.issue_claims(&c)).await.unwrap_err(),
            Error::unauthenticated("token not valid yet")
        );
        let mut c = claims();
        c.iat = Some(now + 600);
        assert_eq!(
            auth().verify(&tokens.issue_claims(&c)).await.unwrap_err(),
            Error::unauthenticated("token not valid yet")
        );
        // Within the clock skew both are fine, as for `exp`.
        let mut c = claims();
        c.nbf = Some(now + 10);
        c.iat = Some(now + 10);
        assert!(auth().verify(&tokens.issue_claims(&c)).await.is_ok());
        let mut c = claims();
        c.nbf = Some(now - 60);
        c.iat = Some(now - 60);
        assert!(auth().verify(&tokens.issue_claims(&c)).await.is_ok());
    }

    #[tokio::test]
    async fn expired_tokens_are_refused_as_expired() {
        let mut c = claims();
        c.exp = chrono::Utc::now().timestamp() - 120;
        let err = auth()
            .verify(&DevTokens::new(SECRET).issue_claims(&c))
            .await
            .unwrap_err();
        assert_eq!(err, Error::unauthenticated("token expired"));
    }

    #[tokio::test]
    async fn wrong_issuer_audience_or_secret_are_refused() {
        let tokens = DevTokens::new(SECRET);
        let mut c = claims();
        c.iss = Some("someone-else".into());
        assert!(auth().verify(&tokens.issue_claims(&c)).await.is_err());
        let mut c = claims();
        c.aud = Some(serde_json::json!(["other-app"]));
        assert_eq!(
            auth().verify(&tokens.issue_claims(&c)).await.unwrap_err(),
            Error::unauthenticated("token audience not accepted")
        );
        let forged = DevTokens::new(b"another-secret-another-secret-xx").issue_claims(&claims());
        assert!(auth().verify(&forged).await.is_err());
        assert!(auth().verify("not.a.jwt").await.is_err());
        assert!(auth().verify_header(Some("Basic abc")).await.is_err());
        assert!(auth().verify_header(None).await.is_err());
    }

    #[tokio::test]
    async fn cognito_access_tokens_match_on_client_id_and_groups_give_the_role() {
        let mut c = claims();
        c.aud = None;
        c.client_id = Some(DevTokens::AUDIENCE.into());
        c.groups = Some(vec!["team".into(), "admin".into()]);
        c.name = None;
        // Cognito's access tokens name the user `username`; its ID tokens `cognito:username`.
        c.access_username = Some("ana.l".into());
        let id = auth().verify(&DevTokens::new(SECRET).issue_claims(&c)).await.unwrap();
        assert_eq!((id.role, id.name.as_str()), (Role::Admin, "ana.l"));
        c.username = Some("ana.id".into());
        let id = auth().verify(&DevTokens::new(SECRET).issue_claims(&c)).await.unwrap();
        assert_eq!(id.name.as_str(), "ana.id", "a token with both still parses");
    }

    #[tokio::test]
    async fn no_role_means_client_and_a_bad_subject_is_refused() {
        let id = auth()
            .verify(&DevTokens::new(SECRET).issue_claims(&claims()))
            .await
            .unwrap();
        assert_eq!(id.role, Role::Client);
        let mut c = claims();
        c.sub = "has spaces".into();
        assert!(auth().verify(&DevTokens::new(SECRET).issue_claims(&c)).await.is_err());
    }
}
