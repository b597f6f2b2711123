//! The local [`Mailer`]: every email lands as a JSON file in the data folder's
//! `outbox/`, newest last, and the gateway shows them at `/dev/mail` (a mail catcher that
//! is part of the product: what a team sees of its emails before it has SES).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use messaging_core::notify::Mail;
use messaging_core::ports::{Mailer, SendFailure};
use messaging_core::time::Timestamp;

/// One delivered email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Sortable by time (a ULID).
    pub id: String,
    pub sent_at: Timestamp,
    pub mail: Mail,
}

pub struct OutboxMailer {
    dir: PathBuf,
}

/// Outbox ids are ULIDs; anything else names no file.
fn is_id(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest `limit` emails, newest first.
    pub fn list(&self, limit: usize) -> Vec<OutboxEntry> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.strip_suffix(".json").is_some_and(is_id))
                    .collect()
            })
            .unwrap_or_default();
        names.sort_unstable_by(|a, b| b.cmp(a));
        names
            .iter()
            .take(limit)
            .filter_map(|n| self.get(n.trim_end_matches(".json")))
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<OutboxEntry> {
        if !is_id(id) {
            return None;
        }
        let raw = std::fs::read(self.dir.join(format!("{id}.json"))).ok()?;
        serde_json::from_slice(&raw).ok()
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendFailure> {
        let entry = OutboxEntry {
            id: ulid::Ulid::generate().to_string(),
            sent_at: Timestamp::now(),
            mail: mail.clone(),
        };
        let body = serde_json::to_vec_pretty(&entry).map_err(|e| SendFailure::Refused(e.to_string()))?;
        let (tmp, done) = (
            self.dir.join(format!(".{}.tmp", entry.id)),
            self.dir.join(format!("{}.json", entry.id)),
        );
        // Written whole, then renamed: the dev page never reads half an email.
        let write = tokio::fs::write(&tmp, body)
            .await
            .and(tokio::fs::rename(&tmp, &done).await);
        write.map_err(|e| SendFailure::Temporary(format!("outbox {}: {e}", self.dir.display())))?;
        tracing::info!(to = %mail.to, subject = %mail.subject, id = %entry.id, "email written to the outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn emails_are_kept_newest_first_and_ids_name_only_outbox_files() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().join("outbox")).unwrap();
        for i in 0..3 {
            let mail = Mail {
                to: "ana@example.com".into(),
                from: "Messaging <n@localhost>".into(),
                subject: format!("mail {i}"),
                text: "t".into(),
                html: "<p>t</p>".into(),
                headers: vec![],
            };
            outbox.send(&mail).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let listed = outbox.list(10);
        let subjects: Vec<_> = listed.iter().map(|e| e.mail.subject.as_str()).collect();
        assert_eq!(subjects, ["mail 2", "mail 1", "mail 0"]);
        assert_eq!(outbox.get(&listed[0].id).unwrap(), listed[0]);
        assert_eq!(outbox.get("../../etc/passwd"), None);
        assert_eq!(outbox.list(1).len(), 1);
    }
}
