//! Supervisor routes for deliveries, under /api/v1:
//! - `GET /deliveries?state=queued|delivered|failed&batch_id=...&limit=...`
//! - `GET /deliveries/{id}`
//! - `POST /deliveries/{id}/retry`: queue a parked delivery again (same key, same services), or
//!   make a queued one due now.
//! - `POST /batches/{id}/retry-delivery`: queue every parked delivery of a batch again.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::App;

use super::outbox;
use super::WorkerError;

pub use placeholder::Supervisor;

/// Stand-in until the web layer's supervisor extractor is merged: refuses every request.
mod placeholder {
    use axum::extract::FromRequestParts;
    use axum::http::request::Parts;
    use axum::http::StatusCode;

    use crate::app::App;

    pub struct Supervisor {
        pub name: String,
    }

    impl FromRequestParts<App> for Supervisor {
        type Rejection = StatusCode;
        async fn from_request_parts(_: &mut Parts, _: &App) -> Result<Self, StatusCode> {
            Err(StatusCode::UNAUTHORIZED)
        }
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/deliveries", get(list))
        .route("/deliveries/{id}", get(one))
        .route("/deliveries/{id}/retry", post(retry))
        .route("/batches/{id}/retry-delivery", post(retry_batch))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({"error": message.into()}))).into_response()
}

impl IntoResponse for WorkerError {
    fn into_response(self) -> Response {
        log::error!("upstream api: {self}");
        error(StatusCode::INTERNAL_SERVER_ERROR, self.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    batch_id: Option<String>,
    limit: Option<usize>,
}

async fn list(
    _sup: Supervisor,
    State(app): State<App>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WorkerError> {
    if let Some(s) = &q.state {
        if !matches!(s.as_str(), "queued" | "delivered" | "failed") {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                format!("state {s:?} is not queued, delivered or failed"),
            ));
        }
    }
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let rows = app
        .store
        .call(move |c| {
            outbox::list(c, q.state.as_deref(), q.batch_id.as_deref(), limit)
                .map_err(WorkerError::from)
        })
        .await?;
    Ok(Json(serde_json::json!({"deliveries": rows})).into_response())
}

async fn one(
    _sup: Supervisor,
    State(app): State<App>,
    Path(id): Path<i64>,
) -> Result<Response, WorkerError> {
    let row = app
        .store
        .call(move |c| outbox::get(c, id).map_err(WorkerError::from))
        .await?;
    Ok(match row {
        Some(d) => Json(d).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("delivery {id} not found")),
    })
}

async fn retry(
    sup: Supervisor,
    State(app): State<App>,
    Path(id): Path<i64>,
) -> Result<Response, WorkerError> {
    let row = app
        .store
        .call(move |c| {
            let changed = outbox::retry(c, id)? || outbox::hurry(c, id)?;
            Ok::<_, WorkerError>((changed, outbox::get(c, id)?))
        })
        .await?;
    Ok(match row {
        (_, None) => error(StatusCode::NOT_FOUND, format!("delivery {id} not found")),
        (false, Some(_)) => error(
            StatusCode::CONFLICT,
            format!("delivery {id} is already delivered"),
        ),
        (true, Some(d)) => {
            log::info!(
                "upstream: delivery {id} of batch {} queued again by a supervisor",
                d.batch_id
            );
            let _ = &sup.name;
            app.outbox_notify.notify_one();
            Json(d).into_response()
        }
    })
}

async fn retry_batch(
    _sup: Supervisor,
    State(app): State<App>,
    Path(batch_id): Path<String>,
) -> Result<Response, WorkerError> {
    let b = batch_id.clone();
    let (exists, n) = app
        .store
        .call(move |c| {
            let exists: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE batch_id = ?1)",
                [&b],
                |r| r.get(0),
            )?;
            Ok::<_, WorkerError>((exists, outbox::retry_batch(c, &b)?))
        })
        .await?;
    if !exists {
        return Ok(error(
            StatusCode::NOT_FOUND,
            format!("batch {batch_id} has no deliveries"),
        ));
    }
    if n > 0 {
        log::info!("upstream: {n} deliveries of batch {batch_id} queued again by a supervisor");
        app.outbox_notify.notify_one();
    }
    Ok(Json(serde_json::json!({"requeued": n})).into_response())
}
