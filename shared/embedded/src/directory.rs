//! The local user directory: the people of `make dev` (the demo users, anyone created
//! through the gateway's dev admin route or a seed file), in an SQLite file beside the
//! message store, so they survive restarts with the rest of the local data.
//!
//! What Cognito is in AWS: the [`UserDirectory`] conformance suite runs against both.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use messaging_core::directory::Profile;
use messaging_core::error::{DirectoryError, DirectoryResult};
use messaging_core::identity::Role;
use messaging_core::ids::UserId;
use messaging_core::ports::UserDirectory;
use messaging_core::text::DisplayName;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    user_id      TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT,
    role         TEXT NOT NULL,
    organisation TEXT,
    colour       TEXT,
    active       INTEGER NOT NULL DEFAULT 1
);
";

const COLUMNS: &str = "user_id, name, email, role, organisation, colour, active";

fn backend(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Backend(e.to_string())
}

/// SQLite-backed [`UserDirectory`].
#[derive(Clone)]
pub struct LocalDirectory {
    conn: Arc<Mutex<Connection>>,
}

impl LocalDirectory {
    /// Opens (creating if needed) the directory file.
    pub fn open(path: &Path) -> DirectoryResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        Self::init(Connection::open(path).map_err(backend)?)
    }

    /// A private in-memory directory (tests).
    pub fn in_memory() -> DirectoryResult<Self> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> DirectoryResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> DirectoryResult<T> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| DirectoryError::Backend("directory mutex poisoned".into()))?;
        f(&conn).map_err(backend)
    }

    /// Creates or replaces a person (the gateway's seed and its dev admin route; in AWS,
    /// people are created in Cognito).
    pub fn upsert(&self, p: &Profile) -> DirectoryResult<()> {
        self.insert(p, "INSERT OR REPLACE").map(|_| ())
    }

    /// Adds `p` unless someone with that id exists (seeding never undoes a change).
    pub fn insert_missing(&self, p: &Profile) -> DirectoryResult<bool> {
        self.insert(p, "INSERT OR IGNORE").map(|n| n == 1)
    }

    fn insert(&self, p: &Profile, verb: &str) -> DirectoryResult<usize> {
        self.with(|c| {
            c.execute(
                &format!("{verb} INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    p.user_id.as_str(),
                    p.name,
                    p.email,
                    p.role.as_str(),
                    p.organisation,
                    p.colour,
                    p.active
                ],
            )
        })
    }

    fn get(&self, id: &UserId) -> DirectoryResult<Option<Profile>> {
        let row = self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM users WHERE user_id = ?1"),
                [id.as_str()],
                raw_profile,
            )
            .optional()
        })?;
        row.map(RawProfile::parse).transpose()
    }
}

/// A row as stored, checked when read (a hand-edited file must not panic the gateway).
struct RawProfile {
    user_id: String,
    name: String,
    email: Option<String>,
    role: String,
    organisation: Option<String>,
    colour: Option<String>,
    active: bool,
}

fn raw_profile(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawProfile> {
    Ok(RawProfile {
        user_id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        role: row.get(3)?,
        organisation: row.get(4)?,
        colour: row.get(5)?,
        active: row.get(6)?,
    })
}

impl RawProfile {
    fn parse(self) -> DirectoryResult<Profile> {
        Ok(Profile {
            user_id: UserId::parse(&self.user_id).map_err(backend)?,
            name: self.name,
            email: self.email,
            role: Role::parse(&self.role).map_err(backend)?,
            organisation: self.organisation,
            colour: self.colour,
            active: self.active,
        })
    }
}

#[async_trait]
impl UserDirectory for LocalDirectory {
    async fn profiles(&self, ids: &[UserId]) -> DirectoryResult<Vec<Profile>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(p) = self.get(id)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    async fn all_profiles(&self) -> DirectoryResult<Vec<Profile>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM users"))?;
            stmt.query_map([], raw_profile)?.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(RawProfile::parse).collect()
    }

    async fn set_active(&self, id: &UserId, active: bool) -> DirectoryResult<Option<Profile>> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET active = ?1 WHERE user_id = ?2",
                params![active, id.as_str()],
            )
        })?;
        self.get(id)
    }

    async fn set_name(&self, id: &UserId, name: &DisplayName) -> DirectoryResult<Option<Profile>> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET name = ?1 WHERE user_id = ?2",
                params![name.as_str(), id.as_str()],
            )
        })?;
        self.get(id)
    }
}
