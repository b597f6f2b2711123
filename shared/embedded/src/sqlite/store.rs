//! [`Store`] on SQLite: every DynamoDB transaction of the other adapter is one
//! `BEGIN IMMEDIATE` transaction here.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use messaging_core::cursor::Cursor;
use messaging_core::error::{StoreError, StoreResult};
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::notify::{NotificationSettings, PushSubscription};
use messaging_core::ports::*;
use messaging_core::text::{MessageBody, Title};
use messaging_core::time::Timestamp;

use super::rows::*;
use super::schema::{ADDED_COLUMNS, LATER_INDEXES, SCHEMA};

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let conn = Connection::open(path).map_err(backend)?;
        let store = Self::init(conn)?;
        // Checkpoints (which fsync) move off the request path: requests never pay for them.
        store
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite mutex poisoned".into()))?
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(backend)?;
        let checkpointer = Connection::open(path).map_err(backend)?;
        checkpointer
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        let alive = Arc::downgrade(&store.conn);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // PASSIVE: copies what it can without waiting for or blocking the writer.
                while alive.upgrade().is_some() {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    if let Err(e) = checkpointer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "checkpoint failed");
                    }
                }
            })
            .map_err(backend)?;
        Ok(store)
    }

    /// A private in-memory database (tests, benchmarks of the domain alone).
    pub fn in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        // WAL: readers never block the writer. NORMAL sync: a power cut may lose the last
        // transactions but never corrupts the file — the right trade for a dev database.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA).map_err(backend)?;
        add_missing_columns(&conn)?;
        conn.execute_batch(LATER_INDEXES).map_err(backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection, on the calling task. Every statement here takes
    /// microseconds (checkpoints, the only slow step, run on their own thread), so a hop to
    /// the blocking pool would cost more than it saves; measured, it did (see bench/).
    async fn with<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite mutex poisoned".into()))?;
        f(&mut guard)
    }

    /// Applies a rule of core (`Message::edited`, `Message::tombstoned`) to the stored
    /// message inside one immediate transaction and persists what it returns; `None`
    /// means nothing changes and the message is answered as it is.
    async fn revise_message<F>(&self, conversation: &ConversationId, id: &MessageId, rule: F) -> StoreResult<Message>
    where
        F: FnOnce(&Message) -> StoreResult<Option<Message>> + Send + 'static,
    {
        let (c, m) = (conversation.to_string(), id.to_string());
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let current = load_message(&tx, &c, &m)?.ok_or(StoreError::MessageNotFound)?;
            let Some(message) = rule(&current)? else {
                return Ok(current);
            };
            tx.exec(
                "UPDATE messages SET body = ?1, edited_at = ?2, edit_count = ?3, deleted_at = ?4,
                        deleted_by = ?5, revisions = ?6
                 WHERE conversation_id = ?7 AND seq = ?8",
                params![
                    message.body,
                    message.edited_at.map(|t| t.to_rfc3339()),
                    message.edit_count as i64,
                    message.deleted_at.map(|t| t.to_rfc3339()),
                    message.deleted_by.as_ref().map(|u| u.as_str()),
                    to_json(&message.revisions),
                    c,
                    message.seq as i64
                ],
            )
            .map_err(backend)?;
            refresh_preview(&tx, &message)?;
            tx.commit().map_err(backend)?;
            Ok(message)
        })
        .await
    }
}

/// The message a sender stored under a client message id (idempotent sends).
fn load_by_client_id(
    conn: &Connection,
    conversation: &str,
    sender: &str,
    client_message_id: &str,
) -> StoreResult<Option<Message>> {
    conn.row(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND sender_id = ?2 AND client_message_id = ?3"
        ),
        params![conversation, sender, client_message_id],
        message_from,
    )
    .optional()
    .map_err(backend)
}

fn load_message(conn: &Connection, conversation: &str, id: &str) -> StoreResult<Option<Message>> {
    conn.row(
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND id = ?2"),
        params![conversation, id],
        message_from,
    )
    .optional()
    .map_err(backend)
}

/// Rewrites the conversation preview when `message` is its newest message.
fn refresh_preview(tx: &Connection, message: &Message) -> StoreResult<()> {
    tx.exec(
        "UPDATE conversations SET last_message = ?1 WHERE id = ?2 AND last_seq = ?3",
        params![
            to_json(&message.preview()),
            message.conversation_id.as_str(),
            message.seq as i64
        ],
    )
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create_conversation(&self, c: &Conversation, participants: &[Participant]) -> StoreResult<()> {
        let c = c.clone();
        let participants = participants.to_vec();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            tx.exec(
                "INSERT INTO conversations (id, title, title_lc, project_id, status, created_by, created_at, updated_at, last_seq, last_message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    c.id.as_str(), c.title.as_str(), c.title.as_str().to_lowercase(),
                    c.project_id.as_ref().map(|p| p.as_str()), c.status.as_str(), c.created_by.as_str(),
                    c.created_at.to_rfc3339(), c.updated_at.to_rfc3339(), c.last_seq as i64,
                    c.last_message.as_ref().map(to_json),
                ],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists } else { backend(e) })?;
            insert_participants(&tx, &participants)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn get_conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>> {
        let id = id.to_string();
        self.with(move |conn| {
            conn.row(
                &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"),
                params![id],
                conversation_from,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn get_conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        self.with(move |conn| {
            let mut out = Vec::with_capacity(ids.len());
            // SQLite's default limit on parameters is 32766; chunk like DynamoDB's BatchGet.
            for chunk in ids.chunks(100) {
                let sql = format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = conn.prepare(&sql).map_err(backend)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(chunk.iter()), conversation_from)
                    .map_err(backend)?;
                for row in rows {
                    out.push(row.map_err(backend)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn set_status(
        &self,
        id: &ConversationId,
        status: ConversationStatus,
        at: Timestamp,
    ) -> StoreResult<Conversation> {
        self.update_conversation(id, "status = :v1", vec![status.as_str().to_owned()], at)
            .await
    }

    async fn set_title(&self, id: &ConversationId, title: &Title, at: Timestamp) -> StoreResult<Conversation> {
        let values = vec![title.to_string(), title.as_str().to_lowercase()];
        self.update_conversation(id, "title = :v1, title_lc = :v2", values, at)
            .await
    }

    async fn search_conversations(&self, q: &ConversationQuery) -> StoreResult<Page<Conversation>> {
        let q = q.clone();
        self.with(move |conn| {
            let after: Option<CreatedPosition> = match &q.cursor {
                Some(c) => Some(c.decode().ok_or(StoreError::InvalidCursor)?),
                None => None,
            };
            let mut sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE 1 = 1");
            let mut args: Vec<String> = Vec::new();
            if let Some(status) = q.status {
                sql.push_str(" AND c.status = ?");
                args.push(status.as_str().into());
            }
            if let Some(text) = &q.text {
                // instr, not LIKE: the text is data, not a pattern.
                sql.push_str(" AND instr(c.title_lc, ?) > 0");
                args.push(text.clone());
            }
            if let Some(user) = &q.participant {
                sql.push_str(
                    " AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = ?)",
                );
                args.push(user.to_string());
            }
            if let Some(pos) = &after {
                sql.push_str(" AND (c.created_at, c.id) < (?, ?)");
                args.push(pos.created_at.clone());
                args.push(pos.id.clone());
            }
            sql.push_str(&format!(" ORDER BY c.created_at DESC, c.id DESC LIMIT {}", q.limit + 1));
            let mut stmt = conn.prepare(&sql).map_err(backend)?;
            let mut items: Vec<Conversation> = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), conversation_from)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            let next_cursor = if items.len() > q.limit {
                items.truncate(q.limit);
                items.last().map(|c| {
                    Cursor::encode(&CreatedPosition { created_at: c.created_at.to_rfc3339(), id: c.id.to_string() })
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }
}

impl SqliteStore {
    /// `set` assigns columns from `:v1`, `:v2`... (`values` in order); `updated_at` moves too.
    async fn update_conversation(
        &self,
        id: &ConversationId,
        set: &'static str,
        values: Vec<String>,
        at: Timestamp,
    ) -> StoreResult<Conversation> {
        let id = id.to_string();
        self.with(move |conn| {
            let sql = format!("UPDATE conversations SET {set}, updated_at = :at WHERE id = :id");
            let at_text = at.to_rfc3339();
            let names: Vec<String> = (1..=values.len()).map(|i| format!(":v{i}")).collect();
            let mut args: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":at", &at_text), (":id", &id)];
            for (name, value) in names.iter().zip(values.iter()) {
                args.push((name.as_str(), value));
            }
            let changed = conn.exec(&sql, args.as_slice()).map_err(backend)?;
            if changed == 0 {
                return Err(StoreError::ConversationNotFound);
            }
            conn.row(
                &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"),
                params![id],
                conversation_from,
            )
            .map_err(backend)
        })
        .await
    }
}

fn insert_participants(tx: &Connection, participants: &[Participant]) -> StoreResult<usize> {
    let mut added = 0;
    for p in participants {
        added += tx
            .exec(
                "INSERT OR IGNORE INTO conversation_participants (conversation_id, user_id, role, display_name, joined_at, added_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    p.conversation_id.as_str(), p.user_id.as_str(), p.role.as_str(), p.display_name,
                    p.joined_at.to_rfc3339(), p.added_by.as_str()
                ],
            )
            .map_err(backend)?;
    }
    Ok(added)
}

#[async_trait]
impl ParticipantStore for SqliteStore {
    async fn list_participants(&self, conversation: &ConversationId) -> StoreResult<Vec<Participant>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT conversation_id, user_id, role, display_name, joined_at, added_by
                     FROM conversation_participants WHERE conversation_id = ?1 ORDER BY user_id",
                )
                .map_err(backend)?;
            let rows = stmt.query_map(params![c], participant_from).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<ConversationId>> {
        let u = user.to_string();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT conversation_id FROM conversation_participants WHERE user_id = ?1")
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![u], |r| parsed(ConversationId::parse(&r.get::<_, String>(0)?)))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn members_of(&self, conversations: &[ConversationId]) -> StoreResult<Vec<(ConversationId, Vec<UserId>)>> {
        let ids: Vec<String> = conversations.iter().map(|i| i.to_string()).collect();
        self.with(move |conn| {
            let mut members: std::collections::BTreeMap<String, Vec<UserId>> = std::collections::BTreeMap::new();
            for chunk in ids.chunks(100) {
                let sql = format!(
                    "SELECT c.id, p.user_id FROM conversations c
                     LEFT JOIN conversation_participants p ON p.conversation_id = c.id
                     WHERE c.id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = conn.prepare(&sql).map_err(backend)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(chunk.iter()), |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .map_err(backend)?;
                for row in rows {
                    let (conversation, user) = row.map_err(backend)?;
                    let entry = members.entry(conversation).or_default();
                    if let Some(user) = user {
                        entry.push(UserId::parse(&user).map_err(backend)?);
                    }
                }
            }
            members
                .into_iter()
                .map(|(c, users)| Ok((ConversationId::parse(&c).map_err(backend)?, users)))
                .collect()
        })
        .await
    }

    async fn add_participants(
        &self,
        conversation: &ConversationId,
        participants: &[Participant],
    ) -> StoreResult<Vec<Participant>> {
        let c = conversation.to_string();
        let participants = participants.to_vec();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let exists: bool = tx
                .row("SELECT 1 FROM conversations WHERE id = ?1", params![c], |_| Ok(true))
                .optional()
                .map_err(backend)?
                .unwrap_or(false);
            if !exists {
                return Err(StoreError::ConversationNotFound);
            }
            let mut added = Vec::new();
            for p in participants {
                if insert_participants(&tx, std::slice::from_ref(&p))? == 1 {
                    added.push(p);
                }
            }
            tx.commit().map_err(backend)?;
            Ok(added)
        })
        .await
    }

    async fn remove_participant(&self, conversation: &ConversationId, user: &UserId) -> StoreResult<bool> {
        let (c, u) = (conversation.to_string(), user.to_string());
        self.with(move |conn| {
            let n = conn
                .exec(
                    "DELETE FROM conversation_participants WHERE conversation_id = ?1 AND user_id = ?2",
                    params![c, u],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let c = new.conversation_id.to_string();
            if let Some(existing) = load_by_client_id(&tx, &c, new.sender_id.as_str(), new.client_message_id.as_str())? {
                return Ok(Appended::Existing(existing));
            }
            let (last_seq, status): (i64, String) = tx
                .row(
                    "SELECT last_seq, status FROM conversations WHERE id = ?1",
                    params![c],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?
                .ok_or(StoreError::ConversationNotFound)?;
            if status == ConversationStatus::Closed.as_str() {
                return Err(StoreError::ConversationClosed);
            }
            let seq = last_seq as u64 + 1;
            // Attach the files: each must still be the sender's pending upload here.
            for file in &new.files {
                let n = tx
                    .exec(
                        "UPDATE message_files SET status = 'attached', message_id = ?1
                         WHERE id = ?2 AND status = 'pending' AND uploader_id = ?3 AND conversation_id = ?4",
                        params![new.id.as_str(), file.id.as_str(), new.sender_id.as_str(), c],
                    )
                    .map_err(backend)?;
                if n != 1 {
                    return Err(StoreError::FileNotAttachable(file.id.to_string()));
                }
            }
            let message = new.into_message(seq);
            tx.exec(
                "INSERT INTO messages (conversation_id, seq, id, sender_id, sender_name, body, client_message_id,
                                       created_at, edit_count, files, revisions, mentions, reply_to, thread_root)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, '[]', ?10, ?11, ?12)",
                params![
                    c, seq as i64, message.id.as_str(), message.sender_id.as_str(), message.sender_name,
                    message.body, message.client_message_id.as_str(), message.created_at.to_rfc3339(),
                    to_json(&message.files), to_json(&message.mentions),
                    message.reply.map(|r| r.to as i64), message.reply.map(|r| r.root as i64),
                ],
            )
            .map_err(backend)?;
            // A reply counts on its thread's root, in the same transaction.
            if let Some(reply) = message.reply {
                let n = tx
                    .exec(
                        "UPDATE messages SET reply_count = reply_count + 1 WHERE conversation_id = ?1 AND seq = ?2",
                        params![c, reply.root as i64],
                    )
                    .map_err(backend)?;
                if n != 1 {
                    return Err(StoreError::MessageNotFound);
                }
            }
            tx.exec(
                "UPDATE conversations SET last_seq = ?1, last_message = ?2 WHERE id = ?3",
                params![seq as i64, to_json(&message.preview()), c],
            )
            .map_err(backend)?;
            // Sending implies having read everything up to one's own message.
            tx.exec(
                "INSERT INTO message_read_receipts (conversation_id, user_id, last_read_seq, read_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_read_seq = excluded.last_read_seq, read_at = excluded.read_at
                 WHERE excluded.last_read_seq > message_read_receipts.last_read_seq",
                params![c, message.sender_id.as_str(), seq as i64, message.created_at.to_rfc3339()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Appended::Created(message))
        })
        .await
    }

    async fn get_message(&self, conversation: &ConversationId, id: &MessageId) -> StoreResult<Option<Message>> {
        let (c, m) = (conversation.to_string(), id.to_string());
        self.with(move |conn| load_message(conn, &c, &m)).await
    }

    async fn find_by_client_id(
        &self,
        conversation: &ConversationId,
        sender: &UserId,
        client_message_id: &ClientMessageId,
    ) -> StoreResult<Option<Message>> {
        let (c, u, k) = (
            conversation.to_string(),
            sender.to_string(),
            client_message_id.to_string(),
        );
        self.with(move |conn| load_by_client_id(conn, &c, &u, &k)).await
    }

    async fn list_messages(&self, conversation: &ConversationId, range: MessageRange) -> StoreResult<Vec<Message>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            let (sql, bound, limit) = match range {
                MessageRange::Latest { limit } => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"),
                    i64::MAX,
                    limit,
                ),
                MessageRange::Before { seq, limit } => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"),
                    seq.min(i64::MAX as u64) as i64,
                    limit,
                ),
                MessageRange::After { seq, limit } => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"),
                    seq.min(i64::MAX as u64) as i64,
                    limit,
                ),
            };
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let mut items: Vec<Message> = stmt
                .query_map(params![c, bound, limit as i64], message_from)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            items.sort_by_key(|m| m.seq);
            Ok(items)
        })
        .await
    }

    async fn edit_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        body: &MessageBody,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message> {
        let (body, by) = (body.clone(), by.clone());
        self.revise_message(conversation, id, move |current| {
            current.edited(&body, &by, at).map(Some)
        })
        .await
    }

    async fn delete_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message> {
        let by = by.clone();
        self.revise_message(conversation, id, move |current| Ok(current.tombstoned(&by, at)))
            .await
    }

    /// Read, change and write in one immediate transaction: SQLite's write lock orders
    /// concurrent reactions.
    async fn react(
        &self,
        conversation: &ConversationId,
        seq: u64,
        emoji: messaging_core::reactions::Emoji,
        user: &UserId,
        add: bool,
    ) -> StoreResult<Message> {
        use messaging_core::reactions::{MAX_PER_MESSAGE, changed, total};
        let (c, user) = (conversation.to_string(), user.clone());
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut message = tx
                .row(
                    &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"),
                    params![c, seq as i64],
                    message_from,
                )
                .optional()
                .map_err(backend)?
                .ok_or(StoreError::MessageNotFound)?;
            if message.is_deleted() {
                return Err(StoreError::MessageDeleted);
            }
            let after = changed(&message.reactions, emoji, &user, add);
            if after == message.reactions {
                return Ok(message);
            }
            if total(&after) > MAX_PER_MESSAGE {
                return Err(StoreError::LimitReached {
                    what: "reactions on a message",
                    limit: MAX_PER_MESSAGE,
                });
            }
            tx.exec(
                "UPDATE messages SET reactions = ?1 WHERE conversation_id = ?2 AND seq = ?3",
                params![to_json(&after), c, seq as i64],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            message.reactions = after;
            Ok(message)
        })
        .await
    }

    async fn list_thread(
        &self,
        conversation: &ConversationId,
        root: u64,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND thread_root = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
                ))
                .map_err(backend)?;
            stmt.query_map(params![c, root as i64, after as i64, limit as i64], message_from)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(backend)
        })
        .await
    }

    async fn messages_at(&self, conversation: &ConversationId, seqs: &[u64]) -> StoreResult<Vec<Message>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let (c, json) = (conversation.to_string(), to_json(&seqs));
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq IN (SELECT value FROM json_each(?2)) ORDER BY seq"
                ))
                .map_err(backend)?;
            stmt.query_map(params![c, json], message_from)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(backend)
        })
        .await
    }

    async fn pinned(&self, conversation: &ConversationId) -> StoreResult<Vec<u64>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            if !conversation_exists(conn, &c)? {
                return Err(StoreError::ConversationNotFound);
            }
            pinned_seqs(conn, &c)
        })
        .await
    }

    async fn set_pinned(&self, conversation: &ConversationId, seq: u64, pin: bool) -> StoreResult<Vec<u64>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            if !conversation_exists(&tx, &c)? {
                return Err(StoreError::ConversationNotFound);
            }
            let before = pinned_seqs(&tx, &c)?;
            if before.contains(&seq) == pin {
                return Ok(before);
            }
            if pin && before.len() >= MAX_PINS {
                return Err(StoreError::LimitReached {
                    what: "pinned messages in a conversation",
                    limit: MAX_PINS,
                });
            }
            let sql = if pin {
                "INSERT INTO conversation_pins (conversation_id, seq) VALUES (?1, ?2)"
            } else {
                "DELETE FROM conversation_pins WHERE conversation_id = ?1 AND seq = ?2"
            };
            tx.exec(sql, params![c, seq as i64]).map_err(backend)?;
            let after = pinned_seqs(&tx, &c)?;
            tx.commit().map_err(backend)?;
            Ok(after)
        })
        .await
    }
}

fn conversation_exists(conn: &Connection, conversation: &str) -> StoreResult<bool> {
    conn.query_row(
        "SELECT count(*) FROM conversations WHERE id = ?1",
        [conversation],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(backend)
}

fn pinned_seqs(conn: &Connection, conversation: &str) -> StoreResult<Vec<u64>> {
    let mut stmt = conn
        .prepare_cached("SELECT seq FROM conversation_pins WHERE conversation_id = ?1 ORDER BY seq")
        .map_err(backend)?;
    stmt.query_map([conversation], |r| r.get::<_, i64>(0).map(|s| s as u64))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(backend)
}

#[async_trait]
impl ReceiptStore for SqliteStore {
    async fn mark_read(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        seq: u64,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt> {
        let (c, u) = (conversation.to_string(), user.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            tx.exec(
                "INSERT INTO message_read_receipts (conversation_id, user_id, last_read_seq, read_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_read_seq = excluded.last_read_seq, read_at = excluded.read_at
                 WHERE excluded.last_read_seq > message_read_receipts.last_read_seq",
                params![c, u, seq as i64, at.to_rfc3339()],
            )
            .map_err(backend)?;
            let receipt = receipt_of(&tx, &c, &u)?;
            tx.commit().map_err(backend)?;
            Ok(receipt)
        })
        .await
    }

    async fn set_preferences(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        preferences: Preferences,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt> {
        let (c, u) = (conversation.to_string(), user.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let hidden = preferences.hidden_through.map(|s| s as i64);
            let notify = preferences.notify.map(|l| l.as_str());
            tx.exec(
                "INSERT INTO message_read_receipts (conversation_id, user_id, last_read_seq, read_at, muted, hidden_through, notify, email_off)
                 VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET muted = excluded.muted, hidden_through = excluded.hidden_through,
                     notify = excluded.notify, email_off = excluded.email_off",
                params![c, u, at.to_rfc3339(), preferences.muted, hidden, notify, preferences.email_off],
            )
            .map_err(backend)?;
            let receipt = receipt_of(&tx, &c, &u)?;
            tx.commit().map_err(backend)?;
            Ok(receipt)
        })
        .await
    }

    async fn list_receipts(&self, conversation: &ConversationId) -> StoreResult<Vec<ReadReceipt>> {
        let c = conversation.to_string();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {RECEIPT_COLUMNS} FROM message_read_receipts WHERE conversation_id = ?1"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map(params![c], receipt_from).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn receipts_of(&self, user: &UserId, conversations: &[ConversationId]) -> StoreResult<Vec<ReadReceipt>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let u = user.to_string();
        let ids: Vec<String> = conversations.iter().map(|c| c.to_string()).collect();
        self.with(move |conn| {
            let mut out = Vec::new();
            for chunk in ids.chunks(100) {
                let sql = format!(
                    "SELECT {RECEIPT_COLUMNS} FROM message_read_receipts
                     WHERE user_id = ? AND conversation_id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = conn.prepare(&sql).map_err(backend)?;
                let args = std::iter::once(&u).chain(chunk.iter());
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(args), receipt_from)
                    .map_err(backend)?;
                for row in rows {
                    out.push(row.map_err(backend)?);
                }
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl FileStore for SqliteStore {
    async fn create_files(&self, files: &[FileRecord]) -> StoreResult<()> {
        let files = files.to_vec();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            for f in &files {
                tx.exec(
                    &format!("INSERT INTO message_files ({FILE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                    params![
                        f.id.as_str(), f.conversation_id.as_str(), f.uploader_id.as_str(), f.name, f.size as i64,
                        f.content_type, f.object_key, f.status.as_str(), f.message_id.as_ref().map(|m| m.as_str()),
                        f.created_at.to_rfc3339(), f.expires_at.to_rfc3339(),
                    ],
                )
                .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists } else { backend(e) })?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn get_files(&self, ids: &[FileId]) -> StoreResult<Vec<FileRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        self.with(move |conn| {
            let sql = format!(
                "SELECT {FILE_COLUMNS} FROM message_files WHERE id IN ({})",
                placeholders(ids.len())
            );
            let mut stmt = conn.prepare(&sql).map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(ids.iter()), file_from)
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn notification_settings(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, NotificationSettings)>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        self.with(move |conn| {
            let mut out = Vec::new();
            for chunk in ids.chunks(100) {
                let sql = format!(
                    "SELECT user_id, data FROM user_notifications WHERE kind = 'settings' AND user_id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = conn.prepare(&sql).map_err(backend)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(chunk.iter()), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })
                    .map_err(backend)?;
                for row in rows {
                    let (user, data) = row.map_err(backend)?;
                    if let Ok(user) = UserId::parse(&user) {
                        out.push((user, NotificationSettings::from_json(&data)));
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn put_notification_settings(&self, user: &UserId, settings: &NotificationSettings) -> StoreResult<()> {
        let (u, data) = (user.to_string(), settings.to_json());
        self.with(move |conn| {
            conn.exec(
                "INSERT INTO user_notifications (user_id, kind, data, created_at) VALUES (?1, 'settings', ?2, ?3)
                 ON CONFLICT (user_id, kind) DO UPDATE SET data = excluded.data",
                params![u, data, Timestamp::now().to_rfc3339()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn put_push_subscription(&self, subscription: &PushSubscription) -> StoreResult<()> {
        let u = subscription.user_id.to_string();
        let kind = format!("push#{}", subscription.id);
        let data = to_json(subscription);
        let at = subscription.created_at.to_rfc3339();
        self.with(move |conn| {
            conn.exec(
                "INSERT INTO user_notifications (user_id, kind, data, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, kind) DO UPDATE SET data = excluded.data, created_at = excluded.created_at",
                params![u, kind, data, at],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn push_subscriptions(&self, user: &UserId) -> StoreResult<Vec<PushSubscription>> {
        let u = user.to_string();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT data FROM user_notifications WHERE user_id = ?1 AND kind LIKE 'push#%' ORDER BY created_at",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![u], |row| row.get::<_, String>(0))
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(json(&row.map_err(backend)?).map_err(backend)?);
            }
            Ok(out)
        })
        .await
    }

    async fn remove_push_subscription(&self, user: &UserId, id: &str) -> StoreResult<bool> {
        let (u, kind) = (user.to_string(), format!("push#{id}"));
        self.with(move |conn| {
            let n = conn
                .exec(
                    "DELETE FROM user_notifications WHERE user_id = ?1 AND kind = ?2",
                    params![u, kind],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn create_report(&self, r: &Report) -> StoreResult<()> {
        let r = r.clone();
        self.with(move |conn| {
            conn.exec(
                &format!("INSERT INTO message_reports ({REPORT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    r.id.as_str(), r.conversation_id.as_str(), r.message_id.as_str(), r.message_seq as i64,
                    r.reporter_id.as_str(), r.reason, r.status.as_str(), r.created_at.to_rfc3339(),
                    r.resolved_by.as_ref().map(|u| u.as_str()), r.resolved_at.map(|t| t.to_rfc3339()), r.resolution_note,
                ],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists } else { backend(e) })?;
            Ok(())
        })
        .await
    }

    async fn get_report(&self, id: &ReportId) -> StoreResult<Option<Report>> {
        let id = id.to_string();
        self.with(move |conn| {
            conn.row(
                &format!("SELECT {REPORT_COLUMNS} FROM message_reports WHERE id = ?1"),
                params![id],
                report_from,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list_reports(
        &self,
        status: Option<ReportStatus>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<Report>> {
        let after: Option<CreatedPosition> = match cursor {
            Some(c) => Some(c.decode().ok_or(StoreError::InvalidCursor)?),
            None => None,
        };
        self.with(move |conn| {
            let mut sql = format!("SELECT {REPORT_COLUMNS} FROM message_reports WHERE 1 = 1");
            let mut args: Vec<String> = Vec::new();
            if let Some(s) = status {
                sql.push_str(" AND status = ?");
                args.push(s.as_str().into());
            }
            if let Some(pos) = &after {
                sql.push_str(" AND (created_at, id) < (?, ?)");
                args.push(pos.created_at.clone());
                args.push(pos.id.clone());
            }
            sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {}", limit + 1));
            let mut stmt = conn.prepare(&sql).map_err(backend)?;
            let mut items: Vec<Report> = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), report_from)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|r| {
                    Cursor::encode(&CreatedPosition {
                        created_at: r.created_at.to_rfc3339(),
                        id: r.id.to_string(),
                    })
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn resolve_report(
        &self,
        id: &ReportId,
        status: ReportStatus,
        by: &UserId,
        at: Timestamp,
        note: Option<&str>,
    ) -> StoreResult<Report> {
        let (id, by, note) = (id.to_string(), by.to_string(), note.map(str::to_owned));
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let current = tx
                .row(&format!("SELECT {REPORT_COLUMNS} FROM message_reports WHERE id = ?1"), params![id], report_from)
                .optional()
                .map_err(backend)?
                .ok_or(StoreError::ReportNotFound)?;
            if current.status != ReportStatus::Open {
                return Err(StoreError::ReportAlreadyResolved);
            }
            tx.exec(
                "UPDATE message_reports SET status = ?1, resolved_by = ?2, resolved_at = ?3, resolution_note = ?4 WHERE id = ?5",
                params![status.as_str(), by, at.to_rfc3339(), note, id],
            )
            .map_err(backend)?;
            let report = tx
                .row(&format!("SELECT {REPORT_COLUMNS} FROM message_reports WHERE id = ?1"), params![id], report_from)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(report)
        })
        .await
    }
}

/// One member's receipt row, inside the transaction that just wrote it.
fn receipt_of(tx: &rusqlite::Transaction<'_>, conversation: &str, user: &str) -> StoreResult<ReadReceipt> {
    tx.query_row(
        &format!("SELECT {RECEIPT_COLUMNS} FROM message_read_receipts WHERE conversation_id = ?1 AND user_id = ?2"),
        params![conversation, user],
        receipt_from,
    )
    .map_err(backend)
}

fn add_missing_columns(conn: &Connection) -> StoreResult<()> {
    for (table, column, declaration) in ADDED_COLUMNS {
        let present: bool = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                params![column],
                |row| row.get::<_, i64>(0),
            )
            .map_err(backend)?
            > 0;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))
                .map_err(backend)?;
            tracing::info!(table, column, "column added to an older database");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database from before members' settings existed opens, gains the columns, and
    /// keeps its watermarks.
    #[tokio::test]
    async fn an_older_database_gains_the_settings_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE message_read_receipts (
                     conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
                     last_read_seq INTEGER NOT NULL, read_at TEXT NOT NULL,
                     PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO message_read_receipts VALUES (?1, 'u-old', 7, ?2)",
                params![ConversationId::generate().to_string(), Timestamp::now().to_rfc3339()],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let user = UserId::parse("u-old").unwrap();
        let conversation: String = store
            .with(|conn| {
                conn.query_row("SELECT conversation_id FROM message_read_receipts", [], |r| r.get(0))
                    .map_err(backend)
            })
            .await
            .unwrap();
        let id = ConversationId::parse(&conversation).unwrap();
        let old = store.receipts_of(&user, std::slice::from_ref(&id)).await.unwrap();
        assert_eq!((old[0].last_read_seq, old[0].preferences), (7, Preferences::default()));
        let muted = Preferences {
            muted: true,
            hidden_through: Some(7),
            notify: Some(messaging_core::notify::NotifyLevel::Mentions),
            email_off: true,
        };
        let r = store
            .set_preferences(&id, &user, muted, Timestamp::now())
            .await
            .unwrap();
        assert_eq!((r.last_read_seq, r.preferences), (7, muted));
        drop(store);
        let reopened = SqliteStore::open(&path).unwrap();
        let again = reopened.receipts_of(&user, &[id]).await.unwrap();
        assert_eq!(again[0].preferences, muted, "opening twice adds nothing twice");
    }
}
