//! The six tables and their indexes, with the same keys as the DynamoDB tables
//! (`messaging_aws::dynamodb::schema`).

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS conversations (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    title_lc      TEXT NOT NULL,
    project_id    TEXT,
    status        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_seq      INTEGER NOT NULL DEFAULT 0,
    last_message  TEXT
);
CREATE INDEX IF NOT EXISTS conversations_by_created ON conversations (created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS messages (
    conversation_id    TEXT NOT NULL,
    seq                INTEGER NOT NULL,
    id                 TEXT NOT NULL UNIQUE,
    sender_id          TEXT NOT NULL,
    sender_name        TEXT NOT NULL,
    body               TEXT,
    client_message_id  TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    edited_at          TEXT,
    edit_count         INTEGER NOT NULL DEFAULT 0,
    deleted_at         TEXT,
    deleted_by         TEXT,
    files              TEXT NOT NULL DEFAULT '[]',
    revisions          TEXT NOT NULL DEFAULT '[]',
    mentions           TEXT NOT NULL DEFAULT '[]',
    reactions          TEXT NOT NULL DEFAULT '[]',
    reply_to           INTEGER,
    thread_root        INTEGER,
    reply_count        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_message_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS conversation_participants (
    conversation_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    role             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    joined_at        TEXT NOT NULL,
    added_by         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS participants_by_user ON conversation_participants (user_id, conversation_id);

CREATE TABLE IF NOT EXISTS message_files (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL,
    uploader_id      TEXT NOT NULL,
    name             TEXT NOT NULL,
    size             INTEGER NOT NULL,
    content_type     TEXT NOT NULL,
    object_key       TEXT NOT NULL,
    status           TEXT NOT NULL,
    message_id       TEXT,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL
);

-- A conversation's pinned messages (DynamoDB: the number set `pinned_seqs` on the
-- conversation's item).
CREATE TABLE IF NOT EXISTS conversation_pins (
    conversation_id  TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS message_read_receipts (
    conversation_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    last_read_seq    INTEGER NOT NULL,
    read_at          TEXT NOT NULL,
    muted            INTEGER NOT NULL DEFAULT 0,
    hidden_through   INTEGER,
    notify           TEXT,
    email_off        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS message_reports (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    message_seq      INTEGER NOT NULL,
    reporter_id      TEXT NOT NULL,
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    resolved_by      TEXT,
    resolved_at      TEXT,
    resolution_note  TEXT,
    UNIQUE (message_id, reporter_id)
);
CREATE INDEX IF NOT EXISTS reports_by_status ON message_reports (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS reports_by_created ON message_reports (created_at DESC, id DESC);

-- Notification settings (kind 'settings') and push subscriptions (kind 'push#<id>') per
-- user, as the DynamoDB `user_notifications` table keys them.
CREATE TABLE IF NOT EXISTS user_notifications (
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;
"#;

/// Columns added after the first release, for databases created before them
/// (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it was).
pub(super) const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("message_read_receipts", "muted", "INTEGER NOT NULL DEFAULT 0"),
    ("message_read_receipts", "hidden_through", "INTEGER"),
    ("message_read_receipts", "notify", "TEXT"),
    ("message_read_receipts", "email_off", "INTEGER NOT NULL DEFAULT 0"),
    ("messages", "mentions", "TEXT NOT NULL DEFAULT '[]'"),
    ("messages", "reactions", "TEXT NOT NULL DEFAULT '[]'"),
    ("messages", "reply_to", "INTEGER"),
    ("messages", "thread_root", "INTEGER"),
    ("messages", "reply_count", "INTEGER NOT NULL DEFAULT 0"),
];

/// Indexes on added columns: created once the columns are there (an older database
/// gets them from [`ADDED_COLUMNS`] first).
pub(super) const LATER_INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (conversation_id, thread_root, seq)
    WHERE thread_root IS NOT NULL;
"#;
