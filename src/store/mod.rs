//! The one SQLite file: enrollment data, batches, the scan log, services and the outbox.
//!
//! The store owns every table and nothing else: each function runs its SQL (one transaction for
//! anything that writes), asks the pure rules in [`crate::domain`] where a verdict is needed, and
//! returns plain row structs or a [`StoreError`] that says *what* happened (not found, refused by a
//! rule, a stored value that cannot be read, SQLite). What that means for a person is decided above
//! (the application layer, then the edges).
//!
//! The enrollment data (HMIS tables) lives in a snapshot file of its own, attached read-only
//! ([`snapshot`]): imports write it through their own connection, so scans never wait for them.
//!
//! WAL with `synchronous=FULL`: a committed scan survives power loss. A busy timeout lets a second
//! process (`scanstation import` while `serve` runs) write safely; SQLite serialises the writers.

pub mod batches;
pub mod clients;
pub mod hmis;
pub mod meta;
mod migrate;
pub mod outbox;
pub mod projects;
pub mod services;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

pub use migrate::migrate;

/// Now as stored in the database: RFC 3339 UTC with milliseconds.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema: {0}")]
    Migrate(String),
    #[error("cannot create folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database worker stopped")]
    Gone,
    /// No row with this id (`what`: "batch", "entry", "unassigned scan", "delivery", "project").
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A batch rule refused the change inside the transaction (posted batch, nothing to post).
    #[error(transparent)]
    Refused(#[from] crate::domain::rules::BatchRefusal),
    /// The batch's service date is no longer allowed (checked inside the post's transaction).
    #[error(transparent)]
    DateRefused(#[from] crate::domain::rules::DateRefusal),
    /// The enrollment snapshot's file (or its folder) cannot be created, flushed or locked.
    #[error("enrollment snapshot {path}: {source}")]
    Snapshot {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A stored value that does not parse: never read as a default, always reported.
    #[error("stored {column} {value:?} cannot be read")]
    BadValue { column: &'static str, value: String },
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Open a connection with the station's settings and bring the schema up to date.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    crate::fsmode::prepare_database(path)
        .map_err(|(path, source)| StoreError::Folder { path, source })?;
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
    }
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(open_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(open_err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    migrate(&mut conn)?;
    snapshot::repair_missing(&conn)?;
    snapshot::ensure_current(&conn)?;
    Ok(conn)
}

/// A cheap read through the connection: does the store answer? (The watchdog asks.)
pub fn ping(conn: &mut Connection) -> StoreResult<()> {
    conn.prepare_cached("SELECT count(*) FROM lanes")?
        .query_row([], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// The daemon's handle on the database: one connection, used from blocking threads.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(open_connection(path)?)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the connection, on the current thread (CLI commands, tests, blocking code).
    pub fn with<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back.
        let mut guard = match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // An import (maybe in another process) may have published a new enrollment snapshot.
        // If it cannot be attached, the old one stays in use and the reason is logged.
        if let Err(e) = snapshot::ensure_current(&guard) {
            log::error!("enrollment snapshot: {e}");
        }
        f(&mut guard)
    }

    /// Run `f` on the connection from async code, on a blocking thread.
    pub async fn call<R, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || store.with(f)).await {
            Ok(r) => r,
            Err(_) => Err(E::from(StoreError::Gone)),
        }
    }
}
