//! Lanes and scans, under `/api/v1`: `GET /lanes` and `PUT /lanes/{lane}` (supervisor),
//! `GET /lanes/{lane}` (public: what the lane screen shows, counts only), `POST
//! /lanes/{lane}/scans` (public: a scan exactly as a scanner on that lane would send it),
//! `GET /scans/unassigned` and `DELETE /scans/unassigned/{scan_id}` (supervisor).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Supervisor;
use super::{json, ApiJson, ApiPath, ApiResult, WebState};
use crate::app::App;
use crate::store::batches::ScanOutcome;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/lanes", get(list_lanes))
        .route("/lanes/{lane}", get(lane_screen).put(bind_lane))
        .route("/lanes/{lane}/scans", post(lane_scan))
        .route("/scans/unassigned", get(unassigned))
        .route("/scans/unassigned/{scan_id}", delete(dismiss))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindBody {
    batch_id: Option<String>,
}

async fn bind_lane(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(lane): ApiPath<String>,
    ApiJson(body): ApiJson<BindBody>,
) -> ApiResult<Json<Value>> {
    app.bind_lane(&lane, body.batch_id.as_deref()).await?;
    Ok(Json(json::lane_binding(&lane, body.batch_id.as_deref())))
}

async fn list_lanes(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let lanes = app.lanes_with_defaults().await?;
    Ok(Json(Value::Array(
        lanes.iter().map(json::lane_info).collect(),
    )))
}

async fn lane_screen(
    State(app): State<App>,
    ApiPath(lane): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json::lane_screen(&app.lane_screen(&lane).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    code: String,
}

async fn lane_scan(
    State(app): State<App>,
    ApiPath(lane): ApiPath<String>,
    ApiJson(body): ApiJson<ScanBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    match app.scan(&lane, &body.code, "api").await? {
        ScanOutcome::Entry { entry, served } => Ok((
            StatusCode::CREATED,
            Json(json::entry_served(&entry, served)),
        )),
        ScanOutcome::Unassigned(u) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "unassigned": json::unassigned(&u) })),
        )),
    }
}

async fn unassigned(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let list = app.unassigned_scans_named().await?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|(scan, name)| {
                let mut v = json::unassigned(scan);
                v["display_name"] = json!(name);
                v
            })
            .collect(),
    )))
}

async fn dismiss(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(scan_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.dismiss_scan(scan_id, &s.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
