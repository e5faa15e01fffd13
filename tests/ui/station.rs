//! A real station for the UI tests: real SQLite file in a temp folder, the HMIS fixture
//! `tests/fixtures/hmis/basic` imported through the normal import path, the real daemon serving
//! on 127.0.0.1. It can be stopped and started again on the same port with the same database.
//!
//! Fixture clients in project 1001 ("Hot Meals Program"): C001 Maria Gonzalez and C002 James
//! O'Brien are enrolled (OK); C006 Keisha Washington is not (Not enrolled).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::watch;

use scanstation::app::App;
use scanstation::config::Config;

pub const PIN: &str = "2468";
pub const PROJECT: &str = "1001";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis/basic")
}

/// A cheap argon2 hash so debug-build tests stay quick (verification reads the parameters from
/// the hash).
fn cheap_hash(pin: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(64, 1, 1, None).expect("argon2 params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    a.hash_password_with_salt(pin.as_bytes(), b"saltsaltsaltsalt")
        .expect("hash")
        .to_string()
}

fn config_text(dir: &Path, idle_lock_seconds: u64, extra: &str) -> String {
    format!(
        r#"
[station]
id = "ui-test"
timezone = "America/Chicago"
[storage]
database = "{db}"
[web]
listen = "127.0.0.1:0"
idle_lock_seconds = {idle_lock_seconds}
[[supervisor]]
name = "Maria"
pin_hash = "{hash}"
[[service]]
code = "484"
name = "Hot Meals"
unit = "count"
units = 1
unit_value = "0.00"
[[service]]
code = "200"
name = "Bed Night"
unit = "count"
units = 1
unit_value = "25.00"
hud_record_type = 200
hud_type_provided = 200
{extra}
"#,
        db = dir.join("station.db").display(),
        hash = cheap_hash(PIN),
    )
}

pub struct UiStation {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub base: String,
    shutdown: watch::Sender<bool>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl UiStation {
    pub async fn start(idle_lock_seconds: u64) -> UiStation {
        Self::start_with(idle_lock_seconds, "").await
    }

    /// `extra` is appended to the config text.
    pub async fn start_with(idle_lock_seconds: u64, extra: &str) -> UiStation {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("scanstation.toml"),
            config_text(dir.path(), idle_lock_seconds, extra),
        )
        .expect("write config");
        let app = Self::app(dir.path());
        app.store
            .with(|conn| {
                scanstation::import::import_path(
                    conn,
                    &fixture(),
                    &scanstation::import::ImportOptions { projects: vec![] },
                )
            })
            .expect("fixture imports");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(scanstation::daemon::run(app, listener, rx));
        UiStation {
            dir,
            port,
            base: format!("http://127.0.0.1:{port}"),
            shutdown: tx,
            handle: Some(handle),
        }
    }

    fn app(dir: &Path) -> App {
        let text = std::fs::read_to_string(dir.join("scanstation.toml")).expect("config");
        let settings = Config::parse(&text, Path::new("ui-test.toml"))
            .expect("config parses")
            .check()
            .expect("config is valid");
        let store = scanstation::store::Store::open(&settings.database).expect("store opens");
        App::new(settings, store)
    }

    /// Stop the daemon (graceful: event streams end, the port is released).
    pub async fn stop_server(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("server stops within 10 s")
                .expect("server task")
                .expect("server ends cleanly");
        }
    }

    /// Start the daemon again on the same port with the same database.
    pub async fn restart_server(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
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
        let app = Self::app(self.dir.path());
        let (tx, rx) = watch::channel(false);
        self.handle = Some(tokio::spawn(scanstation::daemon::run(app, listener, rx)));
        self.shutdown = tx;
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    pub fn api(&self) -> Api {
        Api {
            base: format!("{}/api/v1", self.base),
            http: reqwest::Client::new(),
            cookie: None,
        }
    }

    pub async fn supervisor(&self) -> Api {
        let mut api = self.api();
        api.login(PIN).await;
        api
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

impl Api {
    pub async fn login(&mut self, pin: &str) {
        let resp = self
            .http
            .post(format!("{}/session", self.base))
            .json(&json!({ "pin": pin }))
            .send()
            .await
            .expect("POST /session");
        assert_eq!(resp.status(), StatusCode::OK, "login");
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string();
        self.cookie = Some(cookie);
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
}
