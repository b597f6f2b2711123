//! The blob store conformance suite: signed uploads and downloads, head, prefix reads,
//! the kept/pending mark, deletes — on the local store and on S3 (moto).
//!
//! moto does not enforce what a presigned URL signs, so the enforcement cases run where the
//! adapter itself enforces (the local store); for S3 the suite checks instead that the
//! signature covers the size and type (`X-Amz-SignedHeaders`), which is what makes S3 enforce.

use std::sync::Arc;
use std::time::Duration;

use messaging_core::ports::{BlobStore, SignedRequest};

use crate::services::unique;

pub struct BlobFixture {
    pub store: Arc<dyn BlobStore>,
    /// Whether the adapter itself refuses uploads that break the signature.
    pub enforces_signature: bool,
    /// Reads the `status` mark (`pending` / `attached`) the way the backend keeps it.
    pub status_of: Box<dyn Fn(String) -> futures::future::BoxFuture<'static, Option<String>> + Send + Sync>,
    pub _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

async fn perform(req: &SignedRequest, body: Vec<u8>, override_headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).expect("method");
    let mut builder = client.request(method, &req.url);
    for (name, value) in &req.headers {
        // Browsers compute Content-Length themselves; so does reqwest.
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let Some((_, v)) = override_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            builder = builder.header(name, *v);
        } else {
            builder = builder.header(name, value);
        }
    }
    builder.body(body).send().await.expect("request sent")
}

fn key() -> String {
    format!("attachments/{}/{}", ulid::Ulid::generate(), ulid::Ulid::generate())
}

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1,
];

pub async fn a_signed_upload_stores_exactly_what_was_signed(f: BlobFixture) {
    let key = key();
    let signed = sign_png(&f, &key).await;
    assert_eq!(signed.method, "PUT");
    assert!(
        signed
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == "image/png")
    );
    let response = perform(&signed, PNG.to_vec(), &[]).await;
    assert!(response.status().is_success(), "upload: {}", response.status());
    let head = f.store.head(&key).await.unwrap().expect("stored");
    assert_eq!(
        (head.size, head.content_type.as_deref()),
        (PNG.len() as u64, Some("image/png"))
    );
    assert_eq!(f.store.read_prefix(&key, 8).await.unwrap(), PNG[..8].to_vec());
    assert_eq!(
        f.store.read_prefix(&key, 1024).await.unwrap(),
        PNG.to_vec(),
        "short objects come back whole"
    );
    assert_eq!(f.store.head(&unique("attachments/none/")).await.unwrap(), None);
}

/// A five-minute upload grant for [`PNG`] under `key`.
async fn sign_png(f: &BlobFixture, key: &str) -> SignedRequest {
    f.store
        .sign_upload(key, PNG.len() as u64, "image/png", Duration::from_secs(300))
        .await
        .unwrap()
}

/// [`PNG`] uploaded under `key` through a signed request.
async fn upload_png(f: &BlobFixture, key: &str) {
    let signed = sign_png(f, key).await;
    assert!(perform(&signed, PNG.to_vec(), &[]).await.status().is_success());
}

pub async fn uploads_start_pending_and_can_be_kept_or_returned(f: BlobFixture) {
    let key = key();
    upload_png(&f, &key).await;
    assert_eq!((f.status_of)(key.clone()).await.as_deref(), Some("pending"));
    f.store.set_attached(&key, true).await.unwrap();
    assert_eq!((f.status_of)(key.clone()).await.as_deref(), Some("attached"));
    f.store.set_attached(&key, false).await.unwrap();
    assert_eq!((f.status_of)(key.clone()).await.as_deref(), Some("pending"));
}

pub async fn a_signed_download_returns_the_bytes_under_the_original_name(f: BlobFixture) {
    let key = key();
    upload_png(&f, &key).await;
    let download = f
        .store
        .sign_download(&key, "Plan für Q3.png", "image/png", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(download.method, "GET");
    let response = reqwest::get(&download.url).await.unwrap();
    assert!(response.status().is_success());
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        disposition.contains("attachment") && disposition.contains("filename*=UTF-8''Plan%20f%C3%BCr%20Q3%2Epng"),
        "{disposition}"
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), PNG.to_vec());
}

pub async fn the_signature_fixes_size_and_type(f: BlobFixture) {
    let key = key();
    let signed = sign_png(&f, &key).await;
    let url = url::Url::parse(&signed.url).unwrap();
    let params: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    if let Some(signed_headers) = params.get("X-Amz-SignedHeaders") {
        let names: Vec<&str> = signed_headers.split(';').collect();
        for required in ["content-length", "content-type", "x-amz-tagging"] {
            assert!(
                names.contains(&required),
                "S3 signature must cover {required}: {signed_headers}"
            );
        }
    }
    if !f.enforces_signature {
        return;
    }
    let mut bigger = PNG.to_vec();
    bigger.push(0);
    let response = perform(&signed, bigger, &[]).await;
    assert_eq!(response.status().as_u16(), 400, "one byte more than signed");
    let response = perform(&signed, PNG.to_vec(), &[("content-type", "text/plain")]).await;
    assert_eq!(response.status().as_u16(), 400, "another content type than signed");
    let mut tampered = signed.clone();
    tampered.url = tampered.url.replace("X-Size=20", "X-Size=2000");
    assert_eq!(
        perform(&tampered, PNG.to_vec(), &[]).await.status().as_u16(),
        403,
        "a changed URL breaks the signature"
    );
    assert_eq!(f.store.head(&key).await.unwrap(), None, "nothing stored");
    let expired = f
        .store
        .sign_upload(&key, PNG.len() as u64, "image/png", Duration::from_secs(0))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        perform(&expired, PNG.to_vec(), &[]).await.status().as_u16(),
        403,
        "expired"
    );
}

#[macro_export]
macro_rules! blob_conformance_tests {
    ($fixture:path) => {
        $crate::blob_conformance_tests!(@cases $fixture;
            a_signed_upload_stores_exactly_what_was_signed,
            uploads_start_pending_and_can_be_kept_or_returned,
            a_signed_download_returns_the_bytes_under_the_original_name,
            the_signature_fixes_size_and_type,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::blobs::$case($fixture().await).await;
            }
        )+
    };
}
