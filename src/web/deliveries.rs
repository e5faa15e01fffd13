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

use super::auth::Supervisor;
use super::{json, ApiError, ApiPath, ApiQuery, ApiResult, WebState};
use crate::app::App;
use crate::store::outbox::DeliveryState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/deliveries", get(list))
        .route("/deliveries/{id}", get(one))
        .route("/deliveries/{id}/retry", post(retry))
        .route("/batches/{id}/retry-delivery", post(retry_batch))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    state: Option<String>,
    batch_id: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(app): State<App>,
    _sup: Supervisor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "bad_state",
                format!("state {s:?} is not queued, delivered or failed"),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let rows = app.deliveries(state, q.batch_id, limit).await?;
    let rows: Vec<Value> = rows.iter().map(json::delivery).collect();
    Ok(Json(json!({ "deliveries": rows })))
}

async fn one(
    State(app): State<App>,
    _sup: Supervisor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json::delivery(&app.delivery(id).await?)))
}

async fn retry(
    State(app): State<App>,
    sup: Supervisor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json::delivery(
        &app.retry_delivery(id, &sup.name).await?,
    )))
}

async fn retry_batch(
    State(app): State<App>,
    sup: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let n = app.retry_batch_delivery(&batch_id, &sup.name).await?;
    Ok(Json(json!({ "requeued": n })))
}
