//! The errors a station operation can end in, typed, each with a message a person can act on.
//! The web layer maps them to HTTP statuses (`crate::web::ApiError`).

use crate::domain::rules::{BatchRefusal, DateRefusal};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be used (bad field, unknown project or service...).
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The batch is posted, or the post is refused.
    #[error(transparent)]
    Refused(#[from] BatchRefusal),
    #[error(transparent)]
    Date(#[from] DateRefusal),
    /// A state conflict other than the batch rules (e.g. binding a lane to a posted batch).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Store(StoreError::Sql(e))
    }
}

pub type AppResult<T> = Result<T, AppError>;
