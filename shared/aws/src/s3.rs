//! Attachments in S3 behind presigned URLs.
//!
//! Uploads are presigned PUTs whose signature covers `content-length`, `content-type` and
//! `x-amz-tagging: status=pending`: S3 rejects a body of any other size or type. The
//! bucket's lifecycle rule expires `status=pending` objects after a day; attaching a file
//! retags it `status=attached`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Tag, Tagging};

use messaging_core::ports::{BlobError, BlobHead, BlobStore, SignedRequest};
use messaging_core::time::Timestamp;

const PENDING_TAG: &str = "status=pending";

pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

fn err(e: impl std::error::Error + 'static) -> BlobError {
    BlobError(DisplayErrorContext(e).to_string())
}

/// RFC 6266 / 5987: a plain ASCII fallback and the exact UTF-8 name.
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl S3BlobStore {
    /// Path-style addressing when an endpoint is set (moto, LocalStack), virtual-hosted in AWS.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let path_style = sdk.endpoint_url().is_some();
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build();
        Self {
            client: Client::from_conf(config),
            bucket: bucket.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn presigning(ttl: Duration) -> Result<PresigningConfig, BlobError> {
        PresigningConfig::expires_in(ttl).map_err(|e| BlobError(e.to_string()))
    }
}

fn signed(req: aws_sdk_s3::presigning::PresignedRequest, ttl: Duration) -> SignedRequest {
    SignedRequest {
        method: req.method().to_owned(),
        url: req.uri().to_owned(),
        headers: req.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        expires_at: Timestamp::now().plus_millis(ttl.as_millis() as i64),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn sign_upload(
        &self,
        key: &str,
        size: u64,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(size as i64)
            .content_type(content_type)
            .tagging(PENDING_TAG)
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(err)?;
        Ok(signed(req, ttl))
    }

    async fn sign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        ttl: Duration,
    ) -> Result<SignedRequest, BlobError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(content_disposition(file_name))
            .response_content_type(content_type)
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(err)?;
        Ok(signed(req, ttl))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobHead>, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(BlobHead {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                content_type: out.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    async fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, BlobError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .send()
            .await
            .map_err(err)?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError(e.to_string()))?
            .into_bytes();
        Ok(bytes[..bytes.len().min(len)].to_vec())
    }

    async fn set_attached(&self, key: &str, attached: bool) -> Result<(), BlobError> {
        let tag = Tag::builder()
            .key("status")
            .value(if attached { "attached" } else { "pending" })
            .build()
            .map_err(|e| BlobError(e.to_string()))?;
        let tagging = Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(|e| BlobError(e.to_string()))?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_the_utf8_name_and_an_ascii_fallback() {
        assert_eq!(
            content_disposition("plan é \"v2\".pdf"),
            "attachment; filename=\"plan _ _v2_.pdf\"; filename*=UTF-8''plan%20%C3%A9%20%22v2%22%2Epdf"
        );
    }
}
