//! HUD HMIS CSV import: a folder or a .zip of an FY2024 or FY2026 export into the station's copy
//! of the HMIS (written through [`crate::store::hmis::ImportTx`]; this module parses, validates,
//! decides and reports). docs/IMPORT.md tells the same for people running imports.
//!
//! # What is read
//! `Export.csv` (required), `Organization.csv` (only checked), `Project.csv`, `Client.csv`,
//! `Enrollment.csv`, `Exit.csv` and `Services.csv`. Other files (`Disabilities.csv`, ...) are
//! never opened. In a .zip the files may sit in a subfolder. File names and column headers are
//! matched ignoring case; columns are found by header name, never by position, so the FY2024 and
//! FY2026 layouts both work. UTF-8 BOM, CRLF and quoted fields are accepted. Dates may be
//! `yyyy-mm-dd` or `mm-dd-yyyy` (or `m/d/yyyy`, as a spreadsheet saves them), optionally followed
//! by a time; DateUpdated also takes two-digit years (see [`fields::date_updated`]).
//!
//! Only what the station needs is stored: projects (ID, organization, name, type), clients
//! (PersonalID, first name, last initial, `last_name_key`, DOB), enrollments (ID, client, project,
//! household, relationship to head of household, entry date), exits (ID, enrollment, client, exit
//! date), services already in the HMIS (ServicesID, PersonalID, EnrollmentID, DateProvided,
//! RecordType, TypeProvided), and each record's DateUpdated day. SSNs and full last names are
//! never stored. In a hashed export (HashStatus 2, 3 or 4) the name columns hold hashes: no name
//! is stored at all (the screen shows a neutral label, name search says it cannot work; DOB
//! search still does), and the report warns once. A name that looks like a digest (32 or more hex
//! digits) is never stored either, whatever HashStatus says.
//!
//! # Which export: Export.csv
//! Export.csv may hold several rows: the row used is the one whose ExportID the other files
//! carry, and then a file carrying another ExportID refuses the import (file:line:column, both
//! IDs). With a single row, a file carrying another ExportID is loaded with a warning. The
//! directive, the period, CSVVersion and HashStatus come from the row used.
//!
//! # Export directive
//! - `2` full refresh: each file read replaces its table (records the export does not carry are
//!   removed). Client, Enrollment and Exit are required; Project, Organization and Services may be
//!   absent (their tables are then left as they are).
//! - `1` delta: rows are upserted by ID; a row with DateDeleted set deletes exactly the record it
//!   names (a deleted exit re-opens its enrollment; a deleted client makes its scans
//!   `unknown_client`). Every file is optional.
//! - `3` ("Other" in HUD list 1.2, used by some vendors' and test exports): a **full refresh of the
//!   files it carries**, since an "other" export cannot be trusted to describe changes only; a file
//!   it leaves out changes nothing (test and vendor exports leave files out on purpose). Any other
//!   value refuses the import.
//!
//! # DateUpdated, per record, in every mode
//! A row replaces what the station holds for its ID only when its DateUpdated is the **same day
//! or newer** (compared by day: the greenriver importer's fixtures expect a same-day row with an
//! earlier time to win). An older row is counted as `older` and changes nothing, also in a full
//! refresh (an old export picked up again must not roll records back). A deleted record is
//! remembered by key and day: an older copy does not bring it back, a same-day-or-newer row
//! without DateDeleted restores it (`restored`). A primary key twice in one file is **folded**:
//! the row with the newer DateUpdated wins (same day: the later row), and the report says how many
//! rows were folded. A row without DateUpdated always applies.
//!
//! # Project filter
//! With [`ImportOptions::projects`] non-empty, only those projects and their enrollments (and the
//! exits of kept enrollments) are kept; the rest is counted as "outside station projects".
//! **Every client keeps a row**: a client enrolled only elsewhere who scans at the door must get
//! `no_open_enrollment` (staff enroll them in HMIS and reload the batch), not `unknown_client`,
//! which tells staff the card itself is wrong. But only the minimum necessary: such a client keeps
//! the client ID and the display name (first name, last initial); the DOB and the last-name search
//! key are kept only for clients with an enrollment in the station's projects (a meal line's
//! station must not hold the whole continuum's dates of birth). When a later delta adds such an
//! enrollment, the client's DOB and search key come back with the client's next row: in the same
//! delta if the HMIS sent the client record too, else at the next full refresh; until then the
//! client scans and gets verdicts normally and is found by client ID or first name, not by last
//! name or DOB. Services of every project are kept: a bed night recorded by another shelter is
//! exactly what makes a scan here a duplicate.
//!
//! # Validation: refuse or skip
//! An import runs in one transaction: when it is refused, nothing changes. It is **refused**
//! (file, line and column) when the export is not what the station takes it for:
//! - Export.csv or a file the directive requires is missing; a required column is missing or
//!   appears twice; Export.csv has no usable row or a bad ExportDirective; the files disagree on
//!   the ExportID when Export.csv has several rows;
//! - the CSV cannot be parsed (e.g. a quote that never closes);
//! - a date the station uses (EntryDate, ExitDate, DOB, DateProvided, DateUpdated, ExportDate) is
//!   present but in no accepted format (`2024-13-01`): usually a wrong date setting in the
//!   export, which would affect every row;
//! - an ID field is not UTF-8.
//!
//! A single **row is skipped and reported** (count and the first line numbers) when it is
//! incomplete or inconsistent, so that one odd row among thousands does not leave a station
//! without data: a row with more or fewer fields than the header; a required ID or date that is
//! empty; an enrollment naming a client or project that is not there, an exit naming an
//! enrollment that is not there, a service naming an unknown client. Rows are **kept with a
//! warning** when the oddity does not touch the verdict rules: a code outside the HUD list, an
//! ExitDate before the EntryDate, a name that is not UTF-8.
//!
//! # Streaming
//! Files are read row by row with a reused [`csv::ByteRecord`]; every statement is prepared once.
//! Memory does not grow with file size. On a full refresh the secondary indexes are dropped and
//! rebuilt after loading.

mod csvio;
mod export_row;
mod fields;
mod load;
mod source;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::store::hmis::{self, ImportMeta, ImportTotals, ImportTx};
use crate::store::{snapshot, StoreError};
use source::Source;

pub use crate::store::hmis::{data_status, DataStatus};

/// What to keep from an export.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// ProjectIDs to keep; empty keeps all.
    pub projects: Vec<String>,
    /// Where the data came from, recorded instead of the file's path when the file is only a
    /// download (the scheduled pull's URL).
    pub origin: Option<String>,
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
    #[error("{file} is missing from {path} (required: {why})")]
    MissingFile {
        file: &'static str,
        path: String,
        why: &'static str,
    },
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
    #[error("{file}:{line}:{column} (ExportID): carries ExportID {found:?}, but {other_file}:{other_line} carries {expected:?}; the files are not from one export")]
    ExportIdMismatch {
        file: &'static str,
        line: u64,
        column: usize,
        found: String,
        expected: String,
        other_file: &'static str,
        other_line: u64,
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Store(StoreError::from(e))
    }
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

/// Counts for one file. Every data row read is counted once in exactly one of kept, deleted,
/// folded, older, filtered or skipped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    /// Data rows read (header excluded).
    pub read: u64,
    /// Records stored (inserted or replaced).
    pub kept: u64,
    /// Rows with DateDeleted set: the record is deleted (or stays deleted).
    pub deleted: u64,
    /// Rows whose primary key an earlier row of the same file carried (the newer won).
    pub folded: u64,
    /// Of the kept records, how many had been deleted before and came back.
    pub restored: u64,
    /// Rows older (by DateUpdated) than the record the station holds: not applied.
    pub older: u64,
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
    pub csv_version: String,
    pub hash_status: Option<i64>,
    /// ExportStartDate and ExportEndDate (yyyy-mm-dd).
    pub period: (Option<String>, Option<String>),
    /// How many rows Export.csv had (the report says which was used when more than one).
    pub export_rows: usize,
    /// Said once for the whole import (hashed names, ...).
    pub notes: Vec<String>,
    /// Files in the order they were read.
    pub files: Vec<FileReport>,
}

impl ImportReport {
    pub fn file(&self, name: &str) -> Option<&FileReport> {
        self.files
            .iter()
            .find(|f| f.file.eq_ignore_ascii_case(name))
    }

    /// Sums over the files.
    pub fn totals(&self) -> ImportTotals {
        let mut t = ImportTotals::default();
        for f in &self.files {
            t.kept += f.kept;
            t.deleted += f.deleted;
            t.skipped += f.skipped_total();
            t.folded += f.folded;
            t.restored += f.restored;
            t.older += f.older;
        }
        t
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match (self.directive, self.mode) {
            (1, _) => "1 (delta)".to_string(),
            (2, _) => "2 (full refresh)".to_string(),
            (d, Mode::FullRefresh) => {
                format!("{d} (other), treated as a full refresh of the files it carries")
            }
            (d, Mode::Delta) => format!("{d} (other), treated as a delta"),
        };
        writeln!(
            f,
            "Imported export {} of {} from {}: ExportDirective {}",
            self.export_id, self.export_date, self.source, how
        )?;
        let hash = match self.hash_status {
            Some(h) if hmis::is_hashed(Some(h)) => format!("{h} (hashed)"),
            Some(h) => h.to_string(),
            None => "not given".to_string(),
        };
        writeln!(
            f,
            "  CSVVersion {:?}, HashStatus {hash}, period {} to {}",
            self.csv_version,
            self.period.0.as_deref().unwrap_or("?"),
            self.period.1.as_deref().unwrap_or("?")
        )?;
        if self.export_rows > 1 {
            writeln!(
                f,
                "  Export.csv has {} rows; used the one with ExportID {}, which the files carry",
                self.export_rows, self.export_id
            )?;
        }
        for n in &self.notes {
            writeln!(f, "  warning: {n}")?;
        }
        for r in &self.files {
            write!(
                f,
                "  {:<17} read {:>7}  kept {:>7}  deleted {:>5}  skipped {:>4}  folded {:>4}  restored {:>4}",
                r.file, r.read, r.kept, r.deleted, r.skipped_total(), r.folded, r.restored
            )?;
            if r.older > 0 {
                write!(f, "  older than the station's {}", r.older)?;
            }
            if r.filtered > 0 {
                write!(f, "  outside station projects {}", r.filtered)?;
            }
            writeln!(f)?;
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
        let t = self.totals();
        writeln!(
            f,
            "  total: kept {}, deleted {}, skipped {}, folded {}, restored {}, older {}",
            t.kept, t.deleted, t.skipped, t.folded, t.restored, t.older
        )
    }
}

pub(crate) const EXPORT: &str = "Export.csv";
pub(crate) const ORGANIZATION: &str = "Organization.csv";
pub(crate) const PROJECT: &str = "Project.csv";
pub(crate) const CLIENT: &str = "Client.csv";
pub(crate) const ENROLLMENT: &str = "Enrollment.csv";
pub(crate) const EXIT: &str = "Exit.csv";
pub(crate) const SERVICES: &str = "Services.csv";
/// The files read after Export.csv, in the order they are loaded (references point backwards).
pub(crate) const DATA_FILES: [&str; 6] =
    [ORGANIZATION, PROJECT, CLIENT, ENROLLMENT, EXIT, SERVICES];
/// What a full refresh (directive 2) cannot do without: without them it would empty the station.
const FULL_REFRESH_REQUIRED: [&str; 3] = [CLIENT, ENROLLMENT, EXIT];

/// Import the HUD HMIS CSV export at `path` (folder or .zip) into the station whose database
/// `conn` is open on, then re-attach `conn` to the new enrollment snapshot (see
/// [`import_station`]).
pub fn import_path(
    conn: &mut rusqlite::Connection,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let db = snapshot::main_path(conn)?;
    let report = import_station(&db, path, opts)?;
    snapshot::ensure_current(conn)?;
    Ok(report)
}

/// Import the export at `path` into the station whose main database is `db`, through a
/// connection of the import's own: a full refresh builds the next snapshot generation aside and
/// publishes it, a delta is one transaction on the live snapshot. Either way the station's
/// connections are never blocked, and a refused file changes nothing. One import at a time
/// (across processes): a second waits for the first.
pub fn import_station(
    db: &Path,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let export = Prepared::open(path)?;
    let lock = snapshot::ImportLock::acquire(db)?;
    match export.mode {
        Mode::Delta => {
            let mut conn = snapshot::open_live(db, &lock)?;
            export.apply(&mut conn, opts)
        }
        Mode::FullRefresh => {
            let mut next = snapshot::Building::start(db, &lock)?;
            let report = export.apply(next.conn(), opts)?;
            next.publish()?;
            Ok(report)
        }
    }
}

/// An export whose Export.csv was read and checked: which row, which mode.
struct Prepared {
    src: Source,
    shown: String,
    export: export_row::ExportRow,
    id_check: export_row::IdCheck,
    export_rows: usize,
    mode: Mode,
}

impl Prepared {
    fn open(path: &Path) -> Result<Prepared, ImportError> {
        let shown = path.display().to_string();
        let mut src = Source::open(path)?;
        if !src.has(EXPORT) {
            return Err(ImportError::MissingFile {
                file: EXPORT,
                path: shown,
                why: "it says which export this is",
            });
        }
        let (export, id_check, export_rows) = export_row::choose(&mut src, &shown)?;
        let mode = match export.directive {
            1 => Mode::Delta,
            _ => Mode::FullRefresh,
        };
        if export.directive == 2 {
            for file in FULL_REFRESH_REQUIRED {
                if !src.has(file) {
                    return Err(ImportError::MissingFile {
                        file,
                        path: shown,
                        why: "a full refresh (ExportDirective 2) replaces the station's data \
                              with the export, and without this file it would remove every \
                              record of it",
                    });
                }
            }
        }
        Ok(Prepared {
            src,
            shown,
            export,
            id_check,
            export_rows,
            mode,
        })
    }

    /// Load the files into the snapshot `conn` is open on, in one transaction.
    fn apply(
        self,
        conn: &mut rusqlite::Connection,
        opts: &ImportOptions,
    ) -> Result<ImportReport, ImportError> {
        let Prepared {
            mut src,
            shown,
            export,
            id_check,
            export_rows,
            mode,
        } = self;
        let hashed = hmis::is_hashed(export.hash_status);
        let filter: HashSet<&str> = opts.projects.iter().map(|p| p.trim()).collect();

        let mut tx = ImportTx::begin(conn)?;
        if mode == Mode::FullRefresh {
            tx.drop_indexes()?;
        }
        let mut loader = load::Loader {
            tx: &tx,
            mode,
            filter,
            hashed,
            ids: &id_check,
        };
        let mut files = Vec::new();
        for file in DATA_FILES {
            if let Some(report) = src.with_reader(file, |r| loader.file(file, r))? {
                files.push(report);
            }
        }
        let filtered = !loader.filter.is_empty();
        drop(loader);
        if filtered {
            tx.keep_minimum_of_clients_elsewhere()?;
        }

        let mut notes = Vec::new();
        if hashed {
            notes.push(format!(
            "HashStatus {}: names in this export are hashes. No name was stored: the screen shows \
             a neutral label instead, and name search is unavailable (search by client ID or date \
             of birth).",
            export.hash_status.unwrap_or(0)
        ));
        }
        let imported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = ImportReport {
            source: shown,
            imported_at,
            export_id: id_check.export_id().to_string(),
            export_date: export.export_date,
            directive: export.directive,
            mode,
            csv_version: export.csv_version,
            hash_status: export.hash_status,
            period: (export.start, export.end),
            export_rows,
            notes,
            files,
        };
        let totals = report.totals();
        tx.finish(&ImportMeta {
            imported_at: &report.imported_at,
            source: opts.origin.as_deref().unwrap_or(&report.source),
            export_id: &report.export_id,
            export_date: &report.export_date,
            directive: report.directive,
            csv_version: &report.csv_version,
            hash_status: report.hash_status,
            period_start: report.period.0.as_deref(),
            period_end: report.period.1.as_deref(),
            totals: &totals,
        })?;
        Ok(report)
    }
}
