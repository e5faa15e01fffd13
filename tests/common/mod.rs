//! Test helpers: a real station (real SQLite file in a temp folder, real HTTP server on
//! 127.0.0.1:0) driven over HTTP like any client would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::watch;

use scanstation::app::App;
use scanstation::config::Config;

pub const PIN: &str = "2468";
pub const OTHER_PIN: &str = "1357";

/// The station fixture in tests/fixtures/station (projects P1 "Meal Program", P2; clients C1..C6).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A cheap argon2 hash so debug-build tests stay quick (verification reads the parameters from
/// the hash; the product's `hash-pin` uses argon2's defaults).
pub fn cheap_hash(pin: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(64, 1, 1, None).unwrap();
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    a.hash_password_with_salt(pin.as_bytes(), b"saltsaltsaltsalt")
        .unwrap()
        .to_string()
}

/// The config text of a test station whose database is in `dir`; `extra` is appended.
pub fn config_text(dir: &Path, extra: &str) -> String {
    format!(
        r#"
[station]
id = "test-1"
timezone = "America/Chicago"
[storage]
database = "{db}"
[web]
listen = "127.0.0.1:0"
idle_lock_seconds = 120
[[supervisor]]
name = "Maria"
pin_hash = "{h1}"
hmis_user_id = "BS7"
[[supervisor]]
name = "Ana"
pin_hash = "{h2}"
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
hud_record_type = 200
hud_type_provided = 200
{extra}
"#,
        db = dir.join("station.db").display(),
        h1 = cheap_hash(PIN),
        h2 = cheap_hash(OTHER_PIN),
    )
}

pub struct Station {
    pub dir: tempfile::TempDir,
    pub base: String,
    pub app: App,
    shutdown: watch::Sender<bool>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Station {
    /// A station with the fixture imported, serving on 127.0.0.1:0.
    pub async fn start(extra_config: &str) -> Station {
        Self::start_with(extra_config, Some(&fixture("station"))).await
    }

    pub async fn start_with(extra_config: &str, import: Option<&Path>) -> Station {
        Self::start_custom(extra_config, import, |t| t).await
    }

    /// Like `start_with`, with a last edit of the config text.
    pub async fn start_custom(
        extra_config: &str,
        import: Option<&Path>,
        edit: impl FnOnce(String) -> String,
    ) -> Station {
        let dir = tempfile::tempdir().unwrap();
        let text = edit(config_text(dir.path(), extra_config));
        std::fs::write(dir.path().join("scanstation.toml"), &text).unwrap();
        let settings = Config::parse(&text, Path::new("test.toml"))
            .unwrap()
            .check()
            .unwrap();
        let store = scanstation::store::Store::open(&settings.database).unwrap();
        if let Some(path) = import {
            store
                .with(|conn| {
                    scanstation::import::import_path(
                        conn,
                        path,
                        &scanstation::import::ImportOptions { projects: vec![] },
                    )
                })
                .unwrap();
        }
        let app = App::new(settings, store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(scanstation::daemon::run(app.clone(), listener, rx));
        Station {
            dir,
            base,
            app,
            shutdown: tx,
            handle: Some(handle),
        }
    }

    pub fn client(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: http(),
            cookie: None,
        }
    }

    /// A client logged in as Maria.
    pub async fn supervisor(&self) -> Api {
        let mut api = self.client();
        api.login(PIN).await;
        api
    }

    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("server stops within 10 s of shutdown")
                .unwrap()
                .unwrap();
        }
    }
}

/// A plain HTTP client (rustls needs its provider chosen before any client is built).
pub fn http() -> reqwest::Client {
    scanstation::init_tls();
    reqwest::Client::new()
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

impl Api {
    pub async fn login(&mut self, pin: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/session", self.base))
            .json(&serde_json::json!({ "pin": pin }))
            .send()
            .await
            .unwrap();
        if let Some(c) = resp.headers().get("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            self.cookie = Some(c.split(';').next().unwrap().to_string());
        }
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
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
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
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
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Create a batch and return its id.
    pub async fn new_batch(&self, body: Value) -> String {
        let (s, b) = self.post("/batches", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().unwrap().to_string()
    }
}

/// Poll `f` until it returns Some, or fail after `deadline`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
