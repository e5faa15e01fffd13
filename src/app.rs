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
