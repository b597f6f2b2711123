//! Web Push from the server to browsers: the [`PushSender`] port, one implementation for
//! every environment (the push service is the subscription's: Firefox's, Chrome's, or in
//! tests one the test crate runs).
//!
//! - RFC 8291: the payload is encrypted for the subscription (`aes128gcm`, ECDH with the
//!   browser's P-256 key and its auth secret) by `web-push-native`.
//! - RFC 8292: a VAPID token (ES256 JWT: `aud` = the push service's origin, `exp` within
//!   24 h, `sub` = a contact) and the public key, in `Authorization: vapid t=…, k=…`.
//! - RFC 8030: `POST` to the endpoint with `TTL` and `Urgency`; 201 is success, 404 and
//!   410 mean the subscription is gone.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use sha2::{Digest, Sha256};

use messaging_core::notify::PushSubscription;
use messaging_core::ports::{PushSender, SendFailure};

/// The application server's VAPID key pair.
#[derive(Clone)]
pub struct VapidKey {
    secret: p256::SecretKey,
    signing: EncodingKey,
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// From the raw 32-byte private scalar (the base64url `VAPID_PRIVATE_KEY` other Web
    /// Push libraries print).
    pub fn from_bytes(raw: &[u8]) -> Result<Self, String> {
        let secret = p256::SecretKey::from_slice(raw).map_err(|_| "not a P-256 private key".to_owned())?;
        Self::from_secret(secret)
    }

    pub fn from_base64url(raw: &str) -> Result<Self, String> {
        let bytes = B64
            .decode(raw.trim().trim_end_matches('='))
            .map_err(|_| "a VAPID private key is 32 bytes, base64url".to_owned())?;
        Self::from_bytes(&bytes)
    }

    /// Derived from a longer secret (the stack's notification secret, a data folder's
    /// secret): the same secret always gives the same key, so subscriptions survive
    /// restarts and deployments.
    pub fn derive(secret: &[u8]) -> Self {
        let mut counter = 0u32;
        loop {
            let mut h = Sha256::new();
            h.update(b"messaging vapid key\n");
            h.update(counter.to_be_bytes());
            h.update(secret);
            // A hash is a valid scalar but for a chance of about 2^-32; then the next one.
            if let Ok(key) = Self::from_bytes(&h.finalize()) {
                return key;
            }
            counter += 1;
        }
    }

    fn from_secret(secret: p256::SecretKey) -> Result<Self, String> {
        let der = secret.to_pkcs8_der().map_err(|e| e.to_string())?;
        let signing = EncodingKey::from_ec_der(der.as_bytes());
        let public = B64.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Self {
            secret,
            signing,
            public,
        })
    }

    /// The public key, base64url of the uncompressed point (the browser's
    /// `applicationServerKey`, and `k=` of the header).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    pub fn private_base64url(&self) -> String {
        B64.encode(self.secret.to_bytes())
    }

    /// `Authorization: vapid t=<jwt>, k=<public key>` for `endpoint`'s push service.
    pub fn authorization(&self, endpoint: &str, contact: &str, now_secs: i64) -> Result<String, String> {
        let url = url::Url::parse(endpoint).map_err(|e| format!("endpoint: {e}"))?;
        let audience = url.origin().ascii_serialization();
        let claims = serde_json::json!({
            "aud": audience,
            // At most 24 hours ahead (RFC 8292 §2); 12 leaves room for clock skew.
            "exp": now_secs + 12 * 3600,
            "sub": contact,
        });
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)
            .map_err(|e| format!("VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

/// Sends Web Push over HTTPS with a pooled client.
pub struct WebPushSender {
    http: reqwest::Client,
    key: VapidKey,
    /// `mailto:` or `https:` contact for push services (RFC 8292 `sub`).
    contact: String,
}

impl WebPushSender {
    pub fn new(key: VapidKey, contact: impl Into<String>) -> Self {
        // No redirects: an endpoint is where the push goes, not a hop to somewhere else.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        Self {
            http,
            key,
            contact: contact.into(),
        }
    }

    /// The encrypted request for one subscription (public for the tests of the
    /// counterpart push service).
    pub fn encrypt(subscription: &PushSubscription, payload: &[u8]) -> Result<Vec<u8>, SendFailure> {
        let refused = |what: &str| SendFailure::Refused(format!("subscription {}: {what}", subscription.id));
        let ua_public = B64
            .decode(&subscription.p256dh)
            .ok()
            .and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok())
            .ok_or_else(|| refused("bad p256dh key"))?;
        let auth = B64
            .decode(&subscription.auth)
            .ok()
            .filter(|a| a.len() == 16)
            .ok_or_else(|| refused("bad auth secret"))?;
        let auth = web_push_native::Auth::clone_from_slice(&auth);
        web_push_native::encrypt(payload.to_vec(), &ua_public, &auth).map_err(|e| refused(&e.to_string()))
    }
}

#[async_trait]
impl PushSender for WebPushSender {
    fn public_key(&self) -> String {
        self.key.public_key().to_owned()
    }

    async fn send(&self, subscription: &PushSubscription, payload: &[u8], ttl: Duration) -> Result<(), SendFailure> {
        let body = Self::encrypt(subscription, payload)?;
        let authorization = self
            .key
            .authorization(&subscription.endpoint, &self.contact, chrono::Utc::now().timestamp())
            .map_err(SendFailure::Refused)?;
        let response = self
            .http
            .post(&subscription.endpoint)
            .header("TTL", ttl.as_secs().to_string())
            .header("Urgency", "normal")
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| SendFailure::Temporary(format!("push service unreachable: {e}")))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            404 | 410 => Err(SendFailure::Gone),
            429 | 500..=599 => Err(SendFailure::Temporary(format!("push service answered {status}"))),
            _ => {
                let text = response.text().await.unwrap_or_default();
                Err(SendFailure::Refused(format!(
                    "push service answered {status}: {}",
                    text.chars().take(200).collect::<String>()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_key_is_stable_and_its_public_half_is_an_uncompressed_point() {
        let a = VapidKey::derive(b"secret one");
        assert_eq!(a.public_key(), VapidKey::derive(b"secret one").public_key());
        assert_ne!(a.public_key(), VapidKey::derive(b"secret two").public_key());
        let public = B64.decode(a.public_key()).unwrap();
        assert_eq!((public.len(), public[0]), (65, 4));
        let again = VapidKey::from_base64url(&a.private_base64url()).unwrap();
        assert_eq!(again.public_key(), a.public_key());
    }

    #[test]
    fn the_authorization_names_the_push_services_origin() {
        let key = VapidKey::derive(b"k");
        let header = key
            .authorization(
                "https://push.example.com:8443/send/abc?x=1",
                "mailto:ops@example.com",
                1_000,
            )
            .unwrap();
        let token = header.strip_prefix("vapid t=").unwrap().split(", k=").next().unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.com:8443");
        assert_eq!(claims["exp"], 1_000 + 12 * 3600);
        assert!(header.ends_with(&format!(", k={}", key.public_key())));
    }
}
