//! Attachments on local files behind HMAC-signed, expiring URLs: the local stand-in for S3
//! presigned URLs, enforcing the same rules (a signed upload fixes the exact size and
//! content type; a signed download fixes the file name).
//!
//! Layout under the root folder: `<key>` holds the bytes, `<key>.meta.json` the content
//! type, size and whether a message claimed the file. Unclaimed uploads are swept after
//! the pending TTL, as the S3 lifecycle rule removes `status=pending` objects.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use messaging_core::ports::{BlobError, BlobHead, BlobStore, SignedRequest};
use messaging_core::time::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused. S3 answers these with 403 (signature, expiry) or 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobAccessError {
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
    #[error("Content-Length must be exactly {expected} bytes")]
    WrongSize { expected: u64 },
    #[error("Content-Type must be {expected}")]
    WrongType { expected: String },
    #[error("no such object")]
    NotFound,
    #[error("storage failure: {0}")]
    Io(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    content_type: String,
    size: u64,
    attached: bool,
    uploaded_at: Timestamp,
}

/// What a verified download URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadPermit {
    pub file_name: String,
    pub content_type: String,
}

pub struct LocalBlobStore {
    root: PathBuf,
    /// Where the local gateway serves `/blobs/...`, e.g. `http://127.0.0.1:8080`.
    base_url: String,
    secret: Vec<u8>,
}

/// Object keys are ours (`attachments/<ulid>/<ulid>`); refuse anything that could
/// leave the root folder before touching the file system.
fn safe_key(key: &str) -> Result<&str, BlobAccessError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "/_-.".contains(c));
    if ok { Ok(key) } else { Err(BlobAccessError::NotFound) }
}

fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl LocalBlobStore {
    pub fn new(root: impl Into<PathBuf>, base_url: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            root: root.into(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            secret: secret.into(),
        }
    }

    fn sign(&self, parts: &[&str]) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn check_signature(&self, parts: &[&str], signature: &str) -> Result<(), BlobAccessError> {
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| BlobAccessError::BadSignature)?;
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.verify_slice(&given).map_err(|_| BlobAccessError::BadSignature)
    }

    fn check_expiry(query: &HashMap<String, String>, now: Timestamp) -> Result<String, BlobAccessError> {
        let expires = query.get("X-Expires").ok_or(BlobAccessError::BadSignature)?;
        let at: i64 = expires.parse().map_err(|_| BlobAccessError::BadSignature)?;
        if now.as_epoch_seconds() > at {
            return Err(BlobAccessError::Expired);
        }
        Ok(expires.clone())
    }

    fn data_path(&self, key: &str) -> Result<PathBuf, BlobAccessError> {
        Ok(self.root.join(safe_key(key)?))
    }

    fn meta_path(&self, key: &str) -> Result<PathBuf, BlobAccessError> {
        Ok(self.root.join(format!("{}.meta.json", safe_key(key)?)))
    }

    /// Checks an upload against its URL: signature, expiry, exact size and type.
    pub fn verify_upload(
        &self,
        key: &str,
        query: &HashMap<String, String>,
        content_length: Option<u64>,
        content_type: Option<&str>,
        now: Timestamp,
    ) -> Result<(u64, String), BlobAccessError> {
        safe_key(key)?;
        let expires = Self::check_expiry(query, now)?;
        let size = query.get("X-Size").ok_or(BlobAccessError::BadSignature)?;
        let signed_type = query.get("X-Content-Type").ok_or(BlobAccessError::BadSignature)?;
        let signature = query.get("X-Signature").ok_or(BlobAccessError::BadSignature)?;
        self.check_signature(&["PUT", key, size, signed_type, &expires], signature)?;
        let size: u64 = size.parse().map_err(|_| BlobAccessError::BadSignature)?;
        if content_length != Some(size) {
            return Err(BlobAccessError::WrongSize { expected: size });
        }
        if content_type != Some(signed_type.as_str()) {
            return Err(BlobAccessError::WrongType {
                expected: signed_type.clone(),
            });
        }
        Ok((size, signed_type.clone()))
    }

    /// Stores verified upload bytes as a pending object.
    pub async fn write_upload(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), BlobAccessError> {
        let data = self.data_path(key)?;
        let meta = self.meta_path(key)?;
        let io = |e: std::io::Error| BlobAccessError::Io(e.to_string());
        if let Some(dir) = data.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        tokio::fs::write(&data, bytes).await.map_err(io)?;
        let m = Meta {
            content_type: content_type.to_owned(),
            size: bytes.len() as u64,
            attached: false,
            uploaded_at: Timestamp::now(),
        };
        tokio::fs::write(&meta, serde_json::to_vec(&m).unwrap_or_default())
            .await
            .map_err(io)?;
        Ok(())
    }

    /// Checks a download URL: signature and expiry; returns the name to download under.
    pub fn verify_download(
        &self,
        key: &str,
        query: &HashMap<String, String>,
        now: Timestamp,
    ) -> Result<DownloadPermit, BlobAccessError> {
        safe_key(key)?;
        let expires = Self::check_expiry(query, now)?;
        let name = query.get("X-Filename").ok_or(BlobAccessError::BadSignature)?;
        let content_type = query.get("X-Content-Type").ok_or(BlobAccessError::BadSignature)?;
        let signature = query.get("X-Signature").ok_or(BlobAccessError::BadSignature)?;
        self.check_signature(&["GET", key, name, content_type, &expires], signature)?;
        Ok(DownloadPermit {
            file_name: name.clone(),
            content_type: content_type.clone(),
        })
    }

    pub async fn read(&self, key: &str) -> Result<Vec<u8>, BlobAccessError> {
        tokio::fs::read(self.data_path(key)?).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BlobAccessError::NotFound,
            _ => BlobAccessError::Io(e.to_string()),
        })
    }

    async fn read_meta(&self, key: &str) -> Result<Option<Meta>, BlobError> {
        let path = self.meta_path(key).map_err(|e| BlobError(e.to_string()))?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| BlobError(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError(e.to_string())),
        }
    }

    /// `pending` or `attached`, as S3 keeps it in the object's `status` tag.
    pub async fn status(&self, key: &str) -> Option<String> {
        let meta = self.read_meta(key).await.ok()??;
        Some(if meta.attached { "attached" } else { "pending" }.to_owned())
    }

    /// Removes uploads no message claimed within `max_age`. Returns how many went.
    pub async fn sweep_pending(&self, max_age: Duration) -> Result<usize, BlobError> {
        let cutoff = Timestamp::now().plus_millis(-(max_age.as_millis() as i64));
        let mut removed = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
                continue;
            };
            while let Ok(Some(entry)) = entries.next_entry().await {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(data_name) = name.strip_suffix(".meta.json") else {
                    continue;
                };
                let Ok(bytes) = tokio::fs::read(&path).await else {
                    continue;
                };
                let Ok(meta) = serde_json::from_slice::<Meta>(&bytes) else {
                    continue;
                };
                if !meta.attached && meta.uploaded_at < cutoff {
                    let _ = tokio::fs::remove_file(path.with_file_name(data_name)).await;
                    let _ = tokio::fs::remove_file(&path).await;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn sign_upload(
        &self,
        key: &str,
        size: u64,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError> {
        let expires_at = Timestamp::now().plus_millis(ttl.as_millis() as i64);
        let expires = expires_at.as_epoch_seconds().to_string();
        let size_text = size.to_string();
        let signature = self.sign(&["PUT", key, &size_text, content_type, &expires]);
        let url = format!(
            "{}/blobs/{key}?X-Expires={expires}&X-Size={size_text}&X-Content-Type={}&X-Signature={signature}",
            self.base_url,
            encode(content_type)
        );
        Ok(SignedRequest {
            method: "PUT".into(),
            url,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Content-Length".into(), size_text),
            ],
            expires_at,
        })
    }

    async fn sign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError> {
        let expires_at = Timestamp::now().plus_millis(ttl.as_millis() as i64);
        let expires = expires_at.as_epoch_seconds().to_string();
        let signature = self.sign(&["GET", key, file_name, content_type, &expires]);
        let url = format!(
            "{}/blobs/{key}?X-Expires={expires}&X-Filename={}&X-Content-Type={}&X-Signature={signature}",
            self.base_url,
            encode(file_name),
            encode(content_type)
        );
        Ok(SignedRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            expires_at,
        })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobHead>, BlobError> {
        Ok(self.read_meta(key).await?.map(|m| BlobHead {
            size: m.size,
            content_type: Some(m.content_type),
        }))
    }

    async fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, BlobError> {
        use tokio::io::AsyncReadExt;
        let path = self.data_path(key).map_err(|e| BlobError(e.to_string()))?;
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| BlobError(e.to_string()))?;
        let mut buf = Vec::with_capacity(len);
        file.take(len as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| BlobError(e.to_string()))?;
        Ok(buf)
    }

    async fn set_attached(&self, key: &str, attached: bool) -> Result<(), BlobError> {
        let mut meta = self
            .read_meta(key)
            .await?
            .ok_or_else(|| BlobError(format!("no object {key}")))?;
        meta.attached = attached;
        let path = self.meta_path(key).map_err(|e| BlobError(e.to_string()))?;
        tokio::fs::write(path, serde_json::to_vec(&meta).unwrap_or_default())
            .await
            .map_err(|e| BlobError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sweep_removes_unclaimed_uploads_and_keeps_attached_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path(), "http://127.0.0.1:1", b"secret".to_vec());
        store
            .write_upload("attachments/c/unclaimed", b"abc", "text/plain")
            .await
            .unwrap();
        store
            .write_upload("attachments/c/claimed", b"def", "text/plain")
            .await
            .unwrap();
        store.set_attached("attachments/c/claimed", true).await.unwrap();
        assert_eq!(
            store.sweep_pending(Duration::from_secs(3600)).await.unwrap(),
            0,
            "young uploads stay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(store.sweep_pending(Duration::from_millis(1)).await.unwrap(), 1);
        assert!(store.head("attachments/c/unclaimed").await.unwrap().is_none());
        assert!(store.head("attachments/c/claimed").await.unwrap().is_some());
    }

    #[test]
    fn keys_cannot_leave_the_root() {
        for key in ["../x", "attachments/../../etc", "/abs", "a//b", "a/./b", "a b"] {
            assert!(safe_key(key).is_err(), "{key}");
        }
        assert!(safe_key("attachments/01ABC/01DEF").is_ok());
    }
}
