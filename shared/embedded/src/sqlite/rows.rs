//! Rows ↔ SQLite: column lists, row mappers, JSON columns, and the statement helpers every
//! query uses. No rusqlite type leaves `sqlite/`.

use rusqlite::{Connection, Row};

use messaging_core::error::StoreError;
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::notify::NotifyLevel;
use messaging_core::text::Title;
use messaging_core::time::Timestamp;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(e)
}

pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// A row column that the store wrote itself; a parse failure means a corrupt file.
pub(super) fn parsed<T, E: std::fmt::Display>(r: Result<T, E>) -> rusqlite::Result<T> {
    r.map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into()))
}

pub(super) fn ts(raw: String) -> rusqlite::Result<Timestamp> {
    parsed(Timestamp::parse(&raw).ok_or("bad timestamp"))
}

pub(super) fn opt_ts(raw: Option<String>) -> rusqlite::Result<Option<Timestamp>> {
    raw.map(ts).transpose()
}

pub(super) fn json<T: serde::de::DeserializeOwned>(raw: &str) -> rusqlite::Result<T> {
    parsed(serde_json::from_str(raw))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(super) const CONVERSATION_COLUMNS: &str =
    "id, title, project_id, status, created_by, created_at, updated_at, last_seq, last_message";

pub(super) fn conversation_from(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    let last_message: Option<String> = row.get(8)?;
    Ok(Conversation {
        id: parsed(ConversationId::parse(&row.get::<_, String>(0)?))?,
        title: Title::from_stored(row.get(1)?),
        project_id: row
            .get::<_, Option<String>>(2)?
            .map(|p| parsed(ProjectId::parse(&p)))
            .transpose()?,
        status: parsed(ConversationStatus::parse(&row.get::<_, String>(3)?))?,
        created_by: parsed(UserId::parse(&row.get::<_, String>(4)?))?,
        created_at: ts(row.get(5)?)?,
        updated_at: ts(row.get(6)?)?,
        last_seq: row.get::<_, i64>(7)? as u64,
        last_message: last_message.map(|m| json(&m)).transpose()?,
    })
}

pub(super) const MESSAGE_COLUMNS: &str = "conversation_id, seq, id, sender_id, sender_name, body, client_message_id, \
     created_at, edited_at, edit_count, deleted_at, deleted_by, files, revisions, mentions, reactions, \
     reply_to, thread_root, reply_count";

pub(super) fn message_from(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        conversation_id: parsed(ConversationId::parse(&row.get::<_, String>(0)?))?,
        seq: row.get::<_, i64>(1)? as u64,
        id: parsed(MessageId::parse(&row.get::<_, String>(2)?))?,
        sender_id: parsed(UserId::parse(&row.get::<_, String>(3)?))?,
        sender_name: row.get(4)?,
        body: row.get(5)?,
        client_message_id: parsed(ClientMessageId::parse(&row.get::<_, String>(6)?))?,
        created_at: ts(row.get(7)?)?,
        edited_at: opt_ts(row.get(8)?)?,
        edit_count: row.get::<_, i64>(9)? as u32,
        deleted_at: opt_ts(row.get(10)?)?,
        deleted_by: row
            .get::<_, Option<String>>(11)?
            .map(|u| parsed(UserId::parse(&u)))
            .transpose()?,
        files: json(&row.get::<_, String>(12)?)?,
        revisions: json(&row.get::<_, String>(13)?)?,
        mentions: json(&row.get::<_, String>(14)?)?,
        reactions: json(&row.get::<_, String>(15)?)?,
        reply: match (row.get::<_, Option<i64>>(16)?, row.get::<_, Option<i64>>(17)?) {
            (Some(to), Some(root)) => Some(Reply {
                to: to as u64,
                root: root as u64,
            }),
            _ => None,
        },
        reply_count: row.get::<_, i64>(18)? as u32,
    })
}

pub(super) fn participant_from(row: &Row<'_>) -> rusqlite::Result<Participant> {
    Ok(Participant {
        conversation_id: parsed(ConversationId::parse(&row.get::<_, String>(0)?))?,
        user_id: parsed(UserId::parse(&row.get::<_, String>(1)?))?,
        role: parsed(Role::parse(&row.get::<_, String>(2)?))?,
        display_name: row.get(3)?,
        joined_at: ts(row.get(4)?)?,
        added_by: parsed(UserId::parse(&row.get::<_, String>(5)?))?,
    })
}

pub(super) const RECEIPT_COLUMNS: &str =
    "conversation_id, user_id, last_read_seq, read_at, muted, hidden_through, notify, email_off";

pub(super) fn receipt_from(row: &Row<'_>) -> rusqlite::Result<ReadReceipt> {
    Ok(ReadReceipt {
        conversation_id: parsed(ConversationId::parse(&row.get::<_, String>(0)?))?,
        user_id: parsed(UserId::parse(&row.get::<_, String>(1)?))?,
        last_read_seq: row.get::<_, i64>(2)? as u64,
        read_at: ts(row.get(3)?)?,
        preferences: Preferences {
            muted: row.get(4)?,
            hidden_through: row.get::<_, Option<i64>>(5)?.map(|s| s as u64),
            notify: row
                .get::<_, Option<String>>(6)?
                .map(|l| parsed(NotifyLevel::parse(&l)))
                .transpose()?,
            email_off: row.get(7)?,
        },
    })
}

pub(super) const FILE_COLUMNS: &str = "id, conversation_id, uploader_id, name, size, content_type, object_key, status, message_id, created_at, expires_at";

pub(super) fn file_from(row: &Row<'_>) -> rusqlite::Result<FileRecord> {
    Ok(FileRecord {
        id: parsed(FileId::parse(&row.get::<_, String>(0)?))?,
        conversation_id: parsed(ConversationId::parse(&row.get::<_, String>(1)?))?,
        uploader_id: parsed(UserId::parse(&row.get::<_, String>(2)?))?,
        name: row.get(3)?,
        size: row.get::<_, i64>(4)? as u64,
        content_type: row.get(5)?,
        object_key: row.get(6)?,
        status: parsed(FileStatus::parse(&row.get::<_, String>(7)?))?,
        message_id: row
            .get::<_, Option<String>>(8)?
            .map(|m| parsed(MessageId::parse(&m)))
            .transpose()?,
        created_at: ts(row.get(9)?)?,
        expires_at: ts(row.get(10)?)?,
    })
}

pub(super) const REPORT_COLUMNS: &str = "id, conversation_id, message_id, message_seq, reporter_id, reason, status, \
     created_at, resolved_by, resolved_at, resolution_note";

pub(super) fn report_from(row: &Row<'_>) -> rusqlite::Result<Report> {
    Ok(Report {
        id: parsed(ReportId::parse(&row.get::<_, String>(0)?))?,
        conversation_id: parsed(ConversationId::parse(&row.get::<_, String>(1)?))?,
        message_id: parsed(MessageId::parse(&row.get::<_, String>(2)?))?,
        message_seq: row.get::<_, i64>(3)? as u64,
        reporter_id: parsed(UserId::parse(&row.get::<_, String>(4)?))?,
        reason: row.get(5)?,
        status: parsed(ReportStatus::parse(&row.get::<_, String>(6)?))?,
        created_at: ts(row.get(7)?)?,
        resolved_by: row
            .get::<_, Option<String>>(8)?
            .map(|u| parsed(UserId::parse(&u)))
            .transpose()?,
        resolved_at: opt_ts(row.get(9)?)?,
        resolution_note: row.get(10)?,
    })
}

/// Statements with a fixed text go through the connection's statement cache: here, parsing
/// SQL costs more than running it (measured with perf under the benchmark's load). The few
/// whose text varies with the input (IN lists, optional filters) are prepared each time, so
/// that they cannot push the fixed ones out of the cache.
pub(super) trait Cached {
    fn row<T, P: rusqlite::Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn row<T, P: rusqlite::Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// `?, ?, ?` for an IN list.
pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Keyset position for newest-first lists ordered by (created_at, id).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct CreatedPosition {
    pub(super) created_at: String,
    pub(super) id: String,
}
