//! Checks AWS Signature Version 4 on requests to the gateway's `@connections` API, as API
//! Gateway does: without it anyone who reaches the port could push forged events into
//! people's sockets or close them.
//!
//! The functions' `aws-sdk-apigatewaymanagement`, the AWS CLI and boto3 all sign with the
//! credentials of their environment; the gateway accepts the credentials of *its*
//! environment (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, or the placeholders
//! `local`/`local` the functions use when those are unset). Placeholder credentials are
//! public knowledge, so with them only loopback peers are accepted.
//!
//! Reference: "Create a signed AWS API request" (IAM user guide). For services other
//! than S3 the signer percent-encodes the already-encoded path a second time; both
//! encodings are accepted.

use std::net::IpAddr;

use axum::http::{HeaderMap, Method, Uri};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's `X-Amz-Date` may be from now (AWS allows 15 minutes).
const MAX_SKEW_SECS: i64 = 15 * 60;

/// The credentials `@connections` requests must be signed with.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Credentials {
    /// The placeholders the functions sign with when the environment has no keys.
    pub const PLACEHOLDER: &'static str = "local";

    pub fn from_env() -> Self {
        let get = messaging_backends::environment::get;
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Self {
                access_key_id: id,
                secret_access_key: secret,
            },
            _ => Self {
                access_key_id: Self::PLACEHOLDER.into(),
                secret_access_key: Self::PLACEHOLDER.into(),
            },
        }
    }

    pub fn is_placeholder(&self) -> bool {
        self.secret_access_key == Self::PLACEHOLDER
    }
}

/// A request refused, and why (sent back as the `message` of a 403).
pub type Refusal = &'static str;

/// Checks that `peer` may call `@connections` and that the request is signed with `creds`.
pub fn verify(
    creds: &Credentials,
    peer: IpAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Refusal> {
    if creds.is_placeholder() && !peer.is_loopback() {
        return Err("this gateway has placeholder credentials: @connections is only open to this machine");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or("missing Authorization: requests must be signed (SigV4)")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("only AWS4-HMAC-SHA256 signatures are accepted")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (credential, signed_headers, signature) = match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) => (c, h, s),
        _ => return Err("the Authorization header lacks Credential, SignedHeaders or Signature"),
    };
    let (key_id, scope) = credential.split_once('/').ok_or("malformed Credential")?;
    let scope_parts: Vec<&str> = scope.split('/').collect();
    let [date, region, service, "aws4_request"] = scope_parts[..] else {
        return Err("malformed credential scope");
    };
    if key_id != creds.access_key_id {
        return Err("the request is signed with an unknown access key");
    }
    let amz_date = header("x-amz-date").ok_or("missing X-Amz-Date")?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| "malformed X-Amz-Date")?
        .and_utc();
    if (now - signed_at).num_seconds().abs() > MAX_SKEW_SECS || !amz_date.starts_with(date) {
        return Err("the signature has expired or is not yet valid");
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"host") {
        return Err("the signature must cover the Host header");
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = match header("x-amz-content-sha256") {
        Some(h) => h.to_owned(),
        None => hex(&Sha256::digest(body)),
    };
    let signing_key = [date, region, service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{}", creds.secret_access_key).into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        });
    let path = uri.path();
    let query = canonical_query(uri.query().unwrap_or(""));
    for canonical_path in [encode(path), path.to_owned()] {
        let canonical_request =
            format!("{method}\n{canonical_path}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}");
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let expected = hex(&hmac(&signing_key, string_to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Ok(());
        }
    }
    Err("the request signature does not match: sign with this gateway's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// SigV4's URI encoding: everything but unreserved characters and `/` as `%XX`.
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Query parameters decoded, re-encoded strictly, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (encode(&k).replace('/', "%2F"), encode(&v).replace('/', "%2F")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IAM user guide's worked example (GET iam ListUsers, 2015-08-30).
    #[test]
    fn the_documented_example_verifies_and_a_changed_byte_does_not() {
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        };
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".parse().unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .unwrap(),
        );
        let at = chrono::DateTime::parse_from_rfc3339("2015-08-30T12:40:00Z")
            .unwrap()
            .to_utc();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(verify(&creds, local, &Method::GET, &uri, &headers, b"", at), Ok(()));
        // Another body, another method, another key, too late: refused.
        assert!(verify(&creds, local, &Method::GET, &uri, &headers, b"x", at).is_err());
        assert!(verify(&creds, local, &Method::POST, &uri, &headers, b"", at).is_err());
        let other = Credentials {
            secret_access_key: "other".into(),
            ..creds.clone()
        };
        assert!(verify(&other, local, &Method::GET, &uri, &headers, b"", at).is_err());
        let later = at + chrono::Duration::minutes(20);
        assert!(verify(&creds, local, &Method::GET, &uri, &headers, b"", later).is_err());
        headers.remove("authorization");
        assert!(verify(&creds, local, &Method::GET, &uri, &headers, b"", at).is_err());
    }

    #[test]
    fn placeholder_credentials_only_serve_this_machine() {
        let creds = Credentials {
            access_key_id: "local".into(),
            secret_access_key: "local".into(),
        };
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let err = verify(
            &creds,
            remote,
            &Method::POST,
            &"/".parse().unwrap(),
            &HeaderMap::new(),
            b"",
            chrono::Utc::now(),
        );
        assert!(err.unwrap_err().contains("only open to this machine"));
    }
}
