//! [`SearchIndex`] on SQLite FTS5: one index file with one writer and any number of
//! readers. The local gateway keeps it beside its database; in AWS it is the same file
//! on EFS, written by one function fed from the messages table's stream (see
//! `docs/search.md` for the choice and its measurements).
//!
//! Layout: `docs` holds what a query filters on (conversation, sender, attachments) and
//! `docs_text` (FTS5) the words of the body and the attachment names. Both share one
//! integer key, `sent-at in ms × 1000 + n`, so "newest first" is key order, date ranges
//! are key ranges, and FTS5 walks its postings backwards and stops after one page.
//! Deletes use FTS5's `secure-delete`: a removed message's words leave the index itself,
//! not only its results.

pub mod corpus;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use messaging_core::error::{StoreError, StoreResult};
use messaging_core::ids::{ConversationId, MessageId};
use messaging_core::ports::SearchIndex;
use messaging_core::search::{
    IndexChange, IndexHit, IndexPage, IndexQuery, PREFIX_MIN_CHARS, Scope, SearchDocument, SearchOrder, Term,
    snippet_parts,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS docs (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    sender_id        TEXT NOT NULL,
    has_files        INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_text USING fts5(
    body, files,
    tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'",
    prefix = '3'
);
"#;

/// Where a match starts and ends in a snippet (control characters: never in a body).
const OPEN: char = '\u{2}';
const CLOSE: char = '\u{3}';
/// Words of context in a snippet.
const SNIPPET_TOKENS: u32 = 24;
/// Ids per millisecond: more messages than this in one millisecond get later ids.
const PER_MS: i64 = 1000;

/// The FTS5 index. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct FtsIndex {
    inner: Arc<Connections>,
}

struct Connections {
    /// `None` in a process that only searches a file another process writes.
    writer: Option<Mutex<Connection>>,
    /// Read-only connections for searches (WAL: they never wait for the writer). Empty
    /// where searches go through the writer (in memory, the stream-fed writer on EFS).
    readers: Vec<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("search index: {e}"))
}

fn locked(m: &Mutex<Connection>) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
    m.lock().map_err(|_| backend("mutex poisoned"))
}

impl FtsIndex {
    /// Opens (creating if needed) the index file on a local disk, with `readers`
    /// connections for searches. WAL: searches never wait for the writer, and the writer
    /// syncs at checkpoints (the store is the record; a lost change is rebuilt from it).
    pub fn open(path: &Path, readers: usize) -> StoreResult<Self> {
        let writer = create(path)?;
        writer.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        writer.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
        init(&writer)?;
        let readers = (0..readers.max(1))
            .map(|_| read_only(path).map(Mutex::new))
            .collect::<StoreResult<_>>()?;
        Ok(Self::with(Some(writer), readers))
    }

    /// Opens (creating if needed) the index file as the one writer on a network file
    /// system that other machines read (EFS in AWS). WAL's shared memory index works only
    /// between processes of one machine, so this uses a rollback journal, truncated rather
    /// than deleted after each commit (fewer metadata round trips over NFS), and syncs
    /// every commit. Searches go through the writer.
    pub fn open_shared_writer(path: &Path) -> StoreResult<Self> {
        let writer = create(path)?;
        writer
            .pragma_update(None, "journal_mode", "TRUNCATE")
            .map_err(backend)?;
        writer.pragma_update(None, "synchronous", "FULL").map_err(backend)?;
        init(&writer)?;
        Ok(Self::with(Some(writer), Vec::new()))
    }

    /// Opens an index file that another process writes ([`FtsIndex::open_shared_writer`]),
    /// for searches only: [`SearchIndex::apply`] is refused. Fails if the file does not
    /// exist yet (nothing has been indexed).
    pub fn open_read_only(path: &Path, readers: usize) -> StoreResult<Self> {
        let readers = (0..readers.max(1))
            .map(|_| read_only(path).map(Mutex::new))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self::with(None, readers))
    }

    /// A private in-memory index (service-level tests).
    pub fn in_memory() -> StoreResult<Self> {
        let writer = Connection::open_in_memory().map_err(backend)?;
        init(&writer)?;
        Ok(Self::with(Some(writer), Vec::new()))
    }

    fn with(writer: Option<Connection>, readers: Vec<Mutex<Connection>>) -> Self {
        Self {
            inner: Arc::new(Connections {
                writer: writer.map(Mutex::new),
                readers,
            }),
        }
    }

    fn writer(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        match &self.inner.writer {
            Some(w) => locked(w),
            None => Err(backend("this process only reads the index; its writer applies changes")),
        }
    }

    /// A free reader, else the first one (or the writer) once it is free.
    fn reader(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        let c = &self.inner;
        if let Some(g) = c.readers.iter().find_map(|r| r.try_lock().ok()) {
            return Ok(g);
        }
        match (c.readers.first(), &c.writer) {
            (Some(r), _) | (None, Some(r)) => locked(r),
            (None, None) => Err(backend("no connection")),
        }
    }

    /// How many messages the index holds.
    pub fn len(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        conn.query_row("SELECT count(*) FROM docs", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(backend)
    }

    pub fn is_empty(&self) -> StoreResult<bool> {
        Ok(self.len()? == 0)
    }

    /// Merges the index's segments into one (smaller, faster to search); the benchmark
    /// and a quiet hour's maintenance run it.
    pub fn optimize(&self) -> StoreResult<()> {
        let conn = self.writer()?;
        conn.execute("INSERT INTO docs_text(docs_text) VALUES ('optimize')", [])
            .map_err(backend)?;
        Ok(())
    }

    fn apply_now(&self, changes: &[IndexChange]) -> StoreResult<()> {
        let mut conn = self.writer()?;
        let tx = conn.transaction().map_err(backend)?;
        for change in changes {
            match change {
                IndexChange::Upsert(doc) => upsert(&tx, doc)?,
                IndexChange::Remove(id) => remove(&tx, id)?,
            }
        }
        tx.commit().map_err(backend)
    }

    fn search_now(&self, query: &IndexQuery) -> StoreResult<IndexPage> {
        run_query(&*self.reader()?, query)
    }
}

/// The writer's connection, the folder made if needed.
fn create(path: &Path) -> StoreResult<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(backend)?;
    }
    Connection::open(path).map_err(backend)
}

/// A search connection. It waits up to 5 s for a lock (a rollback journal's commit).
fn read_only(path: &Path) -> StoreResult<Connection> {
    let c = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backend)?;
    c.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
    c.set_prepared_statement_cache_capacity(32);
    Ok(c)
}

fn init(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(32);
    conn.execute_batch(SCHEMA).map_err(backend)?;
    // Persistent option of the FTS5 table: deletes remove the words from the index.
    conn.execute("INSERT INTO docs_text(docs_text, rank) VALUES ('secure-delete', 1)", [])
        .map_err(backend)?;
    Ok(())
}

fn upsert(tx: &rusqlite::Transaction<'_>, doc: &SearchDocument) -> StoreResult<()> {
    let files = doc.file_names.join("\n");
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM docs WHERE message_id = ?1")
        .and_then(|mut s| s.query_row([doc.message_id.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    let id = match existing {
        Some(id) => {
            // An edit: the attachments may have changed, the rest of the row cannot.
            tx.prepare_cached("UPDATE docs SET has_files = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id, !doc.file_names.is_empty()]))
                .map_err(backend)?;
            tx.prepare_cached("DELETE FROM docs_text WHERE rowid = ?1")
                .and_then(|mut s| s.execute([id]))
                .map_err(backend)?;
            id
        }
        None => {
            let base = doc.created_at.as_millis().max(0) * PER_MS;
            let id: i64 = tx
                .prepare_cached("SELECT coalesce(max(id) + 1, ?1) FROM docs WHERE id >= ?1 AND id < ?1 + ?2")
                .and_then(|mut s| s.query_row(params![base, PER_MS], |r| r.get(0)))
                .map_err(backend)?;
            tx.prepare_cached(
                "INSERT INTO docs (id, message_id, conversation_id, seq, sender_id, has_files)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    doc.message_id.as_str(),
                    doc.conversation_id.as_str(),
                    doc.seq as i64,
                    doc.sender_id.as_str(),
                    !doc.file_names.is_empty()
                ])
            })
            .map_err(backend)?;
            id
        }
    };
    tx.prepare_cached("INSERT INTO docs_text (rowid, body, files) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![id, doc.body, files]))
        .map_err(backend)?;
    Ok(())
}

fn remove(tx: &rusqlite::Transaction<'_>, message: &MessageId) -> StoreResult<()> {
    let existing: Option<i64> = tx
        .prepare_cached("DELETE FROM docs WHERE message_id = ?1 RETURNING id")
        .and_then(|mut s| s.query_row([message.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    if let Some(id) = existing {
        tx.prepare_cached("DELETE FROM docs_text WHERE rowid = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(backend)?;
    }
    Ok(())
}

/// The FTS5 query for `terms`: each a quoted string (so nothing in it is syntax), words
/// long enough as prefixes, all required.
pub fn match_expression(terms: &[Term]) -> String {
    let quoted = |words: &str| format!("\"{}\"", words.replace('"', "\"\""));
    terms
        .iter()
        .map(|t| match t {
            Term::Word(w) if w.chars().count() >= PREFIX_MIN_CHARS => format!("{}*", quoted(w)),
            Term::Word(w) => quoted(w),
            Term::Phrase(words) => quoted(&words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn run_query(conn: &Connection, q: &IndexQuery) -> StoreResult<IndexPage> {
    let mut sql = format!(
        "SELECT d.message_id, d.conversation_id, d.seq, d.id,
                snippet(docs_text, -1, char({}), char({}), '…', {SNIPPET_TOKENS})
         FROM docs_text JOIN docs d ON d.id = docs_text.rowid
         WHERE docs_text MATCH ?1",
        OPEN as u32, CLOSE as u32
    );
    let mut args: Vec<Value> = vec![Value::Text(match_expression(q.text.terms()))];
    let mut arg = |sql: &mut String, clause: &str, value: Value| {
        args.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Scope::Only(conversations) = &q.scope {
        let ids: Vec<&str> = conversations.iter().map(ConversationId::as_str).collect();
        let json = serde_json::to_string(&ids).map_err(backend)?;
        arg(
            &mut sql,
            " AND d.conversation_id IN (SELECT value FROM json_each(?))",
            Value::Text(json),
        );
    }
    if let Some(sender) = &q.sender {
        arg(&mut sql, " AND d.sender_id = ?", Value::Text(sender.to_string()));
    }
    if let Some(from) = q.from {
        arg(
            &mut sql,
            " AND docs_text.rowid >= ?",
            Value::Integer(from.as_millis() * PER_MS),
        );
    }
    if let Some(to) = q.to {
        arg(
            &mut sql,
            " AND docs_text.rowid < ?",
            Value::Integer(to.as_millis() * PER_MS),
        );
    }
    if let Some(has_files) = q.has_files {
        arg(&mut sql, " AND d.has_files = ?", Value::Integer(has_files.into()));
    }
    // One more row than asked tells whether another page follows.
    let fetch = q.limit as i64 + 1;
    let offset = match q.order {
        SearchOrder::Newest => {
            if let Some(before) = q.after {
                arg(&mut sql, " AND docs_text.rowid < ?", Value::Integer(before));
            }
            arg(
                &mut sql,
                " ORDER BY docs_text.rowid DESC LIMIT ?",
                Value::Integer(fetch),
            );
            0
        }
        SearchOrder::Relevance => {
            let offset = q.after.unwrap_or(0);
            arg(
                &mut sql,
                " ORDER BY rank, docs_text.rowid DESC LIMIT ?",
                Value::Integer(fetch),
            );
            arg(&mut sql, " OFFSET ?", Value::Integer(offset));
            offset
        }
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(backend)?;
    let mut hits = Vec::with_capacity(q.limit + 1);
    let mut keys = Vec::with_capacity(q.limit + 1);
    for row in rows {
        let (message, conversation, seq, key, snippet) = row.map_err(backend)?;
        keys.push(key);
        hits.push(IndexHit {
            message_id: MessageId::parse(&message).map_err(backend)?,
            conversation_id: ConversationId::parse(&conversation).map_err(backend)?,
            seq: seq as u64,
            snippet: snippet_parts(&snippet, OPEN, CLOSE),
        });
    }
    let more = hits.len() > q.limit;
    hits.truncate(q.limit);
    let next = more.then(|| match q.order {
        SearchOrder::Newest => keys[q.limit - 1],
        SearchOrder::Relevance => offset + q.limit as i64,
    });
    Ok(IndexPage { hits, next })
}

#[async_trait]
impl SearchIndex for FtsIndex {
    async fn apply(&self, changes: &[IndexChange]) -> StoreResult<()> {
        // Off the async workers: a commit is microseconds, but the WAL checkpoint SQLite
        // runs inside the commit that fills the log waits on the disk, and on the calling
        // task it held up every delivery behind it (`loadgen suite --quick`, 2,000
        // connections × 1,000 msg/s: p99 1.3 ms before search, 22-160 ms with the index
        // written inline).
        let (index, changes) = (self.clone(), changes.to_vec());
        tokio::task::spawn_blocking(move || index.apply_now(&changes))
            .await
            .map_err(backend)?
    }

    async fn search(&self, query: &IndexQuery) -> StoreResult<IndexPage> {
        // A broad query over a large index takes milliseconds: off the async workers.
        let (index, query) = (self.clone(), query.clone());
        tokio::task::spawn_blocking(move || index.search_now(&query))
            .await
            .map_err(backend)?
    }
}
