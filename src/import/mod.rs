//! HUD HMIS CSV import: a folder or a .zip of an FY2024 or FY2026 export into the station's
//! enrollment tables (`projects`, `clients`, `enrollments`, `exits`; see `migrations/0001_init.sql`).
//!
//! # What is read
//! `Export.csv` (required, exactly one row), `Organization.csv` (optional, only checked),
//! `Project.csv`, `Client.csv`, `Enrollment.csv`, `Exit.csv` (required). Other files
//! (`Services.csv`, ...) are ignored. In a .zip the files may sit in a subfolder. File names and
//! column headers are matched ignoring case; columns are found by header name, never by position, so
//! the FY2024 and FY2026 layouts both work. UTF-8 BOM, CRLF and quoted fields are accepted. Dates
//! may be `yyyy-mm-dd` or `mm-dd-yyyy` (or `m/d/yyyy`, as a spreadsheet saves them), optionally
//! followed by a time ` hh:mm:ss` (also `Thh:mm`, fractions of a second, `Z`, ` AM`/` PM`).
//!
//! Only what the station needs is stored: projects (ID, organization, name, type), clients
//! (PersonalID, first name, last initial, `last_name_key`, DOB), enrollments (ID, client, project,
//! household, relationship to head of household, entry date) and exits (ID, enrollment, client, exit
//! date). SSNs and full last names are never stored.
//!
//! # Export directive
//! - `2` full refresh: the four tables are replaced by the export's rows (rows with DateDeleted set
//!   are left out).
//! - `1` delta: rows are upserted by ID; a row with DateDeleted set removes exactly the row it names
//!   (a deleted exit re-opens its enrollment; a deleted client makes its scans `unknown_client`).
//! - `3` ("Other" in HUD list 1.2, used by some vendors' and test exports): treated as a **full
//!   refresh**, since an "other" export cannot be trusted to describe changes only; the report says so.
//!   Any other value refuses the import.
//!
//! # Project filter
//! With [`ImportOptions::projects`] non-empty, only those projects and their enrollments (and the exits
//! of kept enrollments) are kept; the rest is counted as "outside station projects". **Every client
//! keeps a row**: a client enrolled only elsewhere who scans at the door must get
//! `no_open_enrollment` (staff enroll them in HMIS and reload the batch), not `unknown_client`,
//! which tells staff the card itself is wrong. But only the minimum necessary: such a client keeps
//! the client ID and the display name (first name, last initial); the DOB and the last-name search
//! key are kept only for clients with an enrollment in the station's projects (a meal line's
//! station must not hold the whole continuum's dates of birth). When a later delta adds such an
//! enrollment, the client's DOB and search key come back with the client's next row: in the same
//! delta if the HMIS sent the client record too, else at the next full refresh; until then the
//! client scans and gets verdicts normally and is found by client ID or first name, not by last
//! name or DOB.
//!
//! # Validation: refuse or skip
//! An import runs in one `BEGIN IMMEDIATE` transaction: when it is refused, nothing changes.
//!
//! The import is **refused** (error naming file, line and column) when the export is not what the
//! station takes it for, so that applying part of it could silently give wrong verdicts:
//! - `Export.csv` or a required file is missing; a required column is missing; `Export.csv` does not
//!   have exactly one row, or its ExportDirective is not 1, 2 or 3;
//! - a row has a different number of fields than the header, or the CSV cannot be parsed;
//! - a date the station uses (EntryDate, ExitDate, DOB, ExportDate) is present but in no accepted
//!   format (e.g. `2024-13-01`): that usually means a wrong date setting in the export, which would
//!   affect every row;
//! - an ID field is not UTF-8.
//!
//! A single **row is skipped and reported** (count and the first line numbers) when it is well formed
//! but incomplete or inconsistent, so one odd row among thousands does not leave a station without
//! data:
//! - a required ID (ProjectID, PersonalID, EnrollmentID, ExitID) or a required date (EntryDate,
//!   ExitDate) is empty;
//! - the same ID appears twice in one file (the first row is kept);
//! - an enrollment names a client or project that is not in the import (nor, for a delta, in the
//!   station), or an exit names an enrollment that is not there (including ones skipped above).
//!
//! Rows are **kept with a warning** when the oddity does not touch the verdict rules: a code outside
//! the HUD list (ProjectType, RelationshipToHoH, e.g. `999`; a non-number is stored empty), an
//! ExitDate before the EntryDate (the exit is kept: the enrollment is closed, as in the HMIS, so scans
//! get `no_open_enrollment` rather than posting against an exited enrollment), a first or last name
//! that is not UTF-8 (stored with replacement characters).
//!
//! With the HUD validation files (`fy2024_validation_files`, rows invalid on purpose, directive 3)
//! the import goes through, as a full refresh: projects 5 kept (a second `VALID` skipped as a
//! duplicate; `999` type and empty name warned), clients 4 kept (the one without PersonalID skipped),
//! enrollments 6 kept (`ERROR` without PersonalID and the second `VALID`, naming the unknown project
//! `FAILURE`, skipped; RelationshipToHoH `999` warned), exits 5 kept (missing ExitDate, missing
//! EnrollmentID and an unknown enrollment skipped; `PRE_ENTRY_1`, exit before entry, kept with a
//! warning).
//!
//! # Streaming
//! Files are read row by row with a reused [`csv::ByteRecord`] and written with cached prepared
//! statements; memory does not grow with file size. On a full refresh the secondary indexes are
//! dropped and rebuilt after loading (faster than updating them row by row).

mod fields;
mod source;

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use fields::{int, raw, text, Columns, DATE_EXPECTED};
use source::Source;

/// What to keep from an export.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// ProjectIDs to keep; empty keeps all.
    pub projects: Vec<String>,
}

/// Why an import was refused. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Source { path: String, message: String },
    #[error("{file} is missing from {path} (required)")]
    MissingFile { file: &'static str, path: String },
    #[error("{file}:1: missing required column {column}")]
    MissingColumn {
        file: &'static str,
        column: &'static str,
    },
    #[error("{file}:{line}: {message}")]
    Structure {
        file: &'static str,
        line: u64,
        message: String,
    },
    #[error("{file}:{line}:{column} ({name}): expected {expected}, found {}",
        found.as_ref().map(|f| format!("{f:?}")).unwrap_or_else(|| "something else (personal data, not shown)".to_string()))]
    Value {
        file: &'static str,
        line: u64,
        column: usize,
        name: String,
        expected: &'static str,
        /// None for personal data (DOB), which is not repeated in messages.
        found: Option<String>,
    },
    #[error("{file}: {message}")]
    Csv { file: &'static str, message: String },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One kind of skipped row or warning, with how many and the first line numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub reason: String,
    pub count: u64,
    /// The first few line numbers (1 is the header).
    pub lines: Vec<u64>,
}

const MAX_LINES: usize = 5;

/// Counts for one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    /// Data rows read (header excluded).
    pub read: u64,
    /// Rows stored (inserted or, for a delta, updated).
    pub kept: u64,
    /// Rows with DateDeleted set: left out (full refresh) or removed from the station (delta).
    pub deleted: u64,
    /// Rows outside the station's projects (project filter).
    pub filtered: u64,
    /// Rows skipped as invalid, by reason.
    pub skipped: Vec<Issue>,
    /// Rows kept with an oddity, by reason.
    pub warnings: Vec<Issue>,
}

impl FileReport {
    fn new(file: &str) -> FileReport {
        FileReport {
            file: file.to_string(),
            ..FileReport::default()
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(|i| i.count).sum()
    }

    fn add(list: &mut Vec<Issue>, reason: &str, line: u64) {
        match list.iter_mut().find(|i| i.reason == reason) {
            Some(i) => {
                i.count += 1;
                if i.lines.len() < MAX_LINES {
                    i.lines.push(line);
                }
            }
            None => list.push(Issue {
                reason: reason.to_string(),
                count: 1,
                lines: vec![line],
            }),
        }
    }

    fn skip(&mut self, reason: &str, line: u64) {
        Self::add(&mut self.skipped, reason, line)
    }

    fn warn(&mut self, reason: &str, line: u64) {
        Self::add(&mut self.warnings, reason, line)
    }
}

/// How the export was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    FullRefresh,
    Delta,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub imported_at: String,
    pub export_id: String,
    /// `yyyy-mm-dd hh:mm:ss` (or `yyyy-mm-dd`).
    pub export_date: String,
    /// ExportDirective as in Export.csv (1 delta, 2 full refresh, 3 other).
    pub directive: u8,
    pub mode: Mode,
    /// Files in the order they were read.
    pub files: Vec<FileReport>,
}

impl ImportReport {
    pub fn file(&self, name: &str) -> Option<&FileReport> {
        self.files
            .iter()
            .find(|f| f.file.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match (self.directive, self.mode) {
            (1, _) => "1 (delta)".to_string(),
            (2, _) => "2 (full refresh)".to_string(),
            (d, Mode::FullRefresh) => format!("{d} (other), treated as a full refresh"),
            (d, Mode::Delta) => format!("{d} (other), treated as a delta"),
        };
        writeln!(
            f,
            "Imported export {} of {} from {}: ExportDirective {}",
            self.export_id, self.export_date, self.source, how
        )?;
        for r in &self.files {
            write!(
                f,
                "  {:<17} read {:>7}  kept {:>7}  deleted {:>5}",
                r.file, r.read, r.kept, r.deleted
            )?;
            if r.filtered > 0 {
                write!(f, "  outside station projects {}", r.filtered)?;
            }
            writeln!(f, "  skipped {}", r.skipped_total())?;
            for (what, list) in [("skipped", &r.skipped), ("warning", &r.warnings)] {
                for i in list {
                    let lines: Vec<String> = i.lines.iter().map(u64::to_string).collect();
                    let more = if i.count as usize > i.lines.len() {
                        ", ..."
                    } else {
                        ""
                    };
                    writeln!(
                        f,
                        "    {what} {}: {} (line {}{more})",
                        i.count,
                        i.reason,
                        lines.join(", ")
                    )?;
                }
            }
        }
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
    pub projects: u64,
    pub clients: u64,
    pub enrollments: u64,
    pub exits: u64,
}

/// Read the import metadata and row counts (for `GET /status`).
pub fn data_status(conn: &Connection) -> rusqlite::Result<DataStatus> {
    let meta = |key: &str| -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    };
    let count = |table: &str| -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    Ok(DataStatus {
        imported_at: meta("imported_at")?,
        export_id: meta("export_id")?,
        export_date: meta("export_date")?,
        directive: meta("directive")?.and_then(|d| d.parse().ok()),
        source: meta("source")?,
        projects: count("projects")?,
        clients: count("clients")?,
        enrollments: count("enrollments")?,
        exits: count("exits")?,
    })
}

const EXPORT: &str = "Export.csv";
const ORGANIZATION: &str = "Organization.csv";
const PROJECT: &str = "Project.csv";
const CLIENT: &str = "Client.csv";
const ENROLLMENT: &str = "Enrollment.csv";
const EXIT: &str = "Exit.csv";
const REQUIRED: [&str; 5] = [EXPORT, PROJECT, CLIENT, ENROLLMENT, EXIT];
const DATA_TABLES: [&str; 4] = ["projects", "clients", "enrollments", "exits"];

/// SQLite page cache during an import (KiB): enough to keep the B-tree pages being filled.
const IMPORT_CACHE_KIB: i64 = 16 * 1024;

struct ExportRow {
    export_id: String,
    export_date: String,
    directive: u8,
}

/// Import the HUD HMIS CSV export at `path` (folder or .zip) in one transaction.
pub fn import_path(
    conn: &mut Connection,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut src = Source::open(path)?;
    for file in REQUIRED {
        if !src.has(file) {
            return Err(ImportError::MissingFile {
                file,
                path: path.display().to_string(),
            });
        }
    }
    let export = src
        .with_reader(EXPORT, read_export)?
        .ok_or(ImportError::MissingFile {
            file: EXPORT,
            path: path.display().to_string(),
        })?;
    let mode = match export.directive {
        1 => Mode::Delta,
        _ => Mode::FullRefresh,
    };

    let old_cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
    let result = run(conn, &mut src, path, opts, export, mode);
    let _ = conn.pragma_update(None, "cache_size", old_cache);
    result
}

fn run(
    conn: &mut Connection,
    src: &mut Source,
    path: &Path,
    opts: &ImportOptions,
    export: ExportRow,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let filter: HashSet<&str> = opts.projects.iter().map(|p| p.trim()).collect();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS import_seen (kind INTEGER NOT NULL, id TEXT NOT NULL,
             PRIMARY KEY (kind, id)) WITHOUT ROWID;
         CREATE TEMP TABLE IF NOT EXISTS import_filtered (id TEXT PRIMARY KEY) WITHOUT ROWID;
         DELETE FROM temp.import_seen;
         DELETE FROM temp.import_filtered;",
    )?;
    let mut indexes = Vec::new();
    if mode == Mode::FullRefresh {
        indexes = drop_indexes(&tx)?;
        for t in DATA_TABLES {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
    }
    let mut ctx = Ctx {
        tx: &tx,
        mode,
        filter,
    };
    let mut files = Vec::new();
    if let Some(r) = src.with_reader(ORGANIZATION, |r| read_organizations(r))? {
        files.push(r);
    }
    for file in [PROJECT, CLIENT, ENROLLMENT, EXIT] {
        let r = src.with_reader(file, |r| {
            let mut rdr = csv_reader(r);
            match file {
                PROJECT => ctx.projects(&mut rdr),
                CLIENT => ctx.clients(&mut rdr),
                ENROLLMENT => ctx.enrollments(&mut rdr),
                _ => ctx.exits(&mut rdr),
            }
        })?;
        files.extend(r);
    }
    for sql in &indexes {
        tx.execute_batch(sql)?;
    }
    if !ctx.filter.is_empty() {
        keep_minimum_of_clients_elsewhere(&tx)?;
    }
    tx.execute_batch("DELETE FROM temp.import_seen; DELETE FROM temp.import_filtered;")?;

    let imported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let source = path.display().to_string();
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        st.execute(params!["imported_at", imported_at])?;
        st.execute(params!["export_id", export.export_id])?;
        st.execute(params!["export_date", export.export_date])?;
        st.execute(params!["directive", export.directive.to_string()])?;
        st.execute(params!["source", source])?;
    }
    drop(ctx);
    tx.commit()?;
    Ok(ImportReport {
        source,
        imported_at,
        export_id: export.export_id,
        export_date: export.export_date,
        directive: export.directive,
        mode,
        files,
    })
}

/// With a project filter: a client with no enrollment in the station's projects keeps only the
/// client ID and the display name (so a scan says `no_open_enrollment`, not `unknown_client`);
/// the DOB and the last-name search key go. Run over every client after each import, so a
/// delta's client rows are trimmed too.
fn keep_minimum_of_clients_elsewhere(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE clients SET dob = NULL, last_name_key = ''
          WHERE (dob IS NOT NULL OR last_name_key <> '')
            AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.personal_id = clients.personal_id)",
        [],
    )
}

type Rdr<'r> = csv::Reader<Sniff<&'r mut dyn Read>>;

fn csv_reader(r: &mut dyn Read) -> Rdr<'_> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(Sniff {
            inner: r,
            crlf: None,
        })
}

/// Notes whether the file's first line ends with CRLF. The csv crate reports a record's line
/// one too low in CRLF files (the `\n` of the previous terminator is counted late), so line
/// numbers in messages are corrected with this.
struct Sniff<R> {
    inner: R,
    crlf: Option<bool>,
}

impl<R: Read> Read for Sniff<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.crlf.is_none() {
            if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
                self.crlf = Some(i > 0 && buf[i - 1] == b'\r');
            }
        }
        Ok(n)
    }
}

fn csv_err(file: &'static str, e: csv::Error, crlf: bool) -> ImportError {
    match e.position() {
        Some(p) => ImportError::Structure {
            file,
            line: p.line() + u64::from(crlf && p.line() > 1),
            message: format!("unreadable CSV: {}", e.kind_message()),
        },
        None => ImportError::Csv {
            file,
            message: format!("unreadable CSV: {}", e.kind_message()),
        },
    }
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for csv::Error {
    fn kind_message(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Io(e) => e.to_string(),
            _ => self.to_string(),
        }
    }
}

fn header(file: &'static str, rdr: &mut Rdr<'_>) -> Result<Columns, ImportError> {
    let h = rdr
        .byte_headers()
        .map_err(|e| csv_err(file, e, false))?
        .clone();
    if h.is_empty() || (h.len() == 1 && h.get(0).is_some_and(|f| f.trim_ascii().is_empty())) {
        return Err(ImportError::Structure {
            file,
            line: 1,
            message: "empty file: expected a header row".to_string(),
        });
    }
    Columns::new(file, &h)
}

/// Read the next row; `Ok(None)` at the end. Checks the field count.
fn next_row(
    rdr: &mut Rdr<'_>,
    cols: &Columns,
    rec: &mut ByteRecord,
) -> Result<Option<u64>, ImportError> {
    let read = rdr.read_byte_record(rec);
    let crlf = rdr.get_ref().crlf == Some(true);
    if !read.map_err(|e| csv_err(cols.file, e, crlf))? {
        return Ok(None);
    }
    let mut line = rec.position().map(|p| p.line()).unwrap_or(0);
    if crlf {
        line += 1;
    }
    cols.check_width(rec, line)?;
    Ok(Some(line))
}

fn read_export(r: &mut dyn Read) -> Result<ExportRow, ImportError> {
    let mut rdr = csv_reader(r);
    let cols = header(EXPORT, &mut rdr)?;
    let c_id = cols.require("ExportID")?;
    let c_date = cols.require("ExportDate")?;
    let c_dir = cols.require("ExportDirective")?;
    let mut rec = ByteRecord::new();
    let Some(line) = next_row(&mut rdr, &cols, &mut rec)? else {
        return Err(ImportError::Structure {
            file: EXPORT,
            line: 2,
            message: "expected one export row, found none".to_string(),
        });
    };
    let export_id = text(&cols, &rec, Some(c_id), line)?.to_string();
    if export_id.is_empty() {
        return Err(cols.bad_value(line, c_id, "an ExportID", b"", false));
    }
    let d = raw(&rec, Some(c_date));
    let export_date = fields::datetime_text(d).ok_or_else(|| {
        cols.bad_value(
            line,
            c_date,
            "a date yyyy-mm-dd hh:mm:ss or mm-dd-yyyy hh:mm:ss",
            d,
            false,
        )
    })?;
    let dir_raw = raw(&rec, Some(c_dir));
    let directive = match int(dir_raw) {
        Ok(Some(d @ 1..=3)) => d as u8,
        _ => {
            return Err(cols.bad_value(
                line,
                c_dir,
                "ExportDirective 1 (delta), 2 (full refresh) or 3 (other)",
                dir_raw,
                false,
            ))
        }
    };
    if let Some(line) = next_row(&mut rdr, &cols, &mut rec)? {
        return Err(ImportError::Structure {
            file: EXPORT,
            line,
            message: "expected exactly one export row, found more".to_string(),
        });
    }
    Ok(ExportRow {
        export_id,
        export_date,
        directive,
    })
}

fn read_organizations(r: &mut dyn Read) -> Result<FileReport, ImportError> {
    let mut rdr = csv_reader(r);
    let cols = header(ORGANIZATION, &mut rdr)?;
    let c_id = cols.require("OrganizationID")?;
    let c_del = cols.find("DateDeleted");
    let mut rep = FileReport::new(ORGANIZATION);
    let mut rec = ByteRecord::new();
    while let Some(line) = next_row(&mut rdr, &cols, &mut rec)? {
        rep.read += 1;
        if !raw(&rec, c_del).is_empty() {
            rep.deleted += 1;
        } else if text(&cols, &rec, Some(c_id), line)?.is_empty() {
            rep.skip("missing OrganizationID", line);
        } else {
            // Organizations are only checked; the station keeps OrganizationID on projects.
            rep.kept += 1;
        }
    }
    Ok(rep)
}

/// Kinds in `temp.import_seen` (duplicate detection within one file during a delta).
const SEEN_PROJECT: i64 = 1;
const SEEN_CLIENT: i64 = 2;
const SEEN_ENROLLMENT: i64 = 3;
const SEEN_EXIT: i64 = 4;

const PROJECT_TYPES: &[i64] = &[0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const RELATIONSHIPS: &[i64] = &[1, 2, 3, 4, 5, 8, 9, 99];

struct Ctx<'t> {
    tx: &'t Transaction<'t>,
    mode: Mode,
    filter: HashSet<&'t str>,
}

impl Ctx<'_> {
    fn delta(&self) -> bool {
        self.mode == Mode::Delta
    }

    /// For a delta: false when `id` was already seen in this file (a duplicate).
    fn first_seen(&self, kind: i64, id: &str) -> rusqlite::Result<bool> {
        if !self.delta() {
            return Ok(true);
        }
        let mut st = self.tx.prepare_cached(
            "INSERT INTO temp.import_seen (kind, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?;
        Ok(st.execute(params![kind, id])? == 1)
    }

    fn exists(&self, sql: &str, id: &str) -> rusqlite::Result<bool> {
        let mut st = self.tx.prepare_cached(sql)?;
        st.exists([id])
    }

    fn projects(&mut self, rdr: &mut Rdr<'_>) -> Result<FileReport, ImportError> {
        let cols = header(PROJECT, rdr)?;
        let c_id = cols.require("ProjectID")?;
        let c_name = cols.require("ProjectName")?;
        let c_org = cols.find("OrganizationID");
        let c_type = cols.find("ProjectType");
        let c_del = cols.find("DateDeleted");
        let mut rep = FileReport::new(PROJECT);
        let mut ins = self.tx.prepare_cached(if self.delta() {
            "INSERT INTO projects (project_id, organization_id, name, project_type)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (project_id) DO UPDATE SET organization_id = excluded.organization_id,
                 name = excluded.name, project_type = excluded.project_type"
        } else {
            "INSERT INTO projects (project_id, organization_id, name, project_type)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"
        })?;
        let mut del = self
            .tx
            .prepare_cached("DELETE FROM projects WHERE project_id = ?1")?;
        let mut rec = ByteRecord::new();
        while let Some(line) = next_row(rdr, &cols, &mut rec)? {
            rep.read += 1;
            let id = text(&cols, &rec, Some(c_id), line)?;
            if !raw(&rec, c_del).is_empty() {
                rep.deleted += 1;
                if self.delta() && !id.is_empty() {
                    del.execute([id])?;
                }
                continue;
            }
            if id.is_empty() {
                rep.skip("missing ProjectID", line);
                continue;
            }
            if !self.filter.is_empty() && !self.filter.contains(id) {
                rep.filtered += 1;
                continue;
            }
            if !self.first_seen(SEEN_PROJECT, id)? {
                rep.skip("duplicate ProjectID (first row kept)", line);
                continue;
            }
            let name = String::from_utf8_lossy(raw(&rec, Some(c_name)));
            let org = text(&cols, &rec, c_org, line)?;
            let ptype = match int(raw(&rec, c_type)) {
                Ok(t) => t,
                Err(()) => {
                    rep.warn("ProjectType not a number (stored empty)", line);
                    None
                }
            };
            if ptype.is_some_and(|t| !PROJECT_TYPES.contains(&t)) {
                rep.warn("ProjectType not in HUD list 2.02.6 (kept)", line);
            }
            if name.is_empty() {
                rep.warn("empty ProjectName (kept)", line);
            }
            let org = (!org.is_empty()).then_some(org);
            if ins.execute(params![id, org, name, ptype])? == 1 {
                rep.kept += 1;
            } else {
                rep.skip("duplicate ProjectID (first row kept)", line);
            }
        }
        Ok(rep)
    }

    fn clients(&mut self, rdr: &mut Rdr<'_>) -> Result<FileReport, ImportError> {
        let cols = header(CLIENT, rdr)?;
        let c_id = cols.require("PersonalID")?;
        let c_first = cols.require("FirstName")?;
        let c_last = cols.require("LastName")?;
        let c_dob = cols.require("DOB")?;
        let c_del = cols.find("DateDeleted");
        let mut rep = FileReport::new(CLIENT);
        let mut ins = self.tx.prepare_cached(if self.delta() {
            "INSERT INTO clients (personal_id, first_name, last_initial, last_name_key, dob)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (personal_id) DO UPDATE SET first_name = excluded.first_name,
                 last_initial = excluded.last_initial, last_name_key = excluded.last_name_key,
                 dob = excluded.dob"
        } else {
            "INSERT INTO clients (personal_id, first_name, last_initial, last_name_key, dob)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"
        })?;
        let mut del = self
            .tx
            .prepare_cached("DELETE FROM clients WHERE personal_id = ?1")?;
        let mut rec = ByteRecord::new();
        while let Some(line) = next_row(rdr, &cols, &mut rec)? {
            rep.read += 1;
            let id = text(&cols, &rec, Some(c_id), line)?;
            if !raw(&rec, c_del).is_empty() {
                rep.deleted += 1;
                if self.delta() && !id.is_empty() {
                    del.execute([id])?;
                }
                continue;
            }
            if id.is_empty() {
                rep.skip("missing PersonalID", line);
                continue;
            }
            let dob_raw = raw(&rec, Some(c_dob));
            let dob = if dob_raw.is_empty() {
                None
            } else {
                Some(
                    fields::date_text(dob_raw)
                        .ok_or_else(|| cols.bad_value(line, c_dob, DATE_EXPECTED, dob_raw, true))?,
                )
            };
            let first_raw = raw(&rec, Some(c_first));
            let last_raw = raw(&rec, Some(c_last));
            let (first, last) = match (
                std::str::from_utf8(first_raw),
                std::str::from_utf8(last_raw),
            ) {
                (Ok(f), Ok(l)) => (std::borrow::Cow::Borrowed(f), std::borrow::Cow::Borrowed(l)),
                _ => {
                    rep.warn("name not UTF-8 (stored with replacement characters)", line);
                    (
                        String::from_utf8_lossy(first_raw),
                        String::from_utf8_lossy(last_raw),
                    )
                }
            };
            if !self.first_seen(SEEN_CLIENT, id)? {
                rep.skip("duplicate PersonalID (first row kept)", line);
                continue;
            }
            let initial = fields::last_initial(&last);
            let key = fields::last_name_key(&last);
            if ins.execute(params![id, first, initial, key, dob])? == 1 {
                rep.kept += 1;
            } else {
                rep.skip("duplicate PersonalID (first row kept)", line);
            }
        }
        Ok(rep)
    }

    fn enrollments(&mut self, rdr: &mut Rdr<'_>) -> Result<FileReport, ImportError> {
        let cols = header(ENROLLMENT, rdr)?;
        let c_id = cols.require("EnrollmentID")?;
        let c_client = cols.require("PersonalID")?;
        let c_project = cols.require("ProjectID")?;
        let c_entry = cols.require("EntryDate")?;
        let c_hh = cols.find("HouseholdID");
        let c_rel = cols.find("RelationshipToHoH");
        let c_del = cols.find("DateDeleted");
        let mut rep = FileReport::new(ENROLLMENT);
        // One statement checks both references and inserts; on 0 rows the reason is looked up.
        let mut ins = self.tx.prepare_cached(if self.delta() {
            "INSERT INTO enrollments (enrollment_id, personal_id, project_id, household_id,
                 relationship_to_hoh, entry_date)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE EXISTS (SELECT 1 FROM clients WHERE personal_id = ?2)
               AND EXISTS (SELECT 1 FROM projects WHERE project_id = ?3)
             ON CONFLICT (enrollment_id) DO UPDATE SET personal_id = excluded.personal_id,
                 project_id = excluded.project_id, household_id = excluded.household_id,
                 relationship_to_hoh = excluded.relationship_to_hoh,
                 entry_date = excluded.entry_date"
        } else {
            "INSERT INTO enrollments (enrollment_id, personal_id, project_id, household_id,
                 relationship_to_hoh, entry_date)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE EXISTS (SELECT 1 FROM clients WHERE personal_id = ?2)
               AND EXISTS (SELECT 1 FROM projects WHERE project_id = ?3)
             ON CONFLICT DO NOTHING"
        })?;
        let mut del = self
            .tx
            .prepare_cached("DELETE FROM enrollments WHERE enrollment_id = ?1")?;
        let mut filtered = self.tx.prepare_cached(
            "INSERT INTO temp.import_filtered (id) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        let mut rec = ByteRecord::new();
        while let Some(line) = next_row(rdr, &cols, &mut rec)? {
            rep.read += 1;
            let id = text(&cols, &rec, Some(c_id), line)?;
            if !raw(&rec, c_del).is_empty() {
                rep.deleted += 1;
                if self.delta() && !id.is_empty() {
                    del.execute([id])?;
                }
                continue;
            }
            let client = text(&cols, &rec, Some(c_client), line)?;
            let project = text(&cols, &rec, Some(c_project), line)?;
            if id.is_empty() {
                rep.skip("missing EnrollmentID", line);
                continue;
            }
            if client.is_empty() {
                rep.skip("missing PersonalID", line);
                continue;
            }
            if project.is_empty() {
                rep.skip("missing ProjectID", line);
                continue;
            }
            if !self.filter.is_empty() && !self.filter.contains(project) {
                rep.filtered += 1;
                filtered.execute([id])?;
                if self.delta() {
                    // It may have moved out of the station's projects.
                    del.execute([id])?;
                }
                continue;
            }
            let entry_raw = raw(&rec, Some(c_entry));
            if entry_raw.is_empty() {
                rep.skip("missing EntryDate", line);
                continue;
            }
            let entry = fields::date_text(entry_raw)
                .ok_or_else(|| cols.bad_value(line, c_entry, DATE_EXPECTED, entry_raw, false))?;
            let hh = text(&cols, &rec, c_hh, line)?;
            let hh = (!hh.is_empty()).then_some(hh);
            let rel = match int(raw(&rec, c_rel)) {
                Ok(r) => r,
                Err(()) => {
                    rep.warn("RelationshipToHoH not a number (stored empty)", line);
                    None
                }
            };
            if rel.is_some_and(|r| !RELATIONSHIPS.contains(&r)) {
                rep.warn("RelationshipToHoH not in HUD list 3.15.1 (kept)", line);
            }
            if !self.first_seen(SEEN_ENROLLMENT, id)? {
                rep.skip("duplicate EnrollmentID (first row kept)", line);
                continue;
            }
            if ins.execute(params![id, client, project, hh, rel, entry])? == 1 {
                rep.kept += 1;
                continue;
            }
            let reason = if !self.exists("SELECT 1 FROM clients WHERE personal_id = ?1", client)? {
                "unknown PersonalID (not in Client.csv or skipped there)"
            } else if !self.exists("SELECT 1 FROM projects WHERE project_id = ?1", project)? {
                "unknown ProjectID (not in Project.csv or skipped there)"
            } else {
                "duplicate EnrollmentID (first row kept)"
            };
            rep.skip(reason, line);
        }
        Ok(rep)
    }

    fn exits(&mut self, rdr: &mut Rdr<'_>) -> Result<FileReport, ImportError> {
        let cols = header(EXIT, rdr)?;
        let c_id = cols.require("ExitID")?;
        let c_enr = cols.require("EnrollmentID")?;
        let c_date = cols.require("ExitDate")?;
        let c_client = cols.find("PersonalID");
        let c_del = cols.find("DateDeleted");
        let mut rep = FileReport::new(EXIT);
        let mut entry_of = self
            .tx
            .prepare_cached("SELECT entry_date FROM enrollments WHERE enrollment_id = ?1")?;
        let mut ins = self.tx.prepare_cached(if self.delta() {
            "INSERT INTO exits (exit_id, enrollment_id, personal_id, exit_date)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (exit_id) DO UPDATE SET enrollment_id = excluded.enrollment_id,
                 personal_id = excluded.personal_id, exit_date = excluded.exit_date"
        } else {
            "INSERT INTO exits (exit_id, enrollment_id, personal_id, exit_date)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"
        })?;
        let mut del = self
            .tx
            .prepare_cached("DELETE FROM exits WHERE exit_id = ?1")?;
        let mut rec = ByteRecord::new();
        let mut entry = String::new();
        while let Some(line) = next_row(rdr, &cols, &mut rec)? {
            rep.read += 1;
            let id = text(&cols, &rec, Some(c_id), line)?;
            if !raw(&rec, c_del).is_empty() {
                rep.deleted += 1;
                if self.delta() && !id.is_empty() {
                    del.execute([id])?;
                }
                continue;
            }
            let enr = text(&cols, &rec, Some(c_enr), line)?;
            if id.is_empty() {
                rep.skip("missing ExitID", line);
                continue;
            }
            if enr.is_empty() {
                rep.skip("missing EnrollmentID", line);
                continue;
            }
            let date_raw = raw(&rec, Some(c_date));
            if date_raw.is_empty() {
                rep.skip("missing ExitDate", line);
                continue;
            }
            let date = fields::date_text(date_raw)
                .ok_or_else(|| cols.bad_value(line, c_date, DATE_EXPECTED, date_raw, false))?;
            let client = text(&cols, &rec, c_client, line)?;
            let client = (!client.is_empty()).then_some(client);
            let found = {
                let mut rows = entry_of.query([enr])?;
                match rows.next()? {
                    Some(row) => {
                        entry.clear();
                        entry.push_str(row.get_ref(0)?.as_str().unwrap_or(""));
                        true
                    }
                    None => false,
                }
            };
            if !found {
                if !self.filter.is_empty()
                    && (self.delta()
                        || self.exists("SELECT 1 FROM temp.import_filtered WHERE id = ?1", enr)?)
                {
                    rep.filtered += 1;
                } else {
                    rep.skip(
                        "unknown EnrollmentID (not in Enrollment.csv or skipped there)",
                        line,
                    );
                }
                continue;
            }
            if !self.first_seen(SEEN_EXIT, id)? {
                rep.skip("duplicate ExitID (first row kept)", line);
                continue;
            }
            if ins.execute(params![id, enr, client, date])? == 1 {
                rep.kept += 1;
                // Both are yyyy-mm-dd: text order is date order.
                if *date < *entry {
                    rep.warn("ExitDate before EntryDate (kept: enrollment closed)", line);
                }
            } else {
                rep.skip("duplicate ExitID (first row kept)", line);
            }
        }
        Ok(rep)
    }
}

/// Drop the secondary indexes of the data tables; returns the SQL to create them again.
fn drop_indexes(tx: &Transaction<'_>) -> rusqlite::Result<Vec<String>> {
    let mut st = tx.prepare(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND sql IS NOT NULL
           AND tbl_name IN ('projects', 'clients', 'enrollments', 'exits')",
    )?;
    let list: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(st);
    for (name, _) in &list {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(list.into_iter().map(|(_, sql)| sql).collect())
}
