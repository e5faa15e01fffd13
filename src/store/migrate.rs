//! Schema migrations from `migrations/`, tracked with `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// One step of the schema: a SQL file, or the move of the enrollment tables into their own file.
enum Step {
    Sql(&'static str, &'static str),
    /// Schema 3: [`super::snapshot`].
    SnapshotFile,
}

/// Every step, in order; the schema version is the number applied.
const STEPS: &[Step] = &[
    Step::Sql("0001_init", include_str!("../../migrations/0001_init.sql")),
    Step::Sql(
        "0002_real_exports",
        include_str!("../../migrations/0002_real_exports.sql"),
    ),
    Step::SnapshotFile,
    Step::Sql(
        "0004_served_index",
        include_str!("../../migrations/0004_served_index.sql"),
    ),
];

/// The schema version after every step.
pub const VERSION: usize = STEPS.len();

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version = |conn: &Connection| -> Result<usize, StoreError> {
        Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
    };
    let found = version(conn)?;
    if found > VERSION {
        return Err(StoreError::Migrate(format!(
            "the database is at schema version {found}, newer than this scanstation knows \
             ({VERSION}); upgrade scanstation"
        )));
    }
    for (i, step) in STEPS.iter().enumerate() {
        // Read again each time: another process may have moved it on meanwhile.
        if version(conn)? > i {
            continue;
        }
        match step {
            Step::Sql(name, sql) => {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if now as usize > i {
                    continue;
                }
                tx.execute_batch(sql)
                    .map_err(|e| StoreError::Migrate(format!("{name}: {e}")))?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
                tx.commit()?;
            }
            Step::SnapshotFile => {
                super::snapshot::move_out_of_main(conn, super::hmis::IMPORT_KEYS, (i + 1) as i64)
                    .map_err(|e| StoreError::Migrate(format!("0003 enrollment snapshot: {e}")))?;
            }
        }
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
