//! The JSON API under `/api/v1`. Without a session only `/healthz`, `/events`, lane scans and the
//! lane screen summary (`GET /lanes/{lane}`, counts only) answer; the rest needs a supervisor.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self, Login, Supervisor};
use super::{events, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::App;
use crate::domain::rules::BatchState;
use crate::error::AppError;
use crate::store::batches::{self, EntryInput, NewBatch, PostError, Poster, ScanOutcome};
use crate::store::clients;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/session", post(login).get(whoami).delete(logout))
        .route("/projects", get(projects))
        .route("/services", get(services))
        .route("/batches", post(create_batch).get(list_batches))
        .route("/batches/{id}", get(get_batch))
        .route("/batches/{id}/entries", post(add_entry))
        .route("/batches/{id}/entries/{entry_id}", delete(remove_entry))
        .route("/batches/{id}/remove-flagged", post(remove_flagged))
        .route("/batches/{id}/reload", post(reload))
        .route("/batches/{id}/post", post(post_batch))
        .route("/batches/{id}/roster", get(roster))
        .route("/lanes", get(list_lanes))
        .route("/lanes/{lane}", get(lane_screen).put(bind_lane))
        .route("/lanes/{lane}/scans", post(lane_scan))
        .route("/scans/unassigned", get(unassigned))
        .route("/scans/unassigned/{scan_id}", delete(dismiss))
        .route("/clients", get(search_clients))
        .route("/status", get(status))
        .route("/events", get(events::events))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

// ---- sessions ------------------------------------------------------------------------------

#[derive(Deserialize)]
struct PinBody {
    pin: String,
}

async fn login(State(app): State<App>, ApiJson(body): ApiJson<PinBody>) -> ApiResult<Response> {
    let app2 = app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        app2.sessions
            .login(&body.pin, &app2.settings.raw.supervisor)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match outcome {
        Login::Ok { token, supervisor } => {
            log::info!("supervisor session opened");
            let mut resp = Json(session_json(&app, &supervisor)).into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, auth::set_cookie(&token));
            Ok(resp)
        }
        Login::Wrong => Err(ApiError::Status(
            StatusCode::UNAUTHORIZED,
            "wrong PIN".into(),
        )),
        Login::Locked { retry_after } => {
            Err(ApiError::TooManyRequests(retry_after.as_secs().max(1)))
        }
    }
}

fn session_json(app: &App, s: &Supervisor) -> Value {
    json!({
        "supervisor": s.name,
        "idle_lock_seconds": app.settings.raw.web.idle_lock_seconds,
    })
}

async fn whoami(State(app): State<App>, s: Supervisor) -> Json<Value> {
    Json(session_json(&app, &s))
}

async fn logout(State(app): State<App>, parts: axum::http::request::Parts) -> Response {
    if let Some(t) = auth::token_from(&parts) {
        app.sessions.logout(&t);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie());
    resp
}

// ---- catalogue -----------------------------------------------------------------------------

async fn projects(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let rows = app
        .store
        .call(|conn| -> Result<Vec<Value>, ApiError> {
            let mut stmt = conn.prepare(
                "SELECT project_id, name, organization_id, project_type FROM projects
                 ORDER BY name COLLATE NOCASE",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(json!({
                    "project_id": r.get::<_, String>(0)?,
                    "name": r.get::<_, String>(1)?,
                    "organization_id": r.get::<_, Option<String>>(2)?,
                    "project_type": r.get::<_, Option<i64>>(3)?,
                }))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    Ok(Json(Value::Array(rows)))
}

async fn services(State(app): State<App>, _s: Supervisor) -> Json<Value> {
    Json(json!(app.settings.services))
}

// ---- batches -------------------------------------------------------------------------------

async fn create_batch(
    State(app): State<App>,
    s: Supervisor,
    ApiJson(nb): ApiJson<NewBatch>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let today = app.today();
    let a = app.clone();
    let batch = app
        .store
        .call(move |conn| batches::create_batch(conn, &a.settings, today, nb, Some(&s.name)))
        .await?;
    let (batch_id, project_id, service_code) = (&batch.id, &batch.project_id, &batch.service_code);
    log::info!(target: "scanstation::batch", batch_id, project_id, service_code; "batch {batch_id} created");
    app.publish_batch(&batch.id);
    Ok((StatusCode::CREATED, Json(json!(batch))))
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
            ApiError::BadRequest(format!("state {s:?} is not \"open\" or \"posted\""))
        })?),
    };
    let a = app.clone();
    let list = app
        .store
        .call(move |conn| batches::list_batches(conn, &a.settings, state))
        .await?;
    Ok(Json(json!(list)))
}

async fn get_batch(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let a = app.clone();
    let b = app
        .store
        .call(move |conn| batches::get_batch(conn, &a.settings, &id, true))
        .await?;
    Ok(Json(json!(b)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    code: Option<String>,
    client_id: Option<String>,
    scan_id: Option<i64>,
    source: Option<String>,
}

fn entry_json(entry: &batches::EntryView, served: i64) -> Value {
    let mut v = json!(entry);
    v["served"] = json!(served);
    v
}

async fn add_entry(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
    ApiJson(body): ApiJson<EntryBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let source = body.source.unwrap_or_else(|| "manual".into());
    if !matches!(source.as_str(), "manual" | "roster" | "lost_card") {
        return Err(ApiError::BadRequest(format!(
            "source {source:?} is not one of manual, roster, lost_card"
        )));
    }
    enum Act {
        Input(EntryInput),
        Scan(i64),
    }
    let act = match (body.code, body.client_id, body.scan_id) {
        (Some(c), None, None) => Act::Input(EntryInput::Code(c)),
        (None, Some(c), None) => Act::Input(EntryInput::ClientId(c)),
        (None, None, Some(s)) => Act::Scan(s),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of \"code\", \"client_id\" or \"scan_id\"".into(),
            ))
        }
    };
    if let Act::Input(EntryInput::Code(c) | EntryInput::ClientId(c)) = &act {
        if c.trim().is_empty() || c.len() > crate::app::MAX_SCAN_LEN {
            return Err(ApiError::BadRequest(format!(
                "the code or client_id must have 1 to {} characters",
                crate::app::MAX_SCAN_LEN
            )));
        }
    }
    let a = app.clone();
    let id = batch_id.clone();
    let (entry, served) = app
        .store
        .call(move |conn| match act {
            Act::Input(input) => batches::add_entry(conn, &a.settings, &id, input, &source),
            Act::Scan(scan_id) => batches::assign_scan(conn, &a.settings, &id, scan_id, &s.name),
        })
        .await?;
    let v = entry_json(&entry, served);
    app.publish_scan(None, &ScanOutcome::Entry { entry, served });
    Ok((StatusCode::CREATED, Json(v)))
}

async fn remove_entry(
    State(app): State<App>,
    s: Supervisor,
    ApiPath((batch_id, entry_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = batch_id.clone();
    app.store
        .call(move |conn| batches::remove_entry(conn, &id, &entry_id, &s.name))
        .await?;
    app.publish_batch(&batch_id);
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_flagged(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let id = batch_id.clone();
    let n = app
        .store
        .call(move |conn| batches::remove_flagged(conn, &id, &s.name))
        .await?;
    log::info!(target: "scanstation::batch", batch_id, count = n; "batch {batch_id}: {n} flagged entries removed");
    app.publish_batch(&batch_id);
    Ok(Json(json!({ "removed": n })))
}

async fn reload(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let a = app.clone();
    let id = batch_id.clone();
    let b = app
        .store
        .call(move |conn| {
            batches::reload_batch(conn, &a.settings, &id)?;
            batches::get_batch(conn, &a.settings, &id, true)
        })
        .await?;
    let (ok, flagged) = (b.counts.ok, b.counts.flagged);
    log::info!(target: "scanstation::batch", batch_id, ok, flagged;
               "batch {batch_id} reloaded: {ok} ok, {flagged} flagged");
    app.publish_batch(&batch_id);
    Ok(Json(json!(b)))
}

async fn post_batch(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let today = app.today();
    let a = app.clone();
    let id = batch_id.clone();
    let result = tokio::task::spawn_blocking(move || {
        a.store.with(|conn| {
            batches::post_batch(
                conn,
                &a.settings,
                today,
                &id,
                Poster {
                    name: &s.name,
                    hmis_user_id: s.hmis_user_id.as_deref(),
                },
            )
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match result {
        Ok(n) => {
            log::info!(target: "scanstation::batch", batch_id, count = n; "batch {batch_id} posted: {n} services");
            app.outbox_notify.notify_one();
            app.publish_batch(&batch_id);
            Ok(Json(json!({ "posted": n })))
        }
        Err(PostError::Flagged(entries)) => Err(ApiError::Conflict(
            format!(
                "{} entries are flagged: remove them, or fix the data and reload, before posting",
                entries.len()
            ),
            json!({ "entries": entries }),
        )),
        Err(PostError::Other(e)) => Err(e.into()),
    }
}

async fn roster(
    State(app): State<App>,
    _s: Supervisor,
    ApiPath(batch_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let a = app.clone();
    let rows = app
        .store
        .call(move |conn| clients::roster(conn, &a.settings, &batch_id))
        .await?;
    Ok(Json(json!(rows)))
}

// ---- lanes and scans -----------------------------------------------------------------------

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
    let (l, b) = (lane.clone(), body.batch_id.clone());
    app.store
        .call(move |conn| batches::bind_lane(conn, &l, b.as_deref()))
        .await?;
    let batch_id = body.batch_id.as_deref().unwrap_or("");
    log::info!(target: "scanstation::lane", lane = lane.as_str(), batch_id;
               "lane {lane} bound to batch {}", if batch_id.is_empty() { "(none)" } else { batch_id });
    app.publish("lane", json!({ "lane": lane, "batch_id": body.batch_id }));
    if let Some(id) = &body.batch_id {
        app.publish_batch(id);
    }
    Ok(Json(json!({ "lane": lane, "batch_id": body.batch_id })))
}

async fn list_lanes(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let bound = app
        .store
        .call(|conn| batches::lanes(conn).map_err(AppError::from))
        .await?;
    let mut out: Vec<(String, Option<String>)> = bound;
    for s in &app.settings.raw.scanner {
        if !out.iter().any(|(l, _)| *l == s.lane) {
            out.push((s.lane.clone(), None));
        }
    }
    if !out.iter().any(|(l, _)| l == "main") {
        out.push(("main".into(), None));
    }
    out.sort();
    Ok(Json(json!(out
        .into_iter()
        .map(|(lane, batch_id)| json!({"lane": lane, "batch_id": batch_id}))
        .collect::<Vec<_>>())))
}

/// Public: what the lane screen shows (no client data).
async fn lane_screen(
    State(app): State<App>,
    ApiPath(lane): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    batches::check_lane(&lane)?;
    let a = app.clone();
    let l = lane.clone();
    let batch = app
        .store
        .call(move |conn| -> Result<Option<Value>, AppError> {
            match batches::lane_batch(conn, &l)? {
                None => Ok(None),
                Some(id) => {
                    let b = batches::get_batch(conn, &a.settings, &id, false)?;
                    Ok(Some(json!({
                        "id": b.id, "name": b.name, "service_name": b.service_name,
                        "service_date": b.service_date, "served": b.counts.ok,
                    })))
                }
            }
        })
        .await?;
    let scanners: Vec<Value> = app
        .scanners
        .for_lane(&lane)
        .into_iter()
        .map(|s| json!({"name": s.name, "state": s.state, "reason": s.reason}))
        .collect();
    Ok(Json(
        json!({ "lane": lane, "batch": batch, "scanners": scanners }),
    ))
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
        ScanOutcome::Entry { entry, served } => {
            Ok((StatusCode::CREATED, Json(entry_json(&entry, served))))
        }
        ScanOutcome::Unassigned(u) => Ok((StatusCode::ACCEPTED, Json(json!({ "unassigned": u })))),
    }
}

async fn unassigned(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let list = app
        .store
        .call(|conn| batches::unassigned_scans(conn).map_err(AppError::from))
        .await?;
    Ok(Json(json!(list)))
}

async fn dismiss(
    State(app): State<App>,
    s: Supervisor,
    ApiPath(scan_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.store
        .call(move |conn| batches::dismiss_scan(conn, scan_id, &s.name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- clients and status --------------------------------------------------------------------

#[derive(Deserialize)]
struct ClientQuery {
    q: Option<String>,
    dob: Option<String>,
}

async fn search_clients(
    State(app): State<App>,
    _s: Supervisor,
    ApiQuery(q): ApiQuery<ClientQuery>,
) -> ApiResult<Json<Value>> {
    let dob = match q.dob.as_deref() {
        None | Some("") => None,
        Some(d) => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::BadRequest(format!("dob {d:?} is not a date yyyy-mm-dd")))?,
        ),
    };
    let text = q.q.unwrap_or_default();
    let hits = app
        .store
        .call(move |conn| clients::search(conn, &text, dob))
        .await?;
    Ok(Json(json!(hits)))
}

async fn status(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let (data, outbox, unassigned) = app
        .store
        .call(|conn| -> Result<(Value, Value, usize), ApiError> {
            let data = data_status(conn)?;
            let outbox = crate::upstream::status(conn)?;
            let unassigned = batches::unassigned_scans(conn)?.len();
            Ok((data, outbox, unassigned))
        })
        .await?;
    Ok(Json(json!({
        "station_id": app.settings.station_id(),
        "version": env!("CARGO_PKG_VERSION"),
        "today": app.today().to_string(),
        "timezone": app.settings.raw.station.timezone,
        "started_at": app.started_at.to_rfc3339(),
        "scanners": app.scanners.snapshot(),
        "data": data,
        "outbox": outbox,
        "unassigned": unassigned,
    })))
}

/// Enrollment data age and counts (with the last failed pull, if any).
fn data_status(conn: &rusqlite::Connection) -> rusqlite::Result<Value> {
    let status = crate::import::data_status(conn)?;
    let age_seconds = status
        .imported_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds());
    let mut v = json!(status);
    v["age_seconds"] = json!(age_seconds);
    Ok(v)
}
