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
pub mod guard;
pub mod json;
mod lanes;
pub mod login;
mod session;
mod status;
pub mod tls;
pub mod ui;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::StatusCode;
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
    /// How many event streams are open now (`/status` `event_clients`).
    pub event_clients: events::StreamCount,
}

impl FromRef<WebState> for App {
    fn from_ref(s: &WebState) -> App {
        s.app.clone()
    }
}

/// The whole HTTP application over these supervisor sessions (and their PIN check queue).
/// `shutdown` ends live event streams when it turns true.
pub fn router(app: App, sessions: Arc<auth::Sessions>, shutdown: watch::Receiver<bool>) -> Router {
    let web = app.settings.web.clone();
    let state = WebState {
        app,
        sessions,
        shutdown,
        event_clients: events::StreamCount::default(),
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
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard::Origins::new(&web)),
            guard::same_origin_only,
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .with_state(state)
}

/// Serve until `shutdown` turns true; in-flight requests finish, live event streams end. With
/// `tls`, over HTTPS only.
pub async fn serve(
    app: App,
    listener: TcpListener,
    tls: Option<tls::ServerTls>,
    sessions: Arc<auth::Sessions>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = router(app, sessions, shutdown.clone());
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let Some(tls) = tls else {
        let router = router.into_make_service_with_connect_info::<tls::Peer>();
        return axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await;
    };
    let listener = tls::TlsListener::new(listener, &tls)?;
    let router = router.layer(axum::Extension(tls.info));
    let router = router.into_make_service_with_connect_info::<tls::Peer>();
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}
