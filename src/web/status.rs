//! `GET /healthz` (no auth) and `GET /status` (supervisor): scanners, enrollment data age and
//! counts, outbox depth, unassigned scans, open event streams.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::Supervisor;
use super::{events, json, ApiResult, WebState};
use crate::app::App;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/status", get(status))
        .route("/events", get(events::events))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn status(
    State(app): State<App>,
    State(web): State<WebState>,
    _s: Supervisor,
    tls: Option<axum::Extension<super::tls::CertInfo>>,
) -> ApiResult<Json<Value>> {
    let s = app.status().await?;
    let head = json!({
        "station_id": app.settings.station_id(),
        "version": env!("CARGO_PKG_VERSION"),
        "today": app.today().to_string(),
        "timezone": app.settings.timezone,
        "started_at": app.started_at.to_rfc3339(),
        "service_dates": json::service_dates(app.service_dates()),
        "event_clients": web.event_clients.get(),
    });
    let mut v = json::status(head, &s);
    v["tls"] = match tls {
        Some(axum::Extension(t)) => json!({
            "fingerprint_sha256": t.fingerprint_sha256,
            "cert_file": t.cert_file,
            "self_signed": t.self_signed,
        }),
        None => Value::Null,
    };
    Ok(Json(v))
}
