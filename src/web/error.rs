//! Error answers: a status, `{"error": "<English sentence>", "code": "<stable_code>"}`, and
//! details for some (`entries` of a refused post, `retry_after_seconds` of a locked login).
//! Internal errors are logged in full and answered with a generic sentence: no SQLite text or
//! file path reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Fields added beside `error` and `code`.
    pub extra: Option<Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
            retry_after: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "supervisor login required (POST /api/v1/session with the PIN)",
        )
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }
    /// Something failed inside: `detail` goes to the log, the client gets a generic sentence.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        log::error!("internal error: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error: the station could not do this; the details are in its log",
        )
    }
    pub fn with_extra(mut self, extra: Value) -> ApiError {
        self.extra = Some(extra);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message, "code": self.code });
        if let (Some(b), Some(Value::Object(extra))) = (body.as_object_mut(), self.extra) {
            b.extend(extra);
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let code = e.code();
        let status = match &e {
            AppError::Invalid { .. }
            | AppError::Date(_)
            | AppError::Import(_)
            | AppError::Export(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Refused(_) | AppError::Flagged(_) | AppError::Conflict { .. } => {
                StatusCode::CONFLICT
            }
            AppError::Disk { fault, .. } => match fault {
                crate::store::DiskFault::Full => StatusCode::INSUFFICIENT_STORAGE,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            },
            AppError::Store(s) => return ApiError::internal(s),
        };
        let mut err = ApiError::new(status, code, e.to_string());
        if let AppError::Flagged(entries) = &e {
            let entries: Vec<Value> = entries.iter().map(super::json::entry).collect();
            err = err.with_extra(json!({ "entries": entries }));
        }
        err
    }
}
