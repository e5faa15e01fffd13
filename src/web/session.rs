//! `POST /session {"pin"}` (log in), `GET /session` (who am I), `DELETE /session` (log out).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self, Login, Supervisor};
use super::{ApiError, ApiJson, ApiResult, WebState};

pub fn routes() -> Router<WebState> {
    Router::new().route("/session", post(login).get(whoami).delete(logout))
}

#[derive(Deserialize)]
struct PinBody {
    pin: String,
}

fn session_json(state: &WebState, s: &Supervisor) -> Value {
    json!({
        "supervisor": s.name,
        "idle_lock_seconds": state.app.settings.web.idle_lock.as_secs(),
    })
}

async fn login(
    State(state): State<WebState>,
    ApiJson(body): ApiJson<PinBody>,
) -> ApiResult<Response> {
    let st = state.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        st.sessions.login(&body.pin, &st.app.settings.supervisors)
    })
    .await
    .map_err(ApiError::internal)?;
    match outcome {
        Login::Ok { token, supervisor } => {
            log::info!("supervisor session opened");
            let mut resp = Json(session_json(&state, &supervisor)).into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, auth::set_cookie(&token));
            Ok(resp)
        }
        Login::Wrong => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            "wrong PIN",
        )),
        Login::Locked { retry_after } => {
            let secs = retry_after.as_secs().max(1);
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "login_locked",
                format!("too many wrong PINs: login is locked for {secs} more seconds"),
            )
            .with_extra(json!({ "retry_after_seconds": secs }));
            e.retry_after = Some(secs);
            Err(e)
        }
    }
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
