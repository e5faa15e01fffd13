//! The application layer: one method per use case, shared by every edge (web handlers, CLI
//! commands, scanners, the scheduled pull, the demo).
//!
//! Each use case checks the domain rules, runs one store transaction (on a blocking thread), then
//! publishes a typed [`Event`] and logs ids and counts (never names). The edges call only these;
//! they never run SQL or publish events themselves.
//!
//! - scans: [`App::scan`], [`App::unassigned_scans`], [`App::unassigned_scans_named`],
//!   [`App::dismiss_scan`]
//! - batches: [`App::create_batch`], [`App::batch`], [`App::batches`], [`App::add_entry`],
//!   [`App::remove_entry`], [`App::remove_flagged`], [`App::reload`], [`App::post`],
//!   [`App::roster`], [`App::served_today`], [`App::service_dates`]
//! - lanes: [`App::bind_lane`], [`App::lanes`], [`App::lanes_with_defaults`],
//!   [`App::lane_screen`]
//! - deliveries: [`App::deliveries`], [`App::delivery`], [`App::retry_delivery`],
//!   [`App::retry_batch_delivery`]
//! - data: [`App::import_and_reload`], [`App::status`], [`App::search_clients`],
//!   [`App::projects`]

mod batches;
mod data;
mod deliveries;
mod error;
mod events;
mod scans;

use std::ops::Deref;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::broadcast;

use crate::config::Settings;
use crate::store::Store;

pub use batches::{AddEntry, BatchInfo, LaneInfo, LaneScreen, NewBatchRequest};
pub use data::{DataSummary, PullOutcome, PullState, StationStatus};
pub use deliveries::{summarise, DeliverySummary, DueDelivery};
pub use error::{AppError, AppResult};
pub use events::Event;
pub use scans::MAX_SCAN_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerState {
    Connected,
    Missing,
    Busy,
    Error,
}

impl ScannerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScannerState::Connected => "connected",
            ScannerState::Missing => "missing",
            ScannerState::Busy => "busy",
            ScannerState::Error => "error",
        }
    }
}

/// One configured scanner as `/status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerStatus {
    pub name: String,
    pub kind: &'static str,
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
    pub fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Today's date in the station's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.settings.tz).date_naive()
    }

    /// Run `f` on the store from async code (a blocking thread), with the app at hand.
    async fn with_store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&App, &mut rusqlite::Connection) -> AppResult<R> + Send + 'static,
    ) -> AppResult<R> {
        let app = self.clone();
        let result = self
            .store
            .call(move |conn| f(&app, conn).map_err(Wrapped))
            .await
            .map_err(|Wrapped(e)| e);
        match result {
            Err(AppError::Disk { fault, detail }) => {
                let fault = self.store.explain(fault);
                log::error!(
                    "database {}: write refused, {fault} (nothing of it was kept): {detail}",
                    self.store.path().display()
                );
                Err(AppError::Disk { fault, detail })
            }
            other => other,
        }
    }
}

/// Carries an [`AppError`] through [`Store::call`], whose error type must come from a store error.
struct Wrapped(AppError);

impl From<crate::store::StoreError> for Wrapped {
    fn from(e: crate::store::StoreError) -> Self {
        Wrapped(e.into())
    }
}
