//! The HTTP side, and all of it: the JSON API under `/api/v1` (handlers by resource), supervisor
//! sessions, server-sent events, and the kiosk UI. Handlers parse the request, call one use case
//! of [`crate::app::App`], and shape the answer ([`json`]); errors become
//! `{"error": ..., "code": ...}` answers ([`ApiError`]).

pub mod auth;
mod batches;
mod clients;
mod deliveries;
mod error;
pub mod events;
mod extract;
pub mod json;
mod lanes;
mod session;
mod status;
pub mod ui;

use std::sync::Arc;

use axum::extract::{FromRef, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery};

type ApiResult<T> = Result<T, ApiError>;

/// What every handler can reach: the station, the supervisor sessions, the shutdown signal.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub sessions: Arc<auth::Sessions>,
    pub shutdown: watch::Receiver<bool>,
}

impl FromRef<WebState> for App {
    fn from_ref(s: &WebState) -> App {
        s.app.clone()
    }
}

/// The whole HTTP application. `shutdown` ends live event streams when it turns true.
pub fn router(app: App, shutdown: watch::Receiver<bool>) -> Router {
    let state = WebState {
        app,
        sessions: Arc::new(auth::Sessions::default()),
        shutdown,
    };
    let api = Router::new()
        .merge(status::routes())
        .merge(session::routes())
        .merge(batches::routes())
        .merge(lanes::routes())
        .merge(clients::routes())
        .merge(deliveries::routes())
        .fallback(|| async { ApiError::not_found("no_route", "no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this API route does not take that method",
            )
        });
    Router::new()
        .nest("/api/v1", api)
        .merge(ui::routes())
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
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
    let router = router(app, shutdown.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
