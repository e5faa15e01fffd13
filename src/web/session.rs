//! `POST /session {"pin"}` (log in: [`super::login`]), `GET /session` (who am I),
//! `DELETE /session` (log out).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::{self, Supervisor};
use super::WebState;

pub fn routes() -> Router<WebState> {
    Router::new().route(
        "/session",
        post(super::login::login).get(whoami).delete(logout),
    )
}

pub(super) fn session_json(state: &WebState, s: &Supervisor) -> Value {
    json!({
        "supervisor": s.name,
        "idle_lock_seconds": state.app.settings.web.idle_lock.as_secs(),
        "timezone": state.app.settings.timezone,
        "today": state.app.today().to_string(),
        "service_dates": super::json::service_dates(state.app.service_dates()),
    })
}

async fn whoami(State(state): State<WebState>, s: Supervisor) -> Json<Value> {
    Json(session_json(&state, &s))
}

async fn logout(State(state): State<WebState>, parts: axum::http::request::Parts) -> Response {
    if let Some(t) = auth::token_from(&parts) {
        state.sessions.logout(&t);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie());
    resp
}
