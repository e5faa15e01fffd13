//! The station's copy of the HMIS: projects, clients, enrollments, exits, the services the HMIS
//! already recorded (`hmis_services`), the records it deleted (`hmis_deleted`) and the import
//! metadata (`meta`). See `migrations/0001_init.sql` and `0002_real_exports.sql`.
//!
//! [`ImportTx`] is the writer an import drives row by row, inside one `BEGIN IMMEDIATE`
//! transaction: the import (`crate::import`) parses, validates and decides; this module only asks
//! and writes. Dropped without [`ImportTx::finish`], it rolls back: a refused import changes
//! nothing.
//!
//! Every record keeps the day of its DateUpdated; a deleted record leaves a key-only row in
//! `hmis_deleted` with the day it was deleted, so that an older copy sent again cannot bring it
//! back while a same-day-or-newer one restores it.

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use super::StoreError;

/// Which kind of HMIS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Project,
    Client,
    Enrollment,
    Exit,
    Service,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::Client => "client",
            Kind::Enrollment => "enrollment",
            Kind::Exit => "exit",
            Kind::Service => "service",
        }
    }
    fn table(self) -> &'static str {
        match self {
            Kind::Project => "projects",
            Kind::Client => "clients",
            Kind::Enrollment => "enrollments",
            Kind::Exit => "exits",
            Kind::Service => "hmis_services",
        }
    }
    /// Per-row statements, built once (the import runs them hundreds of thousands of times).
    fn sql(self) -> &'static KindSql {
        static SQL: std::sync::OnceLock<Vec<KindSql>> = std::sync::OnceLock::new();
        let all = SQL.get_or_init(|| {
            ALL_KINDS
                .iter()
                .map(|k| {
                    let (table, key) = (k.table(), k.key());
                    let old = k.old_table();
                    KindSql {
                        held_refresh: format!(
                            "SELECT 1, date_updated FROM {table} WHERE {key} = ?1
                             UNION ALL SELECT 2, date_updated FROM hmis_deleted
                              WHERE kind = ?2 AND id = ?1
                             UNION ALL SELECT 3, date_updated FROM {old} WHERE {key} = ?1
                             UNION ALL SELECT 4, date_updated FROM import_old_deleted
                              WHERE id = ?1
                             LIMIT 1"
                        ),
                        carry_live: format!(
                            "INSERT INTO {table} SELECT * FROM {old} WHERE {key} = ?1"
                        ),
                        held: format!(
                            "SELECT 1, date_updated FROM {table} WHERE {key} = ?1
                             UNION ALL SELECT 2, date_updated FROM hmis_deleted
                              WHERE kind = ?2 AND id = ?1
                             LIMIT 1"
                        ),
                        exists: format!("SELECT 1 FROM {table} WHERE {key} = ?1"),
                        remove: format!("DELETE FROM {table} WHERE {key} = ?1"),
                    }
                })
                .collect()
        });
        &all[self as usize]
    }
    /// Where a full refresh puts the records held before it while the file loads.
    fn old_table(self) -> String {
        format!("import_old_{}", self.table())
    }
    fn key(self) -> &'static str {
        match self {
            Kind::Project => "project_id",
            Kind::Client => "personal_id",
            Kind::Enrollment => "enrollment_id",
            Kind::Exit => "exit_id",
            Kind::Service => "services_id",
        }
    }
}

const ALL_KINDS: [Kind; 5] = [
    Kind::Project,
    Kind::Client,
    Kind::Enrollment,
    Kind::Exit,
    Kind::Service,
];

struct KindSql {
    held: String,
    /// `held` during a full refresh: the new table, then the records from before it.
    held_refresh: String,
    /// Copy a record from before the refresh into the new table.
    carry_live: String,
    exists: String,
    remove: String,
}

/// What the station holds for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Absent,
    /// A live record, with its DateUpdated day if known.
    Live(Option<NaiveDate>),
    /// Deleted in the HMIS, on this DateUpdated day if known.
    Deleted(Option<NaiveDate>),
}

/// Where a full refresh found a key: loaded by this import, or held from before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    ThisImport,
    Before,
}

impl Held {
    pub fn day(self) -> Option<NaiveDate> {
        match self {
            Held::Absent => None,
            Held::Live(d) | Held::Deleted(d) => d,
        }
    }
}

pub struct ProjectRow<'a> {
    pub project_id: &'a str,
    pub organization_id: Option<&'a str>,
    pub name: &'a str,
    pub project_type: Option<i64>,
    pub date_updated: Option<NaiveDate>,
}

/// A client as the station keeps it: never an SSN or a full last name.
pub struct ClientRow<'a> {
    pub personal_id: &'a str,
    /// Empty for a hashed export (the display name then falls back to a neutral label).
    pub first_name: &'a str,
    pub last_initial: &'a str,
    pub last_name_key: &'a str,
    /// yyyy-mm-dd.
    pub dob: Option<&'a str>,
    pub date_updated: Option<NaiveDate>,
}

pub struct EnrollmentRow<'a> {
    pub enrollment_id: &'a str,
    pub personal_id: &'a str,
    pub project_id: &'a str,
    pub household_id: Option<&'a str>,
    pub relationship_to_hoh: Option<i64>,
    /// yyyy-mm-dd.
    pub entry_date: &'a str,
    pub date_updated: Option<NaiveDate>,
}

pub struct ExitRow<'a> {
    pub exit_id: &'a str,
    pub enrollment_id: &'a str,
    pub personal_id: Option<&'a str>,
    /// yyyy-mm-dd.
    pub exit_date: &'a str,
    pub date_updated: Option<NaiveDate>,
}

/// One service the HMIS already recorded (Services.csv).
pub struct HmisServiceRow<'a> {
    pub services_id: &'a str,
    pub personal_id: &'a str,
    pub enrollment_id: Option<&'a str>,
    /// yyyy-mm-dd.
    pub date_provided: &'a str,
    pub record_type: Option<i64>,
    pub type_provided: Option<i64>,
    pub date_updated: Option<NaiveDate>,
}

/// Totals over the files of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportTotals {
    pub kept: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub folded: u64,
    pub restored: u64,
    pub older: u64,
}

/// What is recorded about the last import.
pub struct ImportMeta<'a> {
    pub imported_at: &'a str,
    pub source: &'a str,
    pub export_id: &'a str,
    pub export_date: &'a str,
    pub directive: u8,
    pub csv_version: &'a str,
    pub hash_status: Option<i64>,
    pub period_start: Option<&'a str>,
    pub period_end: Option<&'a str>,
    pub totals: &'a ImportTotals,
}

/// SQLite page cache during an import (KiB): enough to keep the B-tree pages being filled.
const IMPORT_CACHE_KIB: i64 = 16 * 1024;

const DATA_TABLES: &str = "'projects', 'clients', 'enrollments', 'exits', 'hmis_services'";

/// The import's writer: one transaction, rolled back unless [`ImportTx::finish`] is called.
pub struct ImportTx<'c> {
    tx: Option<Transaction<'c>>,
    old_cache: i64,
    /// Secondary indexes dropped for a full refresh, created again by `finish`.
    indexes: Vec<String>,
}

impl Drop for ImportTx<'_> {
    fn drop(&mut self) {
        if let Some(tx) = &self.tx {
            let _ = tx.pragma_update(None, "cache_size", self.old_cache);
        }
    }
}

impl<'c> ImportTx<'c> {
    /// Start the import's transaction on a connection to the snapshot being written
    /// ([`crate::store::snapshot`]): scans keep reading the snapshot from before it.
    pub fn begin(conn: &'c mut Connection) -> Result<ImportTx<'c>, StoreError> {
        // The import's bookkeeping (which keys it carried) lives in temporary tables; the bundled
        // SQLite keeps those in memory by default, which would grow with the export. On file they
        // go through a small page cache and spill to disk: memory stays bounded. (Set outside a
        // transaction; it drops earlier temporary tables, which are re-created below.)
        conn.pragma_update(None, "temp_store", "FILE")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // A connection setting, set inside the transaction and restored when it ends.
        let old_cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        tx.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen (kind TEXT NOT NULL, id TEXT NOT NULL,
                 PRIMARY KEY (kind, id)) WITHOUT ROWID;
             CREATE TEMP TABLE IF NOT EXISTS import_filtered (id TEXT PRIMARY KEY) WITHOUT ROWID;
             DELETE FROM temp.import_seen;
             DELETE FROM temp.import_filtered;",
        )?;
        Ok(ImportTx {
            tx: Some(tx),
            old_cache,
            indexes: Vec::new(),
        })
    }

    fn tx(&self) -> &Transaction<'c> {
        self.tx
            .as_ref()
            .expect("the transaction lives until finish")
    }

    /// Drop the secondary indexes of the data tables until `finish` (a full refresh rewrites
    /// most rows; building an index once is faster than updating it row by row).
    pub fn drop_indexes(&mut self) -> Result<(), StoreError> {
        let tx = self.tx();
        let mut st = tx.prepare(&format!(
            "SELECT name, sql FROM sqlite_schema
             WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({DATA_TABLES})"
        ))?;
        let list: Vec<(String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(st);
        for (name, _) in &list {
            tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        self.indexes = list.into_iter().map(|(_, sql)| sql).collect();
        Ok(())
    }

    /// Run a `held` query: which of its parts answered (1, 2, ...) and the DateUpdated day.
    fn held_row(
        &self,
        sql: &str,
        kind: Kind,
        id: &str,
    ) -> Result<Option<(i64, Option<NaiveDate>)>, StoreError> {
        let mut st = self.tx().prepare_cached(sql)?;
        let row: Option<(i64, Option<String>)> = st
            .query_row(params![id, kind.name()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|(part, d)| {
            let day = d.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            (part, day)
        }))
    }

    /// What the station holds for `id`.
    pub fn held(&self, kind: Kind, id: &str) -> Result<Held, StoreError> {
        Ok(match self.held_row(&kind.sql().held, kind, id)? {
            None => Held::Absent,
            Some((1, d)) => Held::Live(d),
            Some((_, d)) => Held::Deleted(d),
        })
    }

    /// Start the full refresh of one file: the records held so far (and the recorded deletions
    /// of that kind) move aside, renamed, and the file loads into an empty table. At the end
    /// ([`ImportTx::end_refresh`]) what the export did not carry is simply not there: no
    /// bookkeeping of seen keys, no sweep.
    pub fn start_refresh(&self, kind: Kind) -> Result<(), StoreError> {
        let tx = self.tx();
        let (table, old) = (kind.table(), kind.old_table());
        let create: String = tx.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        tx.execute_batch(&format!(
            "ALTER TABLE {table} RENAME TO {old};
             DROP TABLE IF EXISTS import_old_deleted;
             CREATE TABLE import_old_deleted (id TEXT PRIMARY KEY, date_updated TEXT)
                 WITHOUT ROWID;"
        ))?;
        tx.execute_batch(&create)?;
        tx.execute(
            "INSERT INTO import_old_deleted (id, date_updated)
             SELECT id, date_updated FROM hmis_deleted WHERE kind = ?1",
            [kind.name()],
        )?;
        tx.execute("DELETE FROM hmis_deleted WHERE kind = ?1", [kind.name()])?;
        Ok(())
    }

    /// During a full refresh: what the station holds for `id`, and whether this import put it
    /// there (an earlier row of the same file) or it is from before.
    pub fn held_in_refresh(
        &self,
        kind: Kind,
        id: &str,
    ) -> Result<(Held, Option<Found>), StoreError> {
        Ok(match self.held_row(&kind.sql().held_refresh, kind, id)? {
            None => (Held::Absent, None),
            Some((1, d)) => (Held::Live(d), Some(Found::ThisImport)),
            Some((2, d)) => (Held::Deleted(d), Some(Found::ThisImport)),
            Some((3, d)) => (Held::Live(d), Some(Found::Before)),
            Some((_, d)) => (Held::Deleted(d), Some(Found::Before)),
        })
    }

    /// During a full refresh: keep what the station held for `id` from before (the export's
    /// row was older than it).
    pub fn carry_over(&self, kind: Kind, id: &str, held: Held) -> Result<(), StoreError> {
        match held {
            Held::Absent => {}
            Held::Live(_) => {
                self.tx()
                    .prepare_cached(&kind.sql().carry_live)?
                    .execute([id])?;
            }
            Held::Deleted(_) => {
                self.tx()
                    .prepare_cached(
                        "INSERT INTO hmis_deleted (kind, id, date_updated)
                         SELECT ?2, id, date_updated FROM import_old_deleted WHERE id = ?1",
                    )?
                    .execute(params![id, kind.name()])?;
            }
        }
        Ok(())
    }

    /// End the full refresh of one file: the records from before that it did not carry go.
    pub fn end_refresh(&self, kind: Kind) -> Result<(), StoreError> {
        self.tx().execute_batch(&format!(
            "DROP TABLE {}; DROP TABLE import_old_deleted;",
            kind.old_table()
        ))?;
        Ok(())
    }

    /// Note that this import carries `id`; false when an earlier row of it already did.
    pub fn first_seen(&self, kind: Kind, id: &str) -> Result<bool, StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO temp.import_seen (kind, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?;
        Ok(st.execute(params![kind.name(), id])? == 1)
    }

    /// A live record with this key exists.
    pub fn exists(&self, kind: Kind, id: &str) -> Result<bool, StoreError> {
        let mut st = self.tx().prepare_cached(&kind.sql().exists)?;
        Ok(st.exists([id])?)
    }

    /// Remove a live record (it left the station's projects); no deletion is recorded.
    pub fn remove(&self, kind: Kind, id: &str) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(&kind.sql().remove)?;
        st.execute([id])?;
        Ok(())
    }

    /// The HMIS deleted the record: remove it and remember the deletion.
    pub fn delete(&self, kind: Kind, id: &str, day: Option<NaiveDate>) -> Result<(), StoreError> {
        self.remove(kind, id)?;
        let mut st = self.tx().prepare_cached(
            "INSERT INTO hmis_deleted (kind, id, date_updated) VALUES (?1, ?2, ?3)
             ON CONFLICT (kind, id) DO UPDATE SET date_updated = excluded.date_updated",
        )?;
        st.execute(params![kind.name(), id, day.map(|d| d.to_string())])?;
        Ok(())
    }

    /// Forget a recorded deletion (the record was sent again).
    pub fn undelete(&self, kind: Kind, id: &str) -> Result<(), StoreError> {
        let mut st = self
            .tx()
            .prepare_cached("DELETE FROM hmis_deleted WHERE kind = ?1 AND id = ?2")?;
        st.execute(params![kind.name(), id])?;
        Ok(())
    }

    pub fn upsert_project(&self, p: &ProjectRow) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO projects (project_id, organization_id, name, project_type, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (project_id) DO UPDATE SET organization_id = excluded.organization_id,
                 name = excluded.name, project_type = excluded.project_type,
                 date_updated = excluded.date_updated",
        )?;
        st.execute(params![
            p.project_id,
            p.organization_id,
            p.name,
            p.project_type,
            p.date_updated.map(|d| d.to_string())
        ])?;
        Ok(())
    }

    pub fn upsert_client(&self, c: &ClientRow) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO clients (personal_id, first_name, last_initial, last_name_key, dob,
                                  date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (personal_id) DO UPDATE SET first_name = excluded.first_name,
                 last_initial = excluded.last_initial, last_name_key = excluded.last_name_key,
                 dob = excluded.dob, date_updated = excluded.date_updated",
        )?;
        st.execute(params![
            c.personal_id,
            c.first_name,
            c.last_initial,
            c.last_name_key,
            c.dob,
            c.date_updated.map(|d| d.to_string())
        ])?;
        Ok(())
    }

    pub fn upsert_enrollment(&self, e: &EnrollmentRow) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO enrollments (enrollment_id, personal_id, project_id, household_id,
                 relationship_to_hoh, entry_date, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (enrollment_id) DO UPDATE SET personal_id = excluded.personal_id,
                 project_id = excluded.project_id, household_id = excluded.household_id,
                 relationship_to_hoh = excluded.relationship_to_hoh,
                 entry_date = excluded.entry_date, date_updated = excluded.date_updated",
        )?;
        st.execute(params![
            e.enrollment_id,
            e.personal_id,
            e.project_id,
            e.household_id,
            e.relationship_to_hoh,
            e.entry_date,
            e.date_updated.map(|d| d.to_string())
        ])?;
        Ok(())
    }

    pub fn upsert_exit(&self, x: &ExitRow) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO exits (exit_id, enrollment_id, personal_id, exit_date, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (exit_id) DO UPDATE SET enrollment_id = excluded.enrollment_id,
                 personal_id = excluded.personal_id, exit_date = excluded.exit_date,
                 date_updated = excluded.date_updated",
        )?;
        st.execute(params![
            x.exit_id,
            x.enrollment_id,
            x.personal_id,
            x.exit_date,
            x.date_updated.map(|d| d.to_string())
        ])?;
        Ok(())
    }

    pub fn upsert_service(&self, s: &HmisServiceRow) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO hmis_services (services_id, personal_id, enrollment_id, date_provided,
                 record_type, type_provided, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (services_id) DO UPDATE SET personal_id = excluded.personal_id,
                 enrollment_id = excluded.enrollment_id, date_provided = excluded.date_provided,
                 record_type = excluded.record_type, type_provided = excluded.type_provided,
                 date_updated = excluded.date_updated",
        )?;
        st.execute(params![
            s.services_id,
            s.personal_id,
            s.enrollment_id,
            s.date_provided,
            s.record_type,
            s.type_provided,
            s.date_updated.map(|d| d.to_string())
        ])?;
        Ok(())
    }

    /// Remember an enrollment left out by the project filter (its exits are filtered too).
    pub fn note_filtered(&self, enrollment_id: &str) -> Result<(), StoreError> {
        let mut st = self.tx().prepare_cached(
            "INSERT INTO temp.import_filtered (id) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        st.execute([enrollment_id])?;
        Ok(())
    }

    pub fn was_filtered(&self, enrollment_id: &str) -> Result<bool, StoreError> {
        let mut st = self
            .tx()
            .prepare_cached("SELECT 1 FROM temp.import_filtered WHERE id = ?1")?;
        Ok(st.exists([enrollment_id])?)
    }

    /// The EntryDate (yyyy-mm-dd) of a live enrollment.
    pub fn entry_date(&self, enrollment_id: &str) -> Result<Option<String>, StoreError> {
        let mut st = self
            .tx()
            .prepare_cached("SELECT entry_date FROM enrollments WHERE enrollment_id = ?1")?;
        Ok(st.query_row([enrollment_id], |r| r.get(0)).optional()?)
    }

    /// With a project filter: a client with no enrollment in the station's projects keeps only
    /// the client ID and the display name (so a scan says `no_open_enrollment`, not
    /// `unknown_client`); the DOB and the last-name search key go. Run over every client after
    /// each filtered import, so a delta's client rows are trimmed too. Returns how many rows.
    pub fn keep_minimum_of_clients_elsewhere(&self) -> Result<usize, StoreError> {
        Ok(self.tx().execute(
            "UPDATE clients SET dob = NULL, last_name_key = ''
              WHERE (dob IS NOT NULL OR last_name_key <> '')
                AND NOT EXISTS (SELECT 1 FROM enrollments e
                                 WHERE e.personal_id = clients.personal_id)",
            [],
        )?)
    }

    /// Rebuild dropped indexes, record the import and commit.
    pub fn finish(mut self, meta: &ImportMeta) -> Result<(), StoreError> {
        let tx = self.tx.take().expect("finish is called once");
        let result = (|| -> Result<(), StoreError> {
            for sql in &self.indexes {
                tx.execute_batch(sql)?;
            }
            tx.execute_batch("DELETE FROM temp.import_seen; DELETE FROM temp.import_filtered;")?;
            let t = meta.totals;
            let mut st = tx.prepare_cached(
                "INSERT INTO import_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            let mut del = tx.prepare_cached("DELETE FROM import_meta WHERE key = ?1")?;
            let numbers = [
                ("last_kept", t.kept),
                ("last_deleted", t.deleted),
                ("last_skipped", t.skipped),
                ("last_folded", t.folded),
                ("last_restored", t.restored),
                ("last_older", t.older),
            ];
            for (k, v) in numbers {
                st.execute(params![k, v.to_string()])?;
            }
            let texts = [
                ("imported_at", Some(meta.imported_at.to_string())),
                ("source", Some(meta.source.to_string())),
                ("export_id", Some(meta.export_id.to_string())),
                ("export_date", Some(meta.export_date.to_string())),
                ("directive", Some(meta.directive.to_string())),
                ("csv_version", Some(meta.csv_version.to_string())),
                ("hash_status", meta.hash_status.map(|h| h.to_string())),
                ("export_start", meta.period_start.map(str::to_string)),
                ("export_end", meta.period_end.map(str::to_string)),
            ];
            for (k, v) in texts {
                match v {
                    Some(v) => st.execute(params![k, v])?,
                    None => del.execute([k])?,
                };
            }
            Ok(())
        })();
        let _ = tx.pragma_update(None, "cache_size", self.old_cache);
        result?;
        tx.commit()?;
        Ok(())
    }
}

/// The station's enrollment data: when and what was imported, and how much there is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DataStatus {
    /// RFC 3339, UTC; None before the first import.
    pub imported_at: Option<String>,
    pub export_id: Option<String>,
    pub export_date: Option<String>,
    pub directive: Option<u8>,
    pub source: Option<String>,
    pub csv_version: Option<String>,
    /// HUD HashStatus of the last export (1 unhashed; 2, 3, 4 hashed).
    pub hash_status: Option<i64>,
    pub export_start: Option<String>,
    pub export_end: Option<String>,
    /// Totals of the last import; None before the first.
    pub last_import: Option<ImportTotals>,
    pub projects: u64,
    pub clients: u64,
    pub enrollments: u64,
    pub exits: u64,
    /// Services the HMIS already recorded (Services.csv).
    pub hmis_services: u64,
}

/// The keys [`ImportTx::finish`] writes in the snapshot's `import_meta` (they lived in the main
/// file's `meta` before schema 3).
pub const IMPORT_KEYS: &[&str] = &[
    "last_kept",
    "last_deleted",
    "last_skipped",
    "last_folded",
    "last_restored",
    "last_older",
    "imported_at",
    "source",
    "export_id",
    "export_date",
    "directive",
    "csv_version",
    "hash_status",
    "export_start",
    "export_end",
];

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM import_meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Read the import metadata and row counts (for `GET /status`).
pub fn data_status(conn: &Connection) -> rusqlite::Result<DataStatus> {
    let count = |table: &str| -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    let number = |key: &str| -> rusqlite::Result<Option<u64>> {
        Ok(meta(conn, key)?.and_then(|v| v.parse().ok()))
    };
    let last_import = match number("last_kept")? {
        None => None,
        Some(kept) => Some(ImportTotals {
            kept,
            deleted: number("last_deleted")?.unwrap_or(0),
            skipped: number("last_skipped")?.unwrap_or(0),
            folded: number("last_folded")?.unwrap_or(0),
            restored: number("last_restored")?.unwrap_or(0),
            older: number("last_older")?.unwrap_or(0),
        }),
    };
    Ok(DataStatus {
        imported_at: meta(conn, "imported_at")?,
        export_id: meta(conn, "export_id")?,
        export_date: meta(conn, "export_date")?,
        directive: meta(conn, "directive")?.and_then(|d| d.parse().ok()),
        source: meta(conn, "source")?,
        csv_version: meta(conn, "csv_version")?,
        hash_status: meta(conn, "hash_status")?.and_then(|d| d.parse().ok()),
        export_start: meta(conn, "export_start")?,
        export_end: meta(conn, "export_end")?,
        last_import,
        projects: count("projects")?,
        clients: count("clients")?,
        enrollments: count("enrollments")?,
        exits: count("exits")?,
        hmis_services: count("hmis_services")?,
    })
}

/// HUD HashStatus values whose names (and SSNs) are hashes: 2 SHA-1 RHY, 3 hashed, 4 SHA-256 RHY.
pub fn is_hashed(hash_status: Option<i64>) -> bool {
    matches!(hash_status, Some(2..=4))
}

/// The HashStatus of the last import, when it says names are hashes (name search cannot work).
pub fn hashed_names(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let h = meta(conn, "hash_status")?.and_then(|d| d.parse().ok());
    Ok(h.filter(|_| is_hashed(h)))
}

/// HUD RecordType of a bed night (4.14 Bed Night).
pub const BED_NIGHT_RECORD_TYPE: i64 = 200;

/// The HMIS already has a bed night (RecordType 200) for this client on this date.
pub fn hmis_bed_night_on(
    conn: &Connection,
    personal_id: &str,
    date: NaiveDate,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM hmis_services
         WHERE personal_id = ?1 AND date_provided = ?2 AND record_type = ?3",
    )?
    .exists(params![
        personal_id,
        date.to_string(),
        BED_NIGHT_RECORD_TYPE
    ])
}
