//! Attachments: upload grants, confirmation before a message may carry them, downloads.
//!
//! The limits are enforced here, on the server: at most five files per message, each at
//! most 10 MB, of an allowed type, with a safe name. The signed upload fixes size and type,
//! and confirmation checks what actually arrived (size, declared type, and the bytes
//! themselves) before the message that carries the file becomes visible.

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Messaging;
use crate::error::{Error, StoreError};
use crate::identity::Identity;
use crate::ids::{ConversationId, FileId};
use crate::limits::Action;
use crate::model::{FileMeta, FileRecord, FileStatus};
use crate::ports::SignedRequest;
use crate::time::Timestamp;

#[derive(Debug, Clone)]
pub struct FilePolicy {
    pub max_files: usize,
    pub max_bytes: u64,
    /// How long a signed upload URL works.
    pub upload_ttl: Duration,
    /// How long a signed download URL works.
    pub download_ttl: Duration,
    /// How long a pending upload may wait for its message.
    pub pending_ttl: Duration,
}

impl Default for FilePolicy {
    fn default() -> Self {
        Self {
            max_files: 5,
            max_bytes: 10 * 1024 * 1024,
            upload_ttl: Duration::from_secs(300),
            download_ttl: Duration::from_secs(300),
            pending_ttl: Duration::from_secs(3600),
        }
    }
}

/// Declared content types the server accepts, each with the types byte-sniffing may
/// report for it. Text types sniff as "nothing recognised" and must be UTF-8.
const ALLOWED_TYPES: &[(&str, &[&str])] = &[
    // Images (no SVG: it can carry script)
    ("image/jpeg", &["image/jpeg"]),
    ("image/png", &["image/png"]),
    ("image/gif", &["image/gif"]),
    ("image/webp", &["image/webp"]),
    ("image/heic", &["image/heif", "image/heic"]),
    // Documents
    ("application/pdf", &["application/pdf"]),
    ("text/plain", &[]),
    ("text/csv", &[]),
    ("application/rtf", &["application/rtf", "text/rtf"]),
    (
        "application/msword",
        &["application/msword", "application/x-ole-storage"],
    ),
    (
        "application/vnd.ms-excel",
        &["application/vnd.ms-excel", "application/x-ole-storage"],
    ),
    (
        "application/vnd.ms-powerpoint",
        &["application/vnd.ms-powerpoint", "application/x-ole-storage"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &[
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip",
        ],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/zip",
        ],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &[
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/zip",
        ],
    ),
    (
        "application/vnd.oasis.opendocument.text",
        &["application/vnd.oasis.opendocument.text", "application/zip"],
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        &["application/vnd.oasis.opendocument.spreadsheet", "application/zip"],
    ),
    // Video
    ("video/mp4", &["video/mp4"]),
    ("video/webm", &["video/webm"]),
    ("video/quicktime", &["video/quicktime"]),
    // Audio
    ("audio/mpeg", &["audio/mpeg"]),
    ("audio/wav", &["audio/x-wav", "audio/wav"]),
    ("audio/ogg", &["audio/ogg"]),
    ("audio/mp4", &["audio/m4a", "audio/mp4", "video/mp4"]),
    ("audio/webm", &["video/webm", "audio/webm"]),
    // Archives
    ("application/zip", &["application/zip"]),
    ("application/gzip", &["application/gzip"]),
    ("application/x-7z-compressed", &["application/x-7z-compressed"]),
    ("application/x-tar", &["application/x-tar"]),
];

/// Bytes read from the start of an upload to check its real type. Enough for the zip
/// directory entries that tell an Office document from a plain archive.
const SNIFF_BYTES: usize = 16 * 1024;

/// One file a client wants to upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRequest {
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct UploadSlot {
    #[serde(flatten)]
    pub file: FileMeta,
    pub upload: SignedRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct UploadGrant {
    pub files: Vec<UploadSlot>,
    pub max_files: usize,
    pub max_bytes: u64,
}

/// The extensions that may name a file of each allowed type; the first is the one given
/// to a download whose name says otherwise. Text types list only extensions that nothing
/// runs. The web client shows names with the same table (`web/src/utils/files.ts`;
/// `tests/tests/web_wire_types.rs` checks that the two agree).
pub const EXTENSIONS: &[(&str, &[&str])] = &[
    ("image/jpeg", &["jpg", "jpeg", "jpe", "jfif"]),
    ("image/png", &["png"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("image/heic", &["heic", "heif"]),
    ("application/pdf", &["pdf"]),
    ("text/plain", &["txt", "text", "log", "md", "csv", "tsv"]),
    ("text/csv", &["csv", "txt"]),
    ("application/rtf", &["rtf"]),
    ("application/msword", &["doc"]),
    ("application/vnd.ms-excel", &["xls"]),
    ("application/vnd.ms-powerpoint", &["ppt", "pps"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("application/vnd.oasis.opendocument.spreadsheet", &["ods"]),
    ("video/mp4", &["mp4", "m4v"]),
    ("video/webm", &["webm"]),
    ("video/quicktime", &["mov", "qt"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/wav", &["wav"]),
    ("audio/ogg", &["ogg", "oga", "opus"]),
    ("audio/mp4", &["m4a", "mp4"]),
    ("audio/webm", &["weba", "webm"]),
    ("application/zip", &["zip"]),
    ("application/gzip", &["gz", "tgz"]),
    ("application/x-7z-compressed", &["7z"]),
    ("application/x-tar", &["tar"]),
];

/// The name a download is saved under: without invisible, bidi-control or control
/// characters, and ending in an extension of its verified type — a file stored (by an
/// older version) as `invoice_<U+202E>fdp.exe` holding a PDF downloads as
/// `invoice_fdp.exe.pdf`, never as something the desktop would run.
pub fn download_name(name: &str, content_type: &str) -> String {
    let visible: String = name
        .chars()
        .filter(|&c| !c.is_control() && !crate::text::is_bidi_control(c) && (c == ' ' || !crate::text::is_invisible(c)))
        .collect();
    let visible = match visible.trim() {
        "" => "file".to_owned(),
        v => v.to_owned(),
    };
    let Some((_, allowed)) = EXTENSIONS.iter().find(|(t, _)| *t == content_type) else {
        return visible;
    };
    let claimed = visible.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match claimed {
        Some(ext) if allowed.contains(&ext.as_str()) => visible,
        _ => format!("{visible}.{}", allowed[0]),
    }
}

fn parse_file_name(raw: &str, field: String) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(Error::invalid(field, "file name must be 1 to 255 characters"));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name.chars().all(|c| c == '.') {
        return Err(Error::invalid(
            field,
            "file name must not contain slashes or control characters",
        ));
    }
    crate::text::check_legible(name, field, true)?;
    Ok(name.to_owned())
}

/// Normalises a declared content type (`Image/PNG; charset=x` → `image/png`) and checks the allowlist.
fn parse_content_type(raw: &str, field: String) -> Result<&'static str, Error> {
    let essence = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    ALLOWED_TYPES
        .iter()
        .find(|(t, _)| *t == essence)
        .map(|(t, _)| *t)
        .ok_or_else(|| Error::invalid(field, format!("content type {essence:?} is not allowed")))
}

/// Do the first bytes of a file agree with its declared type?
pub fn bytes_match_type(declared: &str, prefix: &[u8]) -> bool {
    let Some((_, sniffs)) = ALLOWED_TYPES.iter().find(|(t, _)| *t == declared) else {
        return false;
    };
    let detected = infer::get(prefix).map(|k| k.mime_type());
    if sniffs.is_empty() {
        // Text: nothing binary recognised, no NUL bytes, UTF-8 (a cut last character is fine).
        let utf8 = match std::str::from_utf8(prefix) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        };
        return detected.is_none() && !prefix.contains(&0) && utf8;
    }
    detected.is_some_and(|d| sniffs.contains(&d))
}

fn object_key(conversation: &ConversationId, file: &FileId) -> String {
    format!("attachments/{conversation}/{file}")
}

impl Messaging {
    /// Grants signed uploads for up to five files and records them as pending.
    pub async fn request_uploads(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        requests: Vec<AttachmentRequest>,
    ) -> Result<UploadGrant, Error> {
        self.require_member(who, conversation).await?;
        self.spend(who, Action::Uploads).await?;
        let policy = &self.settings.files;
        if requests.is_empty() || requests.len() > policy.max_files {
            return Err(Error::invalid(
                "files",
                format!(
                    "attach 1 to {} files per message (got {})",
                    policy.max_files,
                    requests.len()
                ),
            ));
        }
        let now = Timestamp::now();
        let mut records = Vec::with_capacity(requests.len());
        for (i, req) in requests.iter().enumerate() {
            let name = parse_file_name(&req.name, format!("files[{i}].name"))?;
            let content_type = parse_content_type(&req.content_type, format!("files[{i}].contentType"))?;
            if req.size == 0 || req.size > policy.max_bytes {
                return Err(Error::invalid(
                    format!("files[{i}].size"),
                    format!("must be 1 to {} bytes (got {})", policy.max_bytes, req.size),
                ));
            }
            let id = FileId::generate();
            records.push(FileRecord {
                object_key: object_key(conversation, &id),
                id,
                conversation_id: conversation.clone(),
                uploader_id: who.user_id.clone(),
                name,
                size: req.size,
                content_type: content_type.to_owned(),
                status: FileStatus::Pending,
                message_id: None,
                created_at: now,
                expires_at: now.plus_millis(policy.pending_ttl.as_millis() as i64),
            });
        }
        let mut slots = Vec::with_capacity(records.len());
        for record in &records {
            let upload = self
                .ports
                .blobs
                .sign_upload(&record.object_key, record.size, &record.content_type, policy.upload_ttl)
                .await?;
            slots.push(UploadSlot {
                file: record.meta(),
                upload,
            });
        }
        self.ports.store.create_files(&records).await?;
        Ok(UploadGrant {
            files: slots,
            max_files: policy.max_files,
            max_bytes: policy.max_bytes,
        })
    }

    /// Checks that each file is the caller's pending upload in this conversation and that
    /// what arrived is what was declared. The store re-checks "pending, theirs, here"
    /// atomically when it attaches them.
    pub(crate) async fn confirm_attachments(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        ids: &[FileId],
    ) -> Result<Vec<FileMeta>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let policy = &self.settings.files;
        if ids.len() > policy.max_files {
            return Err(Error::invalid(
                "fileIds",
                format!(
                    "a message carries at most {} files (got {})",
                    policy.max_files,
                    ids.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(*id)) {
            return Err(Error::invalid("fileIds", format!("file {dup} is listed twice")));
        }
        let records = self.ports.store.get_files(ids).await?;
        let now = Timestamp::now();
        let mut metas = Vec::with_capacity(ids.len());
        for id in ids {
            let not_attachable = || Error::from(StoreError::FileNotAttachable(id.to_string()));
            let record = records.iter().find(|r| &r.id == id).ok_or_else(not_attachable)?;
            if &record.conversation_id != conversation
                || record.uploader_id != who.user_id
                || record.status != FileStatus::Pending
                || record.expires_at < now
            {
                return Err(not_attachable());
            }
            self.confirm_upload(record).await?;
            metas.push(record.meta());
        }
        Ok(metas)
    }

    /// Tags the files' objects kept (before the message is written: a failure after that
    /// costs storage, never a file the message points to), or back to pending when the
    /// write did not happen.
    pub(crate) async fn set_files_attached(
        &self,
        conversation: &ConversationId,
        files: &[FileMeta],
        attached: bool,
    ) -> Result<(), Error> {
        for file in files {
            let key = object_key(conversation, &file.id);
            if let Err(e) = self.ports.blobs.set_attached(&key, attached).await {
                if attached {
                    return Err(e.into());
                }
                tracing::warn!(error = %e, file = %file.id, "could not return an upload to pending; it will be kept");
            }
        }
        Ok(())
    }

    async fn confirm_upload(&self, record: &FileRecord) -> Result<(), Error> {
        let blobs = &self.ports.blobs;
        let head = blobs
            .head(&record.object_key)
            .await?
            .ok_or_else(|| Error::invalid("fileIds", format!("file {} was not uploaded", record.id)))?;
        if head.size != record.size {
            return Err(Error::invalid(
                "fileIds",
                format!(
                    "file {} has {} bytes, {} were declared",
                    record.id, head.size, record.size
                ),
            ));
        }
        if let Some(stored_type) = &head.content_type
            && !stored_type.eq_ignore_ascii_case(&record.content_type)
        {
            return Err(Error::invalid(
                "fileIds",
                format!(
                    "file {} was uploaded as {stored_type}, not {}",
                    record.id, record.content_type
                ),
            ));
        }
        let prefix = blobs.read_prefix(&record.object_key, SNIFF_BYTES).await?;
        if !bytes_match_type(&record.content_type, &prefix) {
            return Err(Error::invalid(
                "fileIds",
                format!("file {} does not contain {}", record.id, record.content_type),
            ));
        }
        Ok(())
    }

    /// A short-lived download link, for members (and admins) only.
    pub async fn download_file(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &FileId,
    ) -> Result<SignedRequest, Error> {
        self.require_reader(who, conversation).await?;
        let record = self
            .ports
            .store
            .get_files(std::slice::from_ref(id))
            .await?
            .into_iter()
            .next()
            .filter(|r| &r.conversation_id == conversation && r.status == FileStatus::Attached)
            .ok_or(Error::NotFound("file"))?;
        // A deleted message takes its files with it.
        if let Some(message_id) = &record.message_id {
            let message = self.message_in(conversation, message_id).await?;
            if message.is_deleted() {
                return Err(Error::NotFound("file"));
            }
        }
        self.ports
            .blobs
            .sign_download(
                &record.object_key,
                &download_name(&record.name, &record.content_type),
                &record.content_type,
                self.settings.files.download_ttl,
            )
            .await
            .map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
    ];

    #[test]
    fn png_bytes_match_png_but_not_pdf() {
        assert!(bytes_match_type("image/png", PNG));
        assert!(!bytes_match_type("application/pdf", PNG));
    }

    #[test]
    fn text_must_not_be_binary() {
        assert!(bytes_match_type("text/plain", "héllo, wörld\n".as_bytes()));
        assert!(!bytes_match_type("text/plain", PNG));
        assert!(!bytes_match_type("text/csv", b"a,b\0c"));
    }

    #[test]
    fn content_types_are_normalised_and_allowlisted() {
        assert_eq!(parse_content_type("Image/PNG; q=1", "t".into()).unwrap(), "image/png");
        assert!(parse_content_type("image/svg+xml", "t".into()).is_err());
        assert!(parse_content_type("application/x-msdownload", "t".into()).is_err());
    }

    #[test]
    fn file_names_with_paths_are_refused() {
        assert!(parse_file_name("../etc/passwd", "n".into()).is_err());
        assert!(parse_file_name("a\\b.txt", "n".into()).is_err());
        assert!(parse_file_name("..", "n".into()).is_err());
        assert_eq!(
            download_name("invoice_\u{202E}fdp.exe", "application/pdf"),
            "invoice_fdp.exe.pdf"
        );
        assert_eq!(download_name("Brief für Q3.PDF", "application/pdf"), "Brief für Q3.PDF");
        assert_eq!(download_name("\u{200B}", "image/png"), "file.png");
        assert_eq!(download_name("notes.html", "text/plain"), "notes.html.txt");
        assert_eq!(download_name("a b.zip", "application/x-unknown"), "a b.zip");
        for (t, _) in ALLOWED_TYPES {
            assert!(EXTENSIONS.iter().any(|(e, _)| e == t), "{t} has no extensions");
        }
        let err = parse_file_name("invoice_\u{202E}fdp.exe", "files[0].name".into()).unwrap_err();
        assert_eq!(err.field(), Some("files[0].name"));
        assert!(parse_file_name("\u{200B}", "n".into()).is_err());
        assert_eq!(
            parse_file_name(" report final.pdf ", "n".into()).unwrap(),
            "report final.pdf"
        );
    }
}
