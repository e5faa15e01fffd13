//! The HTTP side: JSON API under `/api/v1`, server-sent events, and the kiosk UI.

pub mod api;
pub mod auth;
pub mod events;
pub mod ui;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::error::AppError;

/// An error answer: a status and `{"error": "..."}` (plus details for some).
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized,
    NotFound(String),
    Conflict(String, serde_json::Value),
    TooManyRequests(u64),
    /// Any other status with a message.
    Status(StatusCode, String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({ "error": m })),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({ "error": "supervisor login required (POST /api/v1/session with the PIN)" }),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, json!({ "error": m })),
            ApiError::Conflict(m, extra) => {
                let mut body = json!({ "error": m });
                if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                    b.extend(e.clone());
                }
                (StatusCode::CONFLICT, body)
            }
            ApiError::TooManyRequests(secs) => {
                let mut resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "error": format!("too many wrong PINs: login is locked for {secs} more seconds"),
                        "retry_after_seconds": secs,
                    })),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return resp;
            }
            ApiError::Status(code, m) => (code, json!({ "error": m })),
            ApiError::Internal(m) => {
                log::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": format!("internal error: {m}") }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(m) => ApiError::BadRequest(m),
            AppError::NotFound(m) => ApiError::NotFound(format!("{m} not found")),
            AppError::Date(d) => ApiError::BadRequest(d.to_string()),
            AppError::Refused(r) => ApiError::Conflict(r.to_string(), json!({})),
            AppError::Conflict(m) => ApiError::Conflict(m, json!({})),
            AppError::Store(s) => ApiError::Internal(s.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// `Json` whose rejections are `{"error": ...}` answers.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send JSON with Content-Type: application/json".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!(
                "bad JSON body: {}",
                e.body_text()
            ))),
        }
    }
}

/// `Path` whose rejections are `{"error": ...}` answers.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// `Query` whose rejections are `{"error": ...}` answers.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let api = api::routes()
        .merge(crate::upstream::routes())
        .fallback(|| async { ApiError::NotFound("no such API route".into()) });
    Router::new()
        .nest("/api/v1", api)
        .merge(ui::routes())
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

async fn security_headers(req: Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Serve until `shutdown` turns true; in-flight requests finish, live event streams end.
pub async fn serve(
    app: App,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let events_shutdown = shutdown.clone();
    let router = router(app.clone()).layer(axum::Extension(events::Shutdown(events_shutdown)));
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
