//! `GET /api/v1/events`: server-sent events from the station's broadcast channel, each typed
//! [`Event`] turned into its SSE name and JSON here. A client that falls behind misses events (it
//! gets a `lagged` event and should refetch); a comment keeps the connection alive every 15 s;
//! streams end on shutdown so the daemon stops promptly.
//!
//! The stream is public (the lane screen faces the queue), so without a supervisor session a
//! `scan` event's entry carries only what the screen shows: ids of the entry and batch, the
//! display name (first name, last initial), the verdict, source, time and removal. The client ID,
//! the raw code and the enrollment go only to a stream opened with a supervisor session.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use serde_json::{json, Value};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::{json, WebState};
use crate::app::Event;

/// Who a stream is for: the public screen, or a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Supervisor,
}

/// How many event streams are open: the kiosk's browser holding its stream is visible from the
/// daemon's side (`/status` `event_clients`; the package test checks the kiosk session by it).
#[derive(Debug, Clone, Default)]
pub struct StreamCount(Arc<AtomicUsize>);

impl StreamCount {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Count one stream until the returned guard is dropped (the stream ended or the client left).
    fn open(&self) -> OpenStream {
        self.0.fetch_add(1, Ordering::Relaxed);
        OpenStream(self.0.clone())
    }
}

struct OpenStream(Arc<AtomicUsize>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Fields of an entry the public stream leaves out.
const PRIVATE_ENTRY_FIELDS: [&str; 3] = ["client_id", "code", "enrollment_id"];

/// The JSON `data` of an event, for `audience`.
pub fn data(ev: &Event, audience: Audience) -> Value {
    match ev {
        Event::Scan { lane, outcome } => {
            let mut v = json::scan_event(lane.as_ref().map(|l| l.as_str()), outcome);
            if audience == Audience::Public {
                if let Some(entry) = v.get_mut("entry").and_then(Value::as_object_mut) {
                    for field in PRIVATE_ENTRY_FIELDS {
                        entry.remove(field);
                    }
                }
                if let Some(u) = v.get_mut("unassigned").and_then(Value::as_object_mut) {
                    u.remove("code");
                }
            }
            v
        }
        Event::ScanRefused { lane, code } => {
            json!({ "lane": lane.as_str(), "refused": { "code": code } })
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
    parts: axum::http::request::Parts,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let audience = match super::auth::token_from(&parts)
        .and_then(|t| state.sessions.touch(&t, state.app.settings.web.idle_lock))
    {
        Some(_) => Audience::Supervisor,
        None => Audience::Public,
    };
    let rx = state.app.events.subscribe();
    let counted = state.event_clients.open();
    let hello =
        futures_util::stream::once(async { Ok(SseEvent::default().event("hello").data("{}")) });
    let stream = BroadcastStream::new(rx).map(move |item| {
        // Lives as long as the stream: axum drops the stream when the client goes away.
        let _counted = &counted;
        Ok(match item {
            Ok(ev) => SseEvent::default()
                .event(ev.name())
                .data(data(&ev, audience).to_string()),
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
