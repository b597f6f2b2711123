//! A Web Push service for tests: what Mozilla's autopush or Google's FCM are to a real
//! browser, checked the way they check.
//!
//! - It issues subscriptions as a browser would get them from `pushManager.subscribe`:
//!   an endpoint on this server, a fresh P-256 key pair and a 16-byte auth secret (the
//!   private key stays here, as it stays in the browser).
//! - RFC 8030: `POST /push/{id}` with `TTL`; 201 Created with a `Location`; 410 Gone for a
//!   subscription it was told to expire (as push services answer for unsubscribed browsers).
//! - RFC 8292: `Authorization: vapid t=<JWT>, k=<key>`: the JWT must verify (ES256) with
//!   `k`, name this server's origin as `aud`, expire within 24 hours and carry a contact.
//! - RFC 8291: the body (`Content-Encoding: aes128gcm`) is decrypted here with the
//!   subscription's private key and auth secret, by this module's own implementation of
//!   the key derivation, so a payload only arrives if the sender encrypted it right.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};
use sha2::Sha256;

/// A subscription as the browser holds it (public parts) with the private key the push
/// service side of the test uses to read what arrives.
#[derive(Clone)]
pub struct Subscription {
    pub id: String,
    pub endpoint: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Subscription {
    /// `PushSubscription.toJSON()`.
    pub fn to_json(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": B64.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": B64.encode(self.auth),
            }
        })
    }
}

/// One push received and decrypted.
#[derive(Debug, Clone)]
pub struct Received {
    pub subscription: String,
    pub ttl: u64,
    pub payload: Value,
    /// The VAPID token's claims.
    pub claims: Value,
}

#[derive(Default)]
struct Inner {
    subscriptions: HashMap<String, Subscription>,
    expired: Vec<String>,
    received: Vec<Received>,
    /// Requests refused, with why (a test asserts there are none).
    refused: Vec<String>,
}

#[derive(Clone)]
pub struct PushService {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl PushService {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let service = Self { addr, inner };
        let app = axum::Router::new()
            .route("/push/{id}", axum::routing::post(receive))
            .with_state(service.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        service
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new browser subscription.
    pub fn subscribe(&self) -> Subscription {
        let mut auth = [0u8; 16];
        getrandom_fill(&mut auth);
        let id = ulid::Ulid::generate().to_string().to_lowercase();
        let subscription = Subscription {
            endpoint: format!("{}/push/{id}", self.origin()),
            id: id.clone(),
            secret: p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng),
            auth,
        };
        self.inner
            .lock()
            .unwrap()
            .subscriptions
            .insert(id, subscription.clone());
        subscription
    }

    /// From now on pushes to it get 410 Gone (the browser unsubscribed).
    pub fn expire(&self, subscription: &Subscription) {
        self.inner.lock().unwrap().expired.push(subscription.id.clone());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn received_by(&self, subscription: &Subscription) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.subscription == subscription.id)
            .collect()
    }

    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().unwrap().refused.clone()
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    use p256::elliptic_curve::rand_core::RngCore;
    p256::elliptic_curve::rand_core::OsRng.fill_bytes(buf);
}

async fn receive(
    State(service): State<PushService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (subscription, expired) = {
        let inner = service.inner.lock().unwrap();
        (inner.subscriptions.get(&id).cloned(), inner.expired.contains(&id))
    };
    let Some(subscription) = subscription else {
        return (StatusCode::NOT_FOUND, "no such subscription").into_response();
    };
    if expired {
        return (StatusCode::GONE, "push subscription has unsubscribed or expired").into_response();
    }
    match check(&service, &subscription, &headers, &body) {
        Ok(received) => {
            service.inner.lock().unwrap().received.push(received);
            let mut response = StatusCode::CREATED.into_response();
            if let Ok(location) = format!("{}/message/{}", service.origin(), ulid::Ulid::generate()).parse() {
                response.headers_mut().insert("location", location);
            }
            response
        }
        Err(why) => {
            service.inner.lock().unwrap().refused.push(why.clone());
            (StatusCode::BAD_REQUEST, why).into_response()
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("missing header {name}"))
}

fn check(
    service: &PushService,
    subscription: &Subscription,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, String> {
    let ttl: u64 = header(headers, "ttl")?
        .parse()
        .map_err(|_| "TTL is not a number".to_owned())?;
    if header(headers, "content-encoding")? != "aes128gcm" {
        return Err("Content-Encoding must be aes128gcm".into());
    }
    let claims = verify_vapid(header(headers, "authorization")?, &service.origin())?;
    let plain = decrypt(subscription, body)?;
    let payload = serde_json::from_slice(&plain).map_err(|e| format!("payload is not JSON: {e}"))?;
    Ok(Received {
        subscription: subscription.id.clone(),
        ttl,
        payload,
        claims,
    })
}

/// RFC 8292 §3: `vapid t=<jwt>, k=<base64url uncompressed P-256 key>`.
fn verify_vapid(authorization: &str, origin: &str) -> Result<Value, String> {
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or("Authorization is not the vapid scheme")?;
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    let point = B64.decode(key).map_err(|_| "k is not base64url")?;
    if point.len() != 65 || point[0] != 4 {
        return Err("k is not an uncompressed P-256 point".into());
    }
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(&B64.encode(&point[1..33]), &B64.encode(&point[33..]))
        .map_err(|e| format!("k: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[origin]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &decoding, &validation).map_err(|e| format!("VAPID JWT: {e}"))?;
    let claims = data.claims;
    let exp = claims["exp"].as_i64().unwrap_or_default();
    if exp > chrono::Utc::now().timestamp() + 24 * 3600 {
        return Err("VAPID exp is more than 24 hours ahead".into());
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("VAPID sub is not a contact: {sub}"));
    }
    Ok(claims)
}

/// RFC 8291 §3 and RFC 8188 (one record): the browser's side of Web Push encryption.
fn decrypt(subscription: &Subscription, body: &[u8]) -> Result<Vec<u8>, String> {
    // Header: salt (16) | record size (4) | key id length (1) | key id (the sender's key).
    if body.len() < 21 {
        return Err("body shorter than the aes128gcm header".into());
    }
    let salt = &body[..16];
    let record_size = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let id_len = body[20] as usize;
    let sender_key = body.get(21..21 + id_len).ok_or("key id runs past the body")?;
    let record = &body[21 + id_len..];
    if record.len() > record_size {
        return Err("more than one record".into());
    }
    let sender = p256::PublicKey::from_sec1_bytes(sender_key).map_err(|_| "key id is not a P-256 key")?;
    let shared = p256::ecdh::diffie_hellman(subscription.secret.to_nonzero_scalar(), sender.as_affine());
    let ua_public = subscription.secret.public_key().to_encoded_point(false);
    // IKM = HKDF(auth, ecdh, "WebPush: info" 0x00 ua_public as_public, 32)
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(ua_public.as_bytes());
    info.extend_from_slice(sender_key);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&subscription.auth), shared.raw_secret_bytes().as_slice())
        .expand(&info, &mut ikm)
        .map_err(|e| e.to_string())?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|e| e.to_string())?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|e| e.to_string())?;
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|e| e.to_string())?;
    let mut plain = cipher
        .decrypt(Nonce::from_slice(&nonce), record)
        .map_err(|_| "decryption failed (wrong keys or a corrupted record)".to_owned())?;
    // The last record ends with the delimiter 0x02, then zero padding.
    while plain.last() == Some(&0) {
        plain.pop();
    }
    match plain.pop() {
        Some(2) => Ok(plain),
        _ => Err("no last-record delimiter".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use messaging_core::notify::PushSubscription;

    /// The sender's encryption and this module's decryption agree, and a payload for
    /// another subscription does not decrypt.
    #[test]
    fn a_payload_encrypted_for_a_subscription_decrypts_only_with_its_keys() {
        let (inner, addr) = (Arc::new(Mutex::new(Inner::default())), "127.0.0.1:9".parse().unwrap());
        let service = PushService { addr, inner };
        let (a, b) = (service.subscribe(), service.subscribe());
        let stored = |s: &Subscription| {
            let j = s.to_json();
            PushSubscription {
                id: s.id.clone(),
                user_id: messaging_core::ids::UserId::parse("u-x").unwrap(),
                endpoint: s.endpoint.clone(),
                p256dh: j["keys"]["p256dh"].as_str().unwrap().into(),
                auth: j["keys"]["auth"].as_str().unwrap().into(),
                created_at: messaging_core::time::Timestamp::now(),
                user_agent: None,
            }
        };
        let body = messaging_webpush::WebPushSender::encrypt(&stored(&a), br#"{"title":"hi"}"#).unwrap();
        assert_eq!(decrypt(&a, &body).unwrap(), br#"{"title":"hi"}"#);
        assert!(decrypt(&b, &body).is_err());
    }
}
