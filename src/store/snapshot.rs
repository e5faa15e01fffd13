//! The enrollment snapshot: the station's copy of the HMIS (projects, clients, enrollments, exits,
//! the HMIS's own services, recorded deletions and the last import's metadata) in a SQLite file of
//! its own beside the station's database, attached to every store connection **read-only** as
//! schema `hmis` (`migrations/snapshot/0001_hmis.sql`). Queries name the tables unqualified;
//! SQLite finds them there.
//!
//! Why a file of its own: scans write the main file (scan log, entries) and read the snapshot.
//! An import writes only the snapshot, through a connection of its own, so a scan never waits
//! for an import, and neither does the watchdog's ping:
//! - a **full refresh** builds a new generation (`station.db.hmis-000008`) aside: a copy of the
//!   live one (`VACUUM INTO`, a consistent copy however busy it is) or the empty schema, loaded
//!   with no journal (a crash only leaves a file nobody points at), flushed to disk, and then
//!   published by one small write to the main file's `meta` (`hmis_snapshot`), which names the
//!   live generation. Store connections see the change at their next call and re-attach (a
//!   detach and an attach: microseconds). Older generations are deleted.
//! - a **delta** is applied in place to the live generation in one WAL transaction: readers
//!   (attached read-only: their `BEGIN IMMEDIATE` takes only a read lock on it) keep reading the
//!   snapshot from before the commit, and see the new one after it. A crash rolls it back.
//!
//! A failed import changes nothing: a delta rolls back, a half-built generation is deleted. One
//! import runs at a time, across processes (an advisory lock on `station.db.import-lock`); a
//! generation left behind by a crash is deleted by the next import.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{StoreError, StoreResult};
use crate::fsmode::PRIVATE_FILE;

/// The schema name the snapshot is attached under.
pub const SCHEMA: &str = "hmis";
/// The main file's `meta` key naming the live generation (a file name beside the database).
const POINTER: &str = "hmis_snapshot";
const SNAPSHOT_SQL: &str = include_str!("../../migrations/snapshot/0001_hmis.sql");
/// `PRAGMA user_version` of a snapshot built from [`SNAPSHOT_SQL`].
const SNAPSHOT_VERSION: i64 = 1;
/// The tables a snapshot holds, in the order they are copied.
pub(crate) const TABLES: [&str; 7] = [
    "projects",
    "clients",
    "enrollments",
    "exits",
    "hmis_deleted",
    "hmis_services",
    "import_meta",
];

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `station.db` generation 7 → `station.db.hmis-000007`.
fn generation_path(db: &Path, generation: u64) -> PathBuf {
    sibling(db, &format!(".hmis-{generation:06}"))
}

/// The generation numbers of every snapshot file beside `db` (live, old or half-built).
fn generations(db: &Path) -> Vec<u64> {
    let prefix = format!("{}.hmis-", file_name(db));
    let dir = match db.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&prefix)?;
            // Only the database file itself, not its -wal / -shm.
            rest.parse::<u64>().ok()
        })
        .collect()
}

/// Delete a generation's file and its `-wal` / `-shm`.
fn remove_generation(path: &Path) {
    for p in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("cannot delete old enrollment snapshot {}: {e}", p.display()),
        }
    }
}

fn file_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Snapshot {
        path: path.to_path_buf(),
        source,
    }
}

/// A new empty file only the service user can read (SQLite then keeps its mode for `-wal`/`-shm`).
fn create_private_empty(path: &Path) -> StoreResult<()> {
    remove_generation(path);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE)
        .open(path)
        .map(drop)
        .map_err(|e| file_error(path, e))
}

/// Flush a finished file and its folder entry to disk.
fn sync_file_and_dir(path: &Path) -> StoreResult<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| file_error(dir, e))?;
    }
    Ok(())
}

/// A `file:` URI opening `path` read-only (`%`, `?` and `#` escaped).
fn read_only_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// The main database file of a connection.
pub fn main_path(conn: &Connection) -> StoreResult<PathBuf> {
    match conn.path() {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(StoreError::Migrate(
            "the enrollment snapshot needs a database on file, not in memory".into(),
        )),
    }
}

/// The live generation's file, as the main file's `meta` names it.
fn pointed(conn: &Connection, db: &Path) -> StoreResult<Option<PathBuf>> {
    let name: Option<String> = conn
        .prepare_cached("SELECT value FROM main.meta WHERE key = ?1")?
        .query_row([POINTER], |r| r.get(0))
        .optional()?;
    Ok(name.map(|n| db.with_file_name(n)))
}

/// The live snapshot file of the station whose main database is `db`.
pub fn live_path(db: &Path) -> StoreResult<PathBuf> {
    let main = open_main(db)?;
    pointed(&main, db)?.ok_or_else(|| {
        StoreError::Migrate(format!(
            "{} names no enrollment snapshot (run scanstation once to upgrade it)",
            db.display()
        ))
    })
}

/// Attach the live snapshot read-only as `hmis`, or re-attach when an import published a new
/// generation since. Cheap when nothing changed (two small reads); run before each use of a
/// long-lived connection.
pub fn ensure_current(conn: &Connection) -> StoreResult<()> {
    let db = main_path(conn)?;
    let Some(want) = pointed(conn, &db)? else {
        return Err(StoreError::Migrate(format!(
            "{} names no enrollment snapshot",
            db.display()
        )));
    };
    let have: Option<String> = conn
        .prepare_cached("SELECT file FROM pragma_database_list WHERE name = ?1")?
        .query_row([SCHEMA], |r| r.get(0))
        .optional()?;
    if let Some(have) = &have {
        if file_name(Path::new(have)) == file_name(&want) {
            return Ok(());
        }
    }
    if !want.exists() {
        // Keep what is attached rather than attach an empty file: the import that named it
        // flushed it first, so this is a damaged folder, reported on every call.
        return Err(file_error(
            &want,
            std::io::Error::new(std::io::ErrorKind::NotFound, "enrollment snapshot missing"),
        ));
    }
    if have.is_some() {
        conn.execute_batch(&format!("DETACH DATABASE {SCHEMA}"))?;
    }
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {SCHEMA}"),
        [read_only_uri(&want)],
    )?;
    Ok(())
}

/// A plain read-write connection (no snapshot attached, no migration) with the busy timeout.
fn open_plain(path: &Path) -> StoreResult<Connection> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(open_err)?;
    Ok(conn)
}

/// The main file, for the pointer.
fn open_main(db: &Path) -> StoreResult<Connection> {
    open_plain(db)
}

/// A snapshot generation, checked to be of the schema this scanstation reads.
fn open_snapshot(path: &Path) -> StoreResult<Connection> {
    let conn = open_plain(path)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != SNAPSHOT_VERSION {
        return Err(StoreError::Migrate(format!(
            "{}: enrollment snapshot schema {version}, this scanstation reads {SNAPSHOT_VERSION}",
            path.display()
        )));
    }
    Ok(conn)
}

/// Held while an import (or the move to a snapshot) runs: one at a time, across processes.
pub struct ImportLock {
    _file: std::fs::File,
}

impl ImportLock {
    /// Wait until no other import of this station runs.
    pub fn acquire(db: &Path) -> StoreResult<ImportLock> {
        let path = sibling(db, ".import-lock");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(PRIVATE_FILE)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        file.lock().map_err(|e| file_error(&path, e))?;
        Ok(ImportLock { _file: file })
    }
}

/// A connection on the live snapshot for a delta (WAL, `synchronous=FULL`): its transaction is
/// the import's; readers never wait for it.
pub fn open_live(db: &Path, _lock: &ImportLock) -> StoreResult<Connection> {
    let conn = open_snapshot(&live_path(db)?)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// A new generation being built by a full refresh; deleted unless [`Building::publish`] is called.
pub struct Building {
    conn: Option<Connection>,
    path: PathBuf,
    db: PathBuf,
}

impl Building {
    /// Start the next generation as a copy of the live one.
    pub fn start(db: &Path, _lock: &ImportLock) -> StoreResult<Building> {
        let live = live_path(db)?;
        let next = generations(db).into_iter().max().unwrap_or(0) + 1;
        let path = generation_path(db, next);
        create_private_empty(&path)?;
        let mut building = Building {
            conn: None,
            path: path.clone(),
            db: db.to_path_buf(),
        };
        {
            let src = Connection::open_with_flags(
                &live,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(|source| StoreError::Open {
                path: live.clone(),
                source,
            })?;
            src.execute("VACUUM INTO ?1", [path.to_string_lossy()])?;
        }
        let conn = open_snapshot(&path)?;
        // Nobody reads this file until it is published, and a crash only leaves it behind:
        // no journal, no flushes until the end.
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        building.conn = Some(conn);
        Ok(building)
    }

    pub fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("the connection lives until publish")
    }

    /// Flush the new generation to disk, name it live in the main file, delete older ones.
    pub fn publish(mut self) -> StoreResult<()> {
        let conn = self.conn.take().expect("publish is called once");
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.close().map_err(|(_, e)| StoreError::Sql(e))?;
        sync_file_and_dir(&self.path)?;
        set_pointer(&open_main(&self.db)?, &self.path)?;
        let live = self.path.clone();
        for g in generations(&self.db) {
            let p = generation_path(&self.db, g);
            if p != live {
                remove_generation(&p);
            }
        }
        // Published: nothing left to clean up.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        drop(self.conn.take());
        remove_generation(&self.path);
    }
}

fn set_pointer(main: &Connection, path: &Path) -> StoreResult<()> {
    main.execute(
        "INSERT INTO main.meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [POINTER, &file_name(path)],
    )?;
    Ok(())
}

/// A new generation file holding the empty schema, flushed to disk.
fn create_empty(path: &Path) -> StoreResult<Connection> {
    create_private_empty(path)?;
    let snap = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    snap.execute_batch(SNAPSHOT_SQL)
        .map_err(|e| StoreError::Migrate(format!("snapshot schema: {e}")))?;
    snap.pragma_update(None, "user_version", SNAPSHOT_VERSION)?;
    snap.pragma_update(None, "journal_mode", "WAL")?;
    Ok(snap)
}

/// At start: when the main file names no snapshot, or one that is not there (a main file
/// restored from a backup without it), start an empty one and say so. The enrollment data is a
/// copy of the HMIS: the next import or pull brings it back.
pub fn repair_missing(conn: &Connection) -> StoreResult<()> {
    let db = main_path(conn)?;
    if pointed(conn, &db)?.is_some_and(|p| p.exists()) {
        return Ok(());
    }
    let _lock = ImportLock::acquire(&db)?;
    if pointed(conn, &db)?.is_some_and(|p| p.exists()) {
        return Ok(());
    }
    let next = generations(&db).into_iter().max().unwrap_or(0) + 1;
    let path = generation_path(&db, next);
    create_empty(&path)?
        .close()
        .map_err(|(_, e)| StoreError::Sql(e))?;
    sync_file_and_dir(&path)?;
    set_pointer(conn, &path)?;
    log::warn!(
        "enrollment data missing beside {} (a restored backup?): started empty; import an \
         export or wait for the next pull",
        db.display()
    );
    Ok(())
}

/// Schema step 3: move the enrollment tables out of the main file into the first snapshot
/// generation (an older station keeps its data), then drop them from the main file. The copy is
/// flushed before the main file names it; a crash in between leaves a stray generation, deleted
/// when the step runs again.
pub(super) fn move_out_of_main(
    conn: &mut Connection,
    import_keys: &[&str],
    version: i64,
) -> StoreResult<()> {
    let db = main_path(conn)?;
    let _lock = ImportLock::acquire(&db)?;
    let now: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if now >= version {
        // Another process did it while this one waited for the lock.
        return Ok(());
    }
    for g in generations(&db) {
        remove_generation(&generation_path(&db, g));
    }
    let path = generation_path(&db, 1);
    {
        let mut snap = create_empty(&path)?;
        snap.execute("ATTACH DATABASE ?1 AS old", [read_only_uri(&db)])?;
        let tx = snap.transaction()?;
        for table in TABLES.iter().filter(|t| **t != "import_meta") {
            let cols: Vec<String> = tx
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let cols = cols.join(", ");
            tx.execute_batch(&format!(
                "INSERT INTO main.{table} ({cols}) SELECT {cols} FROM old.{table}"
            ))?;
        }
        let mut st = tx.prepare(
            "INSERT INTO main.import_meta (key, value) SELECT key, value FROM old.meta
              WHERE key = ?1",
        )?;
        for key in import_keys {
            st.execute([key])?;
        }
        drop(st);
        tx.commit()?;
        snap.execute_batch("DETACH DATABASE old")?;
        snap.close().map_err(|(_, e)| StoreError::Sql(e))?;
    }
    sync_file_and_dir(&path)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for table in TABLES.iter().filter(|t| **t != "import_meta") {
        tx.execute_batch(&format!("DROP TABLE main.{table}"))?;
    }
    {
        let mut st = tx.prepare("DELETE FROM main.meta WHERE key = ?1")?;
        for key in import_keys {
            st.execute([key])?;
        }
    }
    set_pointer(&tx, &path)?;
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_what_sqlite_would_read_as_query_or_fragment() {
        assert_eq!(
            read_only_uri(Path::new("/var/lib/a?b#c%d.db")),
            "file:/var/lib/a%3fb%23c%25d.db?mode=ro"
        );
    }

    #[test]
    fn generations_are_found_beside_the_database_but_not_their_journals() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.db");
        for name in [
            "station.db.hmis-000002",
            "station.db.hmis-000002-wal",
            "station.db.hmis-000010",
            "other.db.hmis-000003",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let mut g = generations(&db);
        g.sort();
        assert_eq!(g, vec![2, 10]);
        assert_eq!(
            generation_path(&db, 11),
            dir.path().join("station.db.hmis-000011")
        );
    }
}
