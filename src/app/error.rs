//! The errors a use case can end in: typed, each with a sentence a person can act on and a
//! stable code for machines (the UI translates by code). The web layer maps each to a status.

use crate::domain::rules::{BatchRefusal, DateRefusal};
use crate::import::ImportError;
use crate::store::batches::Entry;
use crate::store::{DiskFault, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be used (bad field, unknown project or service...).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// No such batch, entry, scan or delivery.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A batch rule refused the change (posted batch, nothing ok to post).
    #[error(transparent)]
    Refused(#[from] BatchRefusal),
    /// The service date is in the future or too far back.
    #[error(transparent)]
    Date(#[from] DateRefusal),
    /// Post refused: these entries are flagged.
    #[error("{} entries are flagged: remove them, or fix the data and reload, before posting", .0.len())]
    Flagged(Vec<Entry>),
    /// A state conflict other than the batch rules (e.g. retrying a delivered delivery).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An import refused the file (nothing changed).
    #[error(transparent)]
    Import(ImportError),
    /// The disk refused the write (full, read-only, failing): nothing of it was kept. `detail`
    /// (SQLite's words) is for the log.
    #[error("{}", disk_message(*.fault))]
    Disk { fault: DiskFault, detail: String },
    /// An export could not be written (bad date range, unwritable file).
    #[error("{0:#}")]
    Export(anyhow::Error),
    /// The store failed (SQLite, a damaged stored value): logged in full, answered generically.
    #[error(transparent)]
    Store(StoreError),
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable machine code of this error (`{"code": ...}` in the API).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::NotFound { what, .. } => match *what {
                "batch" => "unknown_batch",
                "entry" => "unknown_entry",
                "unassigned scan" => "unknown_scan",
                "delivery" => "unknown_delivery",
                "project" => "unknown_project",
                "deliveries of batch" => "no_deliveries",
                _ => "not_found",
            },
            AppError::Refused(r) => match r {
                BatchRefusal::Frozen => "batch_posted",
                BatchRefusal::Flagged(_) => "flagged_entries",
                BatchRefusal::NothingOk => "nothing_to_post",
                BatchRefusal::UnknownService(_) => "unknown_service",
            },
            AppError::Date(d) => match d {
                DateRefusal::Future(..) => "date_in_future",
                DateRefusal::TooOld(..) => "date_too_old",
            },
            AppError::Flagged(_) => "flagged_entries",
            AppError::Import(_) => "import_refused",
            AppError::Disk { fault, .. } => match fault {
                DiskFault::Full => "disk_full",
                DiskFault::ReadOnly => "read_only",
                DiskFault::Io => "disk_error",
            },
            AppError::Export(_) => "export_failed",
            AppError::Store(_) => "internal",
        }
    }
}

/// What a person is told when the disk refused a write.
fn disk_message(fault: DiskFault) -> &'static str {
    match fault {
        DiskFault::Full => {
            "the station's disk is full: this was NOT recorded; free space on the station, then \
             try again"
        }
        DiskFault::ReadOnly => {
            "the station's disk has turned read-only: this was NOT recorded; the station needs IT"
        }
        DiskFault::Io => {
            "the station's disk failed to write: this was NOT recorded; the station \
                          needs IT"
        }
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Store(s @ StoreError::Disk { .. }) => s.into(),
            other => AppError::Import(other),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Disk { fault, source } => AppError::Disk {
                fault,
                detail: source.to_string(),
            },
            StoreError::NotFound { what, id } => AppError::NotFound { what, id },
            StoreError::Refused(r) => AppError::Refused(r),
            StoreError::DateRefused(d) => AppError::Date(d),
            other => AppError::Store(other),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
