//! Batches and their entries, under `/api/v1` (supervisor only):
//! `POST /batches`, `GET /batches?state=`, `GET /batches/{id}`, `POST /batches/{id}/entries`,
//! `DELETE /batches/{id}/entries/{entry_id}`, `POST /batches/{id}/remove-flagged`,
//! `POST /batches/{id}/reload`, `POST /batches/{id}/post`, `GET /batches/{id}/roster`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Supervisor;
use super::{json, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, WebState};
use crate::app::{AddEntry, App, NewBatchRequest};
use crate::domain::rules::BatchState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/batches", post(create_batch).get(list_batches))
        .route("/batches/{id}", get(get_batch))
        .route("/batches/{id}/entries", post(add_entry))
        .route("/batches/{id}/entries/{entry_id}", delete(remove_entry))
        .route("/batches/{id}/remove-flagged", post(remove_flagged))
        .route("/batches/{id}/reload", post(reload))
        .route("/batches/{id}/post", post(post_batch))
        .route("/batches/{id}/roster", get(roster))
}

/// `POST /batches` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBatchBody {
    project_id: String,
    service_code: String,
    service_date: Option<String>,
    units: Option<f64>,
    unit_value: Option<String>,
    name: Option<String>,
    lane: Option<String>,
}

async fn create_batch(
    State(app): State<App>,
    s: Supervisor,
    ApiJson(b): ApiJson<NewBatchBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let req = NewBatchRequest {
        project_id: b.project_id,
        service_code: b.service_code,
        service_date: b.service_date,
        units: b.units,
        unit_value: b.unit_value,
        name: b.name,
        lane: b.lane,
    };
    let batch = app.create_batch(req, &s.name).await?;
    Ok((StatusCode::CREATED, Json(json::batch(&batch))))
}

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn list_batches(
    State(app): State<App>,
    _s: Supervisor,
    ApiQuery(q): ApiQuery<StateQuery>,
) -> ApiResult<Json<Value>> {
    let state = match q.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(BatchState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "bad_state",
                format!("state {s:?} is not \"open\" or \"posted\""),
            )
        })?),
    };
    let list = app.batches(state).await?;
    Ok(Json(Value::Array(list.iter().map(json::batch).collect())))
}

async fn get_batch(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json::batch(&app.batch(&id, true).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    code: Option<String>,
    client_id: Option<String>,
    scan_id: Option<i64>,
    source: Option<String>,
}

async fn add_entry(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
    ApiJson(body): ApiJson<EntryBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let source = body.source.unwrap_or_else(|| "manual".into());
    if !matches!(source.as_str(), "manual" | "roster" | "lost_card") {
        return Err(ApiError::bad_request(
            "bad_source",
            format!("source {source:?} is not one of manual, roster, lost_card"),
        ));
    }
    let what = match (body.code, body.client_id, body.scan_id) {
        (Some(c), None, None) => AddEntry::Code(c),
        (None, Some(c), None) => AddEntry::ClientId(c),
        (None, None, Some(s)) => AddEntry::Scan(s),
        _ => {
            return Err(ApiError::bad_request(
                "one_of_code_client_scan",
                "give exactly one of \"code\", \"client_id\" or \"scan_id\"",
            ))
        }
    };
    let (entry, served) = app.add_entry(&batch_id, what, &source, &s.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json::entry_served(&entry, served)),
    ))
}

async fn remove_entry(
    State(app): State<App>,
    s: Supervisor,
    ApiPath((batch_id, entry_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    app.remove_entry(&batch_id, &entry_id, &s.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_flagged(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let n = app.remove_flagged(&batch_id, &s.name).await?;
    Ok(Json(json!({ "removed": n })))
}

async fn reload(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json::batch(&app.reload(&batch_id).await?)))
}

async fn post_batch(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let n = app
        .post(&batch_id, &s.name, s.hmis_user_id.as_deref())
        .await?;
    Ok(Json(json!({ "posted": n })))
}

async fn roster(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let rows = app.roster(&batch_id).await?;
    let served = app.served_today(&batch_id).await?;
    Ok(Json(Value::Array(
        rows.iter().map(|r| json::roster_row(r, &served)).collect(),
    )))
}
