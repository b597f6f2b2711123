//! The provider's RS256 signing key: generated on first start and kept in the data folder
//! (`oidc-signing-key.pem`, PKCS#8, readable by its owner only), so that tokens and the
//! functions' cached JWKS survive a restart.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

use crate::BoxError;

pub const KEY_FILE: &str = "oidc-signing-key.pem";

pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    jwk: serde_json::Value,
}

impl SigningKey {
    /// The key in `data_dir`, made on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, BoxError> {
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(pem) => Self::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()).into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pem = generate_pem()?;
                std::fs::create_dir_all(data_dir)?;
                write_private(&path, pem.as_bytes())?;
                tracing::info!(file = %path.display(), "generated the local OIDC provider's signing key");
                Self::from_pem(pem.as_bytes())
            }
            Err(e) => Err(format!("{}: {e}", path.display()).into()),
        }
    }

    pub fn from_pem(pem: &[u8]) -> Result<Self, BoxError> {
        let encoding = EncodingKey::from_rsa_pem(pem)?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)?;
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            return Err("the signing key is not an RSA key".into());
        };
        let decoding = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)?;
        // A stable id from the public key (what the functions' JWKS cache keys on).
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(rsa.n.as_bytes())[..12]);
        let jwk = serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": rsa.n, "e": rsa.e,
        });
        Ok(Self {
            encoding,
            decoding,
            kid,
            jwk,
        })
    }

    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap_or_default()
    }

    /// The claims of a token signed with this key, expired or not (a logout's
    /// `id_token_hint` may be old).
    pub fn read_own(&self, token: &str) -> Option<serde_json::Value> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims::<&str>(&[]);
        jsonwebtoken::decode::<serde_json::Value>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

fn generate_pem() -> Result<String, BoxError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate an RSA key")?;
    let der = pair.as_der().map_err(|_| "cannot encode the RSA key")?;
    let b64 = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
