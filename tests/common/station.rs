//! A real station in-process: the daemon's `run` (HTTP API, kiosk UI, scanner tasks, upstream
//! worker) over a real SQLite file in a temp folder, serving on 127.0.0.1:0, driven over HTTP
//! like any client. There is no readiness sleep: the listener is bound before the daemon starts,
//! so the first request queues until it answers. An HTTPS station ([`StationBuilder::https`])
//! serves `tls = "on"` on 127.0.0.1 with the self-signed certificate the daemon makes in the
//! station's folder as it starts; its URLs are `https://`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::config::StationConfig;
use super::http::Api;
use super::lib::{self, App, Sessions, Throttle};

/// How a test station is made; see [`Station::builder`].
pub struct StationBuilder {
    temp: Option<tempfile::TempDir>,
    config: StationConfig,
    import: Option<PathBuf>,
    https: bool,
}

impl StationBuilder {
    /// Change the config (see [`StationConfig`]).
    pub fn config(mut self, f: impl FnOnce(StationConfig) -> StationConfig) -> Self {
        self.config = f(self.config);
        self
    }

    /// Import this fixture (default `tests/fixtures/station`) before the daemon starts.
    pub fn import(mut self, path: &Path) -> Self {
        self.import = Some(path.to_path_buf());
        self
    }

    /// Serve HTTPS (`[web] tls = "on"` on 127.0.0.1): [`Station::root`] and [`Station::base`]
    /// are `https://` URLs; clients must trust [`Station::tls_files`]'s certificate (see
    /// [`super::http::https_trusting`]).
    pub fn https(mut self) -> Self {
        self.config = self.config.web("tls = \"on\"");
        self.https = true;
        self
    }

    /// Start with an empty database.
    pub fn no_import(mut self) -> Self {
        self.import = None;
        self
    }

    /// Write the config, import, bind 127.0.0.1 and start the daemon.
    pub async fn start(self) -> Station {
        lib::init_tls();
        let text = self.config.text();
        std::fs::write(self.config.path(), &text).expect("write the test config");
        let app = lib::open_app(lib::settings(&text));
        if let Some(path) = &self.import {
            lib::import_app(&app, path);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let (shutdown, rx) = watch::channel(false);
        let sessions = Arc::new(Sessions::default());
        let handle = lib::spawn_daemon(app.clone(), listener, sessions.clone(), rx);
        let scheme = if self.https { "https" } else { "http" };
        Station {
            root: format!("{scheme}://127.0.0.1:{port}"),
            base: format!("{scheme}://127.0.0.1:{port}/api/v1"),
            port,
            app,
            sessions,
            config_text: text,
            shutdown,
            handle: Some(handle),
            dir: self.config.dir().to_path_buf(),
            _temp: self.temp,
        }
    }
}

/// A running station.
pub struct Station {
    /// The station's folder: config, database, and whatever the test puts there.
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    /// `http://127.0.0.1:{port}` (the kiosk UI); `https://` for an HTTPS station.
    pub root: String,
    /// `http://127.0.0.1:{port}/api/v1`; `https://` for an HTTPS station.
    pub base: String,
    pub port: u16,
    pub app: App,
    /// The supervisor sessions of the running daemon (new ones at each restart).
    sessions: Arc<Sessions>,
    config_text: String,
    shutdown: watch::Sender<bool>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Station {
    /// A station in a new temp folder, with the default config and `tests/fixtures/station`.
    pub fn builder() -> StationBuilder {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut b = Self::builder_at(temp.path());
        b.temp = Some(temp);
        b
    }

    /// [`Station::builder`] in a folder the caller keeps (e.g. with fake scanners' links in it).
    pub fn builder_at(dir: &Path) -> StationBuilder {
        StationBuilder {
            config: StationConfig::new(dir),
            import: Some(super::fixture("station")),
            temp: None,
            https: false,
        }
    }

    /// A station with `tests/fixtures/station` imported; `extra` is appended to the config.
    pub async fn start(extra: &str) -> Station {
        Self::builder().config(|c| c.extra(extra)).start().await
    }

    /// Like [`Station::start`], importing `import` (or nothing).
    pub async fn start_with(extra: &str, import: Option<&Path>) -> Station {
        let b = Self::builder().config(|c| c.extra(extra));
        match import {
            Some(p) => b.import(p),
            None => b.no_import(),
        }
        .start()
        .await
    }

    /// The kiosk's station: `tests/fixtures/hmis/basic` (project 1001; C001 Maria Gonzalez and
    /// C002 James O'Brien enrolled, C006 Keisha Washington not), the idle lock given.
    pub async fn kiosk(idle_lock_seconds: u64, extra: &str) -> Station {
        Self::builder()
            .import(&super::fixture("hmis/basic"))
            .config(|c| c.idle_lock(idle_lock_seconds).extra(extra))
            .start()
            .await
    }

    /// The server's `host:port`.
    pub fn addr(&self) -> String {
        let rest = self
            .base
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base);
        rest.trim_end_matches("/api/v1").to_string()
    }

    /// The PIN check queue of the running daemon (how many PINs it checked, how many at once).
    pub fn throttle(&self) -> &Throttle {
        &self.sessions.throttle
    }

    /// The certificate and key (PEM) an HTTPS station serves; the self-signed pair is made by
    /// the daemon as it starts, so a test waits for the certificate before reading it.
    pub fn tls_files(&self) -> (PathBuf, PathBuf) {
        lib::tls_files(&self.app)
    }

    /// A client without a session.
    pub fn client(&self) -> Api {
        Api::new(&self.base)
    }

    /// A client logged in as Maria.
    pub async fn supervisor(&self) -> Api {
        Api::supervisor(&self.base).await
    }

    /// Today in the station's time zone, as the API writes dates.
    pub fn today(&self) -> String {
        lib::today(&self.app).to_string()
    }

    /// Stop the daemon (graceful: event streams end, the port is released).
    pub async fn stop_server(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("server stops within 10 s of shutdown")
                .expect("server task")
                .expect("server ends cleanly");
        }
    }

    /// Start the daemon again on the same port with the same database (a new `App`, as after a
    /// restart of the service).
    pub async fn restart_server(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        // The old listener is closed; its port may take a moment to be free again.
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot bind port {} again: {e}",
                        self.port
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.app = lib::open_app(lib::settings(&self.config_text));
        let (tx, rx) = watch::channel(false);
        self.sessions = Arc::new(Sessions::default());
        self.handle = Some(lib::spawn_daemon(
            self.app.clone(),
            listener,
            self.sessions.clone(),
            rx,
        ));
        self.shutdown = tx;
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
    }
}
