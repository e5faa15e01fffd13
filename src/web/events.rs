//! `GET /api/v1/events`: server-sent events from the station's broadcast channel, each typed
//! [`Event`] turned into its SSE name and JSON here. A client that falls behind misses events (it
//! gets a `lagged` event and should refetch); a comment keeps the connection alive every 15 s;
//! streams end on shutdown so the daemon stops promptly.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use serde_json::{json, Value};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::{json, WebState};
use crate::app::Event;

/// The JSON `data` of an event.
pub fn data(ev: &Event) -> Value {
    match ev {
        Event::Scan { lane, outcome } => {
            json::scan_event(lane.as_ref().map(|l| l.as_str()), outcome)
        }
        Event::Batch { id } => json!({ "id": id }),
        Event::Lane { lane, batch_id } => json::lane_binding(lane.as_str(), batch_id.as_deref()),
        Event::Scanner { index, status } => {
            let mut v = json::scanner(status);
            v["index"] = json!(index);
            v
        }
        Event::Delivery {
            batch_id,
            delivery_id,
        } => json!({ "batch_id": batch_id, "delivery_id": delivery_id }),
        Event::Data { source, summary } => json!({ "source": source, "summary": summary }),
    }
}

pub async fn events(
    State(state): State<WebState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.app.events.subscribe();
    let hello =
        futures_util::stream::once(async { Ok(SseEvent::default().event("hello").data("{}")) });
    let stream = BroadcastStream::new(rx).map(|item| {
        Ok(match item {
            Ok(ev) => SseEvent::default()
                .event(ev.name())
                .data(data(&ev).to_string()),
            Err(BroadcastStreamRecvError::Lagged(n)) => SseEvent::default()
                .event("lagged")
                .data(format!("{{\"missed\": {n}}}")),
        })
    });
    let mut stop = state.shutdown;
    let ended = async move {
        // A dropped sender means nobody can stop the server: the stream lives as long as it.
        if stop.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Sse::new(hello.chain(stream).take_until(Box::pin(ended)))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
