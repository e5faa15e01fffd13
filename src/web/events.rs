//! `GET /api/v1/events`: server-sent events from the station's broadcast channel. A client that
//! falls behind misses events (it gets a `lagged` event and should refetch); a comment keeps the
//! connection alive every 15 s; streams end on shutdown so the daemon stops promptly.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Extension;
use futures_util::stream::{Stream, StreamExt};
use tokio::sync::watch;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::app::App;

/// The daemon's shutdown signal, given to every event stream.
#[derive(Clone)]
pub struct Shutdown(pub watch::Receiver<bool>);

pub async fn events(
    State(app): State<App>,
    shutdown: Option<Extension<Shutdown>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = app.events.subscribe();
    let hello =
        futures_util::stream::once(async { Ok(SseEvent::default().event("hello").data("{}")) });
    let stream = BroadcastStream::new(rx).map(|item| {
        Ok(match item {
            Ok(ev) => SseEvent::default().event(ev.name).data(ev.data.to_string()),
            Err(BroadcastStreamRecvError::Lagged(n)) => SseEvent::default()
                .event("lagged")
                .data(format!("{{\"missed\": {n}}}")),
        })
    });
    let mut stop = shutdown.map(|Extension(Shutdown(rx))| rx);
    let ended = async move {
        match stop.as_mut() {
            Some(rx) => {
                let _ = rx.wait_for(|s| *s).await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    Sse::new(hello.chain(stream).take_until(Box::pin(ended)))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
