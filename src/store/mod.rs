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
use std::sync::atomic::{AtomicBool, Ordering};
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
    Sql(#[source] rusqlite::Error),
    /// SQLite could not write because of the disk itself: full, turned read-only, or failing.
    /// Nothing of the failed transaction was kept (SQLite rolled it back).
    #[error("database {fault}: {source}")]
    Disk {
        fault: DiskFault,
        #[source]
        source: rusqlite::Error,
    },
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

/// What the disk did when a write failed (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR; an I/O
/// error on a filesystem the kernel turned read-only, or with no space left, is told as such by
/// [`Store::explain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFault {
    Full,
    ReadOnly,
    Io,
}

impl std::fmt::Display for DiskFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DiskFault::Full => "disk full",
            DiskFault::ReadOnly => "filesystem read-only",
            DiskFault::Io => "disk I/O error",
        })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let fault = match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => DiskFault::Full,
            Some(ErrorCode::ReadOnly) => DiskFault::ReadOnly,
            Some(ErrorCode::SystemIoFailure) => DiskFault::Io,
            _ => return StoreError::Sql(e),
        };
        StoreError::Disk { fault, source: e }
    }
}

/// Space on the filesystem that holds the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes an unprivileged writer can still use.
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub read_only: bool,
    /// The last write failed on a read-only or failing disk and the database has not been opened
    /// writable again since (a filesystem the kernel turned read-only after an error still says
    /// read-write to statvfs).
    pub write_failed: bool,
}

/// Below this much free space `/status` warns: 10 % of the filesystem, at most 100 MiB (a scan
/// needs a few KiB, an import a few MiB per thousand clients).
pub const LOW_SPACE_MAX: u64 = 100 * 1024 * 1024;

impl DiskSpace {
    /// Is space running out (see [`LOW_SPACE_MAX`])?
    pub fn low(&self) -> bool {
        self.free_bytes < (self.total_bytes / 10).min(LOW_SPACE_MAX)
    }
}

/// The space on the filesystem holding `path` (a file or folder); None when it cannot be read.
pub fn disk_space(path: &Path) -> Option<DiskSpace> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().filter(|d| !d.as_os_str().is_empty())?
    };
    let v = rustix::fs::statvfs(dir).ok()?;
    Some(DiskSpace {
        free_bytes: v.f_bavail.saturating_mul(v.f_frsize),
        total_bytes: v.f_blocks.saturating_mul(v.f_frsize),
        read_only: v.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY),
        write_failed: false,
    })
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
    /// Set after the disk turned read-only or failed under the connection: the next use opens the
    /// file again (a filesystem remounted, or repaired and mounted again, needs a new handle; a
    /// full disk does not).
    reopen: Arc<AtomicBool>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(open_connection(path)?)),
            reopen: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Write a small file beside the database to learn what the disk says now: a filesystem the
    /// kernel turned read-only after an error (ext4 `errors=remount-ro`) still shows as mounted
    /// read-write, but refuses new files with EROFS.
    fn probe_write(&self) -> Option<DiskFault> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty())?;
        let probe = dir.join(".scanstation-write-probe");
        let result = std::fs::write(&probe, b"probe");
        let _ = std::fs::remove_file(&probe);
        match result.err()?.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem => Some(DiskFault::ReadOnly),
            std::io::ErrorKind::StorageFull => Some(DiskFault::Full),
            _ => None,
        }
    }

    /// The space left where the database lives.
    pub fn disk_space(&self) -> Option<DiskSpace> {
        disk_space(&self.path).map(|d| DiskSpace {
            write_failed: self.reopen.load(Ordering::SeqCst),
            ..d
        })
    }

    /// Say what a failed write met: an I/O error on a filesystem that is now read-only is
    /// `ReadOnly`, one with no space left is `Full`. A read-only or failing disk also makes the
    /// next use of the store open the file again.
    pub fn explain(&self, fault: DiskFault) -> DiskFault {
        let fault = match (fault, self.disk_space()) {
            (DiskFault::Io, Some(s)) if s.read_only => DiskFault::ReadOnly,
            (DiskFault::Io, Some(s)) if s.free_bytes == 0 => DiskFault::Full,
            (DiskFault::Io, _) => self.probe_write().unwrap_or(DiskFault::Io),
            (f, _) => f,
        };
        if fault != DiskFault::Full {
            self.reopen.store(true, Ordering::SeqCst);
        }
        fault
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
        if self.reopen.load(Ordering::SeqCst) {
            // Still failing: keep the old handle (reads may work) and try again next time.
            match open_connection(&self.path) {
                // SQLite falls back to a read-only handle on a read-only filesystem: use it
                // (reads work) but try again until the file can be written.
                Ok(fresh) => {
                    // Opening an existing file read-write can succeed on a filesystem the kernel
                    // turned read-only: a new file beside it tells.
                    let writable = fresh.is_readonly(rusqlite::MAIN_DB).ok() == Some(false)
                        && self.probe_write().is_none();
                    *guard = fresh;
                    if writable {
                        self.reopen.store(false, Ordering::SeqCst);
                        log::info!(
                            "database {}: opened again after a disk fault",
                            self.path.display()
                        );
                    } else {
                        log::debug!("database {}: still read-only", self.path.display());
                    }
                }
                Err(e) => log::warn!(
                    "database {}: cannot open it again yet: {e}",
                    self.path.display()
                ),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn disk_errors_are_told_apart_from_other_sqlite_errors() {
        let fault = |code| match StoreError::from(sqlite(code)) {
            StoreError::Disk { fault, .. } => Some(fault),
            _ => None,
        };
        assert_eq!(fault(rusqlite::ffi::SQLITE_FULL), Some(DiskFault::Full));
        assert_eq!(
            fault(rusqlite::ffi::SQLITE_READONLY),
            Some(DiskFault::ReadOnly)
        );
        assert_eq!(
            fault(rusqlite::ffi::SQLITE_IOERR_WRITE),
            Some(DiskFault::Io)
        );
        assert_eq!(
            fault(rusqlite::ffi::SQLITE_IOERR_FSYNC),
            Some(DiskFault::Io)
        );
        assert_eq!(fault(rusqlite::ffi::SQLITE_CONSTRAINT), None);
        assert_eq!(fault(rusqlite::ffi::SQLITE_BUSY), None);
    }

    #[test]
    fn low_space_is_ten_percent_at_most_100_mib() {
        let space = |free, total| DiskSpace {
            free_bytes: free,
            total_bytes: total,
            read_only: false,
            write_failed: false,
        };
        assert!(space(1 << 20, 16 << 20).low());
        assert!(!space(2 << 20, 16 << 20).low());
        assert!(!space(200 << 20, 100 << 30).low());
        assert!(space(99 << 20, 100 << 30).low());
    }
}
