//! HID (evdev) and serial barcode scanners feeding lanes.
//!
//! Each configured scanner gets two tasks: a device task (open, grab, read, reconnect; in
//! [`hid`] and [`serial`]) that turns input into code texts, and a submit task that applies the
//! double-read guard and hands each code to the station core ([`App::scan`], the same path as
//! `POST /lanes/{lane}/scans`) one at a time, in order. The two are joined by a channel so a slow
//! disk never stalls reading the device. States go to `app.scanners` (shown by `GET /status`) and
//! each change is published as a `scanner` event. Logs name the scanner, never a code.

pub mod discover;
pub mod frame;
pub mod guard;
pub mod hid;
pub mod keys;
pub mod serial;

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::app::{App, Event, ScannerState, ScannerStatus};
use crate::backoff::Backoff;
use crate::config::{ScannerKind, ScannerSettings};

pub use discover::print_candidates;

/// How many decoded codes may wait for the core per scanner before the reader waits too.
const QUEUE: usize = 256;

/// A code read from a scanner, with when its last character arrived.
#[derive(Debug, Clone)]
pub struct Read {
    pub text: String,
    pub at: Instant,
}

/// Where codes go: the station core in the daemon ([`App`]), a recorder in tests.
pub trait ScanSink: Clone + Send + Sync + 'static {
    fn scan(
        &self,
        lane: &str,
        raw: &str,
        source: &'static str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

impl ScanSink for App {
    async fn scan(&self, lane: &str, raw: &str, source: &'static str) -> Result<(), String> {
        App::scan(self, lane, raw, source)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A scanner's line on the board: updates `app.scanners` and publishes `scanner` events.
#[derive(Clone)]
pub struct StatusHandle {
    app: App,
    index: usize,
}

impl StatusHandle {
    pub fn register(app: &App, status: ScannerStatus) -> StatusHandle {
        let index = app.scanners.register(status);
        StatusHandle {
            app: app.clone(),
            index,
        }
    }

    fn current(&self) -> Option<ScannerStatus> {
        self.app.scanners.snapshot().into_iter().nth(self.index)
    }

    pub fn name(&self) -> String {
        self.current().map(|s| s.name).unwrap_or_default()
    }

    /// Set state, reason and (when known) the device path; publishes only on a change.
    /// Returns true when something changed.
    pub fn set(&self, state: ScannerState, reason: Option<String>, path: Option<String>) -> bool {
        let mut changed = false;
        self.app.scanners.update(self.index, |s| {
            if s.state != state || s.reason != reason || (path.is_some() && s.path != path) {
                changed = true;
                s.state = state;
                s.reason = reason;
                if path.is_some() {
                    s.path = path;
                }
            }
        });
        if changed {
            self.publish();
        }
        changed
    }

    fn scanned(&self) {
        self.app
            .scanners
            .update(self.index, |s| s.last_scan_at = Some(Utc::now()));
    }

    fn publish(&self) {
        if let Some(status) = self.current() {
            self.app.publish(Event::Scanner {
                index: self.index,
                status,
            });
        }
    }
}

/// Waits between attempts to open a device: 100 ms, doubling up to 1 s (reset once it worked).
pub(crate) const OPEN_RETRY: Backoff =
    Backoff::new(Duration::from_millis(100), Duration::from_secs(1));

/// Sleep for `d`, or less if shutdown comes; true when shutting down.
pub(crate) async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    let stopped = tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.wait_for(|s| *s) => true,
    };
    stopped || *shutdown.borrow()
}

/// Apply the double-read guard and hand codes to the core in order, until the readers close.
async fn submit_loop<S: ScanSink>(
    sink: S,
    status: StatusHandle,
    name: String,
    lane: String,
    source: &'static str,
    window: Duration,
    mut rx: mpsc::Receiver<Read>,
) {
    let mut guard = guard::DoubleReadGuard::new(window);
    while let Some(read) = rx.recv().await {
        if !guard.admit(&read.text, read.at) {
            log::debug!("scanner {name}: double read ignored");
            continue;
        }
        match sink.scan(&lane, &read.text, source).await {
            Ok(()) => status.scanned(),
            Err(e) => log::error!("scanner {name}: scan on lane {lane} was not taken: {e}"),
        }
    }
}

/// Start the tasks for every configured scanner; returns their handles.
pub fn spawn_all<S: ScanSink>(
    app: &App,
    sink: S,
    scanners: &[ScannerSettings],
    shutdown: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for cfg in scanners {
        let name = cfg.name.clone();
        let status = StatusHandle::register(
            app,
            ScannerStatus {
                name: name.clone(),
                kind: cfg.kind.as_str(),
                lane: cfg.lane.to_string(),
                path: cfg.kind.path().map(|p| p.display().to_string()),
                state: ScannerState::Missing,
                reason: Some("not opened yet".into()),
                last_scan_at: None,
            },
        );
        let (tx, rx) = mpsc::channel(QUEUE);
        tasks.push(tokio::spawn(submit_loop(
            sink.clone(),
            status.clone(),
            name.clone(),
            cfg.lane.to_string(),
            cfg.kind.as_str(),
            cfg.double_read,
            rx,
        )));
        let shutdown = shutdown.clone();
        match &cfg.kind {
            ScannerKind::Hid { .. } => tasks.push(tokio::spawn(hid::run(
                hid::HidOptions::from_config(cfg),
                name,
                tx,
                status,
                shutdown,
            ))),
            ScannerKind::Serial { .. } => tasks.push(tokio::spawn(serial::run(
                serial::SerialOptions::from_config(cfg),
                name,
                tx,
                status,
                shutdown,
            ))),
        }
    }
    tasks
}

/// Run every configured scanner until `shutdown` turns true; scans go through [`App::scan`].
/// On shutdown every grabbed HID device is released and every port closed before this returns.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let configs = app.settings.scanners.clone();
    if configs.is_empty() {
        log::info!("no scanners configured; scans come from the API only");
    }
    let tasks = spawn_all(&app, app.clone(), &configs, &shutdown);
    let _ = shutdown.wait_for(|s| *s).await;
    // Device tasks stop on the same signal; their senders close, which ends the submit tasks
    // after the codes already read are in.
    let all = futures_util::future::join_all(tasks);
    if tokio::time::timeout(Duration::from_secs(5), all)
        .await
        .is_err()
    {
        log::warn!("scanner tasks did not stop within 5 s");
    }
}
