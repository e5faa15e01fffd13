//! Every call the tests make into the `scanstation` library, in one place: when the library
//! changes a signature, this file is the one to fix. Tests see plain values (JSON, counts,
//! dates) where they can, and the few library types re-exported below where they need one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tokio::sync::{broadcast, watch};

pub use scanstation::app::{App, ScannerState, ScannerStatus};
pub use scanstation::backoff::Backoff;
pub use scanstation::config::{Settings, TlsMode, WebSettings};
pub use scanstation::scanners::ScanSink;
pub use scanstation::upstream::pull::Pulled;
pub use scanstation::web::auth::Sessions;
pub use scanstation::web::login::{delay_after, Throttle, FREE_TRIES};
pub use scanstation::web::tls::{CertInfo, SELF_SIGNED_CERT, SELF_SIGNED_KEY};

/// Make ring the process-wide rustls provider (before any HTTP client or TLS server is built).
pub fn init_tls() {
    scanstation::init_tls();
}

/// Parse and check a config text as the daemon does; panics with the problems if it is bad.
pub fn settings(text: &str) -> Settings {
    let config = scanstation::config::Config::parse(text, Path::new("test.toml"))
        .unwrap_or_else(|e| panic!("test config does not parse: {e}\n{text}"));
    config
        .check()
        .unwrap_or_else(|e| panic!("test config is refused: {e}\n{text}"))
}

/// The SQLite file the settings name.
pub fn database(settings: &Settings) -> PathBuf {
    settings.database.clone()
}

/// The application over the settings' database (created and migrated when new).
pub fn open_app(settings: Settings) -> App {
    let store = scanstation::store::Store::open(&database(&settings)).expect("store opens");
    App::new(settings, store)
}

/// Another connection on the app's database, as a second process would have.
pub fn db(app: &App) -> rusqlite::Connection {
    db_at(&database(&app.settings))
}

/// A connection on the database at `path` (created and migrated when new).
pub fn db_at(path: &Path) -> rusqlite::Connection {
    scanstation::store::open_connection(path).expect("database opens")
}

/// A writable connection on the app's live enrollment snapshot file (the HMIS tables; the
/// station itself only reads it), e.g. to damage a stored value on purpose.
pub fn snapshot_db(app: &App) -> rusqlite::Connection {
    let path = scanstation::store::snapshot::live_path(&database(&app.settings))
        .expect("the station names its enrollment snapshot");
    rusqlite::Connection::open(path).expect("snapshot opens")
}

/// Run `f` on the app's own connection (writes from a test go here, as the app's would).
pub fn with_conn<R>(app: &App, f: impl FnOnce(&mut rusqlite::Connection) -> R) -> R {
    app.store.with(f)
}

/// Import a HUD CSV folder or zip through the normal import path (all projects).
pub fn import(conn: &mut rusqlite::Connection, path: &Path) {
    scanstation::import::import_path(conn, path, &scanstation::import::ImportOptions::default())
        .unwrap_or_else(|e| panic!("import of {} fails: {e}", path.display()));
}

/// Import into the app's database.
pub fn import_app(app: &App, path: &Path) {
    with_conn(app, |c| import(c, path));
}

/// Import into the app's database with a project filter (`[]`: all projects), as
/// `import --project` does.
pub fn import_projects(app: &App, path: &Path, projects: &[&str]) {
    let options = scanstation::import::ImportOptions {
        projects: projects.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    with_conn(app, |c| scanstation::import::import_path(c, path, &options))
        .unwrap_or_else(|e| panic!("import of {} fails: {e}", path.display()));
}

/// Today in the station's time zone.
pub fn today(app: &App) -> NaiveDate {
    app.today()
}

/// The number of clients in the station's enrollment data.
pub fn client_count(app: &App) -> u64 {
    with_conn(app, |c| {
        scanstation::import::data_status(c).expect("data status")
    })
    .clients
}

/// Where the station's enrollment data came from (a path or URL).
pub fn data_source(app: &App) -> Option<String> {
    with_conn(app, |c| {
        scanstation::import::data_status(c).expect("data status")
    })
    .source
}

/// A live-event subscription (what `GET /events` streams).
pub struct Events(broadcast::Receiver<scanstation::app::Event>);

pub fn subscribe(app: &App) -> Events {
    Events(app.events.subscribe())
}

impl Events {
    /// The data of the next event named `name` (others are skipped), as `GET /events` sends it;
    /// fails after `deadline`.
    pub async fn next_named(&mut self, name: &str, deadline: Duration) -> Value {
        tokio::time::timeout(deadline, async {
            loop {
                let ev = self.0.recv().await.expect("event channel open");
                if ev.name() == name {
                    return scanstation::web::events::data(
                        &ev,
                        scanstation::web::events::Audience::Supervisor,
                    );
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {name} event within {deadline:?}"))
    }
}

/// A scan as a scanner would hand it to the core (benches time this).
pub async fn scan(app: &App, lane: &str, code: &str, source: &str) {
    app.scan(lane, code, source).await.expect("scan is taken");
}

// ---- daemon and workers ------------------------------------------------------------------------

/// The whole daemon (web server, scanners, upstream worker) on `listener`, until `shutdown`,
/// with these supervisor sessions (new ones, as at a start of the service).
pub fn spawn_daemon(
    app: App,
    listener: tokio::net::TcpListener,
    sessions: std::sync::Arc<Sessions>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tokio::spawn(scanstation::daemon::run_with_sessions(
        app, listener, sessions, shutdown,
    ))
}

// ---- HTTPS -------------------------------------------------------------------------------------

/// The certificate and key files the station serves (or will make at its start): `[web]
/// tls_cert`/`tls_key`, else the self-signed pair in the state folder.
pub fn tls_files(app: &App) -> (PathBuf, PathBuf) {
    let (cert, key, _) =
        scanstation::web::tls::cert_paths(&app.settings.web, app.settings.state_dir());
    (cert, key)
}

/// Does this `[web]` serve HTTPS?
pub fn tls_enabled(web: &WebSettings) -> bool {
    scanstation::web::tls::enabled(web)
}

/// The daemon's TLS set-up for `web` with its state folder `state_dir` (the self-signed
/// certificate made there when missing): the served certificate, or None for plain HTTP.
pub fn prepare_tls(web: &WebSettings, state_dir: &Path) -> Option<CertInfo> {
    scanstation::web::tls::prepare(web, state_dir)
        .unwrap_or_else(|e| panic!("TLS set-up fails: {e}"))
        .map(|t| t.info)
}

/// The outbox worker (and scheduled pull) with a chosen retry timing, until `shutdown`.
pub async fn run_upstream(app: App, shutdown: watch::Receiver<bool>, backoff: Backoff) {
    scanstation::upstream::run_with(app, shutdown, backoff).await
}

/// Wake the outbox worker (as a post or a supervisor's retry does).
pub fn notify_outbox(app: &App) {
    app.outbox_notify.notify_one();
}

/// The configured scanners' tasks, handing codes to `sink` instead of the core.
pub fn spawn_scanners<S: ScanSink>(
    app: &App,
    sink: S,
    shutdown: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    scanstation::scanners::spawn_all(app, sink, &app.settings.scanners, shutdown)
}

/// Every configured scanner's status, in config order.
pub fn scanner_states(app: &App) -> Vec<ScannerStatus> {
    app.scanners.snapshot()
}

// ---- upstream ----------------------------------------------------------------------------------

/// Run a future to its end from a test without a runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// What `GET /status` shows under `outbox` (counts by state, last error, `enrollment_pull`).
pub async fn upstream_status_async(app: &App) -> Value {
    let s = app.status().await.expect("station status");
    scanstation::web::json::status(serde_json::json!({}), &s)["outbox"].clone()
}

/// [`upstream_status_async`] from a test without a runtime.
pub fn upstream_status(app: &App) -> Value {
    block_on(upstream_status_async(app))
}

/// A batch's `delivery` as `GET /batches/{id}` shows it (None: no such batch, or nothing
/// queued); from a test without a runtime.
pub fn batch_delivery(app: &App, batch_id: &str) -> Option<Value> {
    let b = block_on(app.batch(batch_id, false)).ok()?;
    Some(scanstation::web::json::batch(&b)["delivery"].clone()).filter(|v| !v.is_null())
}

/// When the next delivery is due; None when nothing is.
pub fn next_due(app: &App) -> Option<DateTime<Utc>> {
    with_conn(app, |c| {
        scanstation::store::outbox::next_due(c).expect("next due")
    })
}

/// A supervisor's retry of a parked delivery; false when it was not parked.
pub fn retry_delivery(app: &App, id: i64) -> bool {
    with_conn(app, |c| {
        scanstation::store::outbox::retry(c, id).expect("retry")
    })
}

/// The HTTP client the scheduled pull uses for `url`.
pub fn pull_client(app: &App, url: &str) -> Result<reqwest::Client, String> {
    scanstation::upstream::pull::pull_client(&app.settings, url)
}

/// One enrollment pull from `url`, imported when new.
pub async fn pull_once(app: &App, client: &reqwest::Client, url: &str) -> Result<Pulled, String> {
    scanstation::upstream::pull::pull_once(app, client, url).await
}

/// The upstream's HTTP client for `url` trusting `ca_file` (None: the system roots); the error
/// as the station would say it.
pub fn upstream_http_client(
    url: &str,
    ca_file: Option<&Path>,
    connect: Duration,
    request: Option<Duration>,
) -> Result<reqwest::Client, String> {
    use scanstation::upstream::tls::{http_client, Timeouts};
    let t = Timeouts {
        connect,
        request,
        read: None,
    };
    http_client(url, ca_file, t).map_err(|e| e.to_string())
}

// ---- contract names ----------------------------------------------------------------------------

/// True when `name` is a verdict the station gives (`entry.verdict` on the wire).
pub fn is_verdict(name: &str) -> bool {
    scanstation::domain::rules::Verdict::parse(name).is_some_and(|v| v.as_str() == name)
}
