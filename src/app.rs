//! The station core shared by every edge: settings, store, live events, scanner states.
//!
//! A scan from any source (HID, serial, `POST /lanes/{lane}/scans`, demo stdin) goes through
//! [`App::scan`]: scan log first, then verdict, then the `scan` event.

use std::ops::Deref;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::store::batches::{self, ScanOutcome};
use crate::store::Store;

/// A live event for `GET /api/v1/events` (server-sent events): `event: {name}`, `data: {data}`.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: &'static str,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerState {
    Connected,
    Missing,
    Busy,
    Error,
}

/// One configured scanner as `/status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ScannerStatus {
    pub name: String,
    pub kind: String,
    pub lane: String,
    pub path: Option<String>,
    pub state: ScannerState,
    pub reason: Option<String>,
    pub last_scan_at: Option<DateTime<Utc>>,
}

/// The states of all configured scanners, written by the scanner tasks, read by `/status`.
#[derive(Debug, Clone, Default)]
pub struct ScannerBoard(Arc<RwLock<Vec<ScannerStatus>>>);

impl ScannerBoard {
    /// Add a scanner; returns its index for [`ScannerBoard::update`].
    pub fn register(&self, status: ScannerStatus) -> usize {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        v.push(status);
        v.len() - 1
    }
    pub fn update(&self, index: usize, f: impl FnOnce(&mut ScannerStatus)) {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = v.get_mut(index) {
            f(s);
        }
    }
    pub fn snapshot(&self) -> Vec<ScannerStatus> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// The scanners feeding one lane.
    pub fn for_lane(&self, lane: &str) -> Vec<ScannerStatus> {
        self.snapshot()
            .into_iter()
            .filter(|s| s.lane == lane)
            .collect()
    }
}

pub struct AppInner {
    pub settings: Settings,
    pub store: Store,
    pub events: broadcast::Sender<Event>,
    pub scanners: ScannerBoard,
    /// Woken when a post queues deliveries (or a supervisor retries one).
    pub outbox_notify: tokio::sync::Notify,
    pub sessions: crate::web::auth::Sessions,
    pub started_at: DateTime<Utc>,
}

/// Cheap to clone; shared by the web server, scanner tasks and the upstream worker.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

impl Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    pub fn new(settings: Settings, store: Store) -> App {
        let (events, _) = broadcast::channel(1024);
        App(Arc::new(AppInner {
            settings,
            store,
            events,
            scanners: ScannerBoard::default(),
            outbox_notify: tokio::sync::Notify::new(),
            sessions: crate::web::auth::Sessions::default(),
            started_at: Utc::now(),
        }))
    }

    /// Publish a live event; nobody listening is fine.
    pub fn publish(&self, name: &'static str, data: serde_json::Value) {
        let _ = self.events.send(Event { name, data });
    }

    /// Today's date in the station's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.settings.tz).date_naive()
    }
}

/// Longest raw scan kept; longer input is refused with a clear error (scanners cap frames first).
pub const MAX_SCAN_LEN: usize = 1024;

impl App {
    /// A scan from any source on `lane`: scan log first, then verdict, then the `scan` event.
    /// `source`: "hid", "serial", "api" (lane scan API), "stdin" (demo).
    pub async fn scan(&self, lane: &str, raw: &str, source: &str) -> AppResult<ScanOutcome> {
        batches::check_lane(lane)?;
        if raw.len() > MAX_SCAN_LEN {
            return Err(AppError::Invalid(format!(
                "a scan is at most {MAX_SCAN_LEN} bytes; this one has {}",
                raw.len()
            )));
        }
        let app = self.clone();
        let (lane_owned, raw, source) = (lane.to_string(), raw.to_string(), source.to_string());
        let outcome = self
            .store
            .call(move |conn| batches::record_scan(conn, &app.settings, &lane_owned, &raw, &source))
            .await?;
        self.publish_scan(Some(lane), &outcome);
        Ok(outcome)
    }

    /// The `scan` event: the entry (display name only) and the batch's served count, or an
    /// unassigned scan's id and time. `lane` is None for a supervisor's manual entry.
    pub fn publish_scan(&self, lane: Option<&str>, outcome: &ScanOutcome) {
        let lane_name = lane.unwrap_or("(manual)");
        match outcome {
            ScanOutcome::Entry { entry, served } => {
                let (verdict, batch_id) = (entry.verdict.as_str(), entry.batch_id.as_str());
                log::debug!(target: "scanstation::scan", lane = lane_name, batch_id, verdict;
                            "scan on lane {lane_name}: {verdict} (batch {batch_id}, entry {})", entry.id);
                self.publish(
                    "scan",
                    serde_json::json!({
                        "lane": lane,
                        "entry": entry,
                        "batch": {"id": entry.batch_id, "served": served},
                    }),
                );
            }
            ScanOutcome::Unassigned(u) => {
                log::info!(target: "scanstation::scan", lane = lane_name, scan_id = u.scan_id;
                           "scan on lane {lane_name} kept as unassigned (scan {}): no batch open", u.scan_id);
                self.publish(
                    "scan",
                    serde_json::json!({
                        "lane": lane,
                        "unassigned": {"scan_id": u.scan_id, "scanned_at": u.scanned_at},
                    }),
                );
            }
        }
    }

    /// Tell live screens that a batch changed (entry removed, reload, post, lane bound).
    pub fn publish_batch(&self, batch_id: &str) {
        self.publish("batch", serde_json::json!({ "id": batch_id }));
    }
}
