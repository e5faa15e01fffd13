//! Supervisor routes for deliveries, under /api/v1:
//! - `GET /deliveries?state=queued|delivered|failed&batch_id=...&limit=...`
//! - `GET /deliveries/{id}`
//! - `POST /deliveries/{id}/retry`: queue a parked delivery again (same key, same services), or
//!   make a queued one due now. 409 when it is already delivered.
//! - `POST /batches/{id}/retry-delivery`: queue every parked delivery of a batch again
//!   (`{"requeued": n}`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::App;
use crate::store::StoreError;
use crate::web::auth::Supervisor;
use crate::web::{ApiError, ApiPath, ApiQuery};

use super::outbox;
use super::WorkerError;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/deliveries", get(list))
        .route("/deliveries/{id}", get(one))
        .route("/deliveries/{id}/retry", post(retry))
        .route("/batches/{id}/retry-delivery", post(retry_batch))
}

impl From<WorkerError> for ApiError {
    fn from(e: WorkerError) -> Self {
        match e {
            WorkerError::Store(s) => ApiError::from(s),
            WorkerError::Sql(s) => ApiError::from(StoreError::Sql(s)),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    batch_id: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(app): State<App>,
    _sup: Supervisor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(s) = &q.state {
        if !matches!(s.as_str(), "queued" | "delivered" | "failed") {
            return Err(ApiError::BadRequest(format!(
                "state {s:?} is not queued, delivered or failed"
            )));
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
    Ok(Json(json!({ "deliveries": rows })))
}

async fn one(
    State(app): State<App>,
    _sup: Supervisor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let row = app
        .store
        .call(move |c| outbox::get(c, id).map_err(WorkerError::from))
        .await?;
    match row {
        Some(d) => Ok(Json(json!(d))),
        None => Err(ApiError::NotFound(format!("delivery {id} not found"))),
    }
}

async fn retry(
    State(app): State<App>,
    sup: Supervisor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (changed, row) = app
        .store
        .call(move |c| {
            let changed = outbox::retry(c, id)? || outbox::hurry(c, id)?;
            Ok::<_, WorkerError>((changed, outbox::get(c, id)?))
        })
        .await?;
    match (changed, row) {
        (_, None) => Err(ApiError::NotFound(format!("delivery {id} not found"))),
        (false, Some(_)) => Err(ApiError::Conflict(
            format!("delivery {id} is already delivered"),
            json!({}),
        )),
        (true, Some(d)) => {
            log::info!(
                "upstream: delivery {id} of batch {} queued again by supervisor {}",
                d.batch_id,
                sup.name
            );
            app.outbox_notify.notify_one();
            Ok(Json(json!(d)))
        }
    }
}

async fn retry_batch(
    State(app): State<App>,
    sup: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
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
        return Err(ApiError::NotFound(format!(
            "batch {batch_id} has no deliveries"
        )));
    }
    if n > 0 {
        log::info!(
            "upstream: {n} deliveries of batch {batch_id} queued again by supervisor {}",
            sup.name
        );
        app.outbox_notify.notify_one();
    }
    Ok(Json(json!({ "requeued": n })))
}
