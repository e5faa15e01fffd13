//! Schema migrations from `migrations/`, tracked with `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Every migration, in order; the schema version is the number applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_real_exports",
        include_str!("../../migrations/0002_real_exports.sql"),
    ),
];

/// The schema version after every step: the SQL files, then the move of the enrollment tables
/// into their snapshot file ([`super::snapshot`]).
pub const VERSION: usize = MIGRATIONS.len() + 1;

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if version > VERSION {
        return Err(StoreError::Migrate(format!(
            "the database is at schema version {version}, newer than this scanstation knows \
             ({VERSION}); upgrade scanstation"
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Migrate(format!("{name}: {e}")))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    if version < VERSION {
        super::snapshot::move_out_of_main(conn, super::hmis::IMPORT_KEYS)
            .map_err(|e| StoreError::Migrate(format!("0003 enrollment snapshot: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_scan_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = crate::store::open_connection(&path).unwrap();
        drop(conn);
        let conn = crate::store::open_connection(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        conn.execute(
            "INSERT INTO scan_log (scanned_at, lane, source, raw) VALUES ('t', 'main', 'api', 'x')",
            [],
        )
        .unwrap();
        assert!(conn.execute("UPDATE scan_log SET raw = 'y'", []).is_err());
        assert!(conn.execute("DELETE FROM scan_log", []).is_err());
    }
}
