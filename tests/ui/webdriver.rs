//! A small W3C WebDriver client for the UI tests: speaks JSON to Debian's chromedriver with
//! reqwest, drives headless Chromium. Only what the tests use: navigate, run a script, find and
//! click elements, type, wait for a condition with a deadline, screenshots, viewport size.

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Make sure Debian's chromium and chromium-driver are installed; installs them with apt-get when
/// missing (the test command runs as root). Returns false, after printing why, when they cannot be.
pub fn ensure_chromium() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    eprintln!("ui tests: chromium or chromedriver missing; trying apt-get install chromium chromium-driver");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "-q", "chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-q", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    eprintln!(
        "SKIPPED: the UI tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}) \
         and they could not be installed"
    );
    false
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

#[derive(Debug)]
pub struct WdError(pub String);

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for WdError {}

pub type Result<T> = std::result::Result<T, WdError>;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

impl Browser {
    /// Start chromedriver and a headless Chromium session with the given viewport.
    pub async fn start(width: u32, height: u32) -> Result<Browser> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        // Its own process group: on teardown the whole group (chromedriver and the Chromium it
        // started) is killed, so a failing test leaves no browser behind.
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| WdError(format!("cannot start {CHROMEDRIVER}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| WdError(format!("http client: {e}")))?;
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().map_err(|e| WdError(e.to_string()))?;
        let mut b = Browser {
            http,
            base,
            session: String::new(),
            driver,
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = b.raw("GET", "/status", None).await {
                if v["ready"].as_bool().unwrap_or(false) {
                    break;
                }
            }
            if Instant::now() > deadline {
                return Err(WdError("chromedriver did not become ready".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
            format!("--window-size={},{}", width + 100, height + 200),
            format!("--user-data-dir={}", b._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let v = b.raw("POST", "/session", Some(caps)).await?;
        b.session = v["sessionId"]
            .as_str()
            .ok_or_else(|| WdError(format!("no session id in {v}")))?
            .to_string();
        b.viewport(width, height).await?;
        Ok(b)
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| WdError(format!("{method} {path}: {e}")))?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .map_err(|e| WdError(format!("{method} {path}: bad JSON: {e}")))?;
        if !status.is_success() {
            return Err(WdError(format!(
                "{method} {path}: {status}: {}",
                v["value"]["message"].as_str().unwrap_or(&v.to_string())
            )));
        }
        Ok(v["value"].clone())
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        self.raw(method, &format!("/session/{}{}", self.session, path), body)
            .await
    }

    /// Set the page's viewport exactly (CSS pixels), independent of the window decorations.
    pub async fn viewport(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}}),
            ),
        )
        .await
        .map(|_| ())
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .await
            .map(|_| ())
    }

    /// Run a script (a function body; `arguments[i]` are the args) and return its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Poll a script until it returns something truthy; fail with `what` after `timeout`.
    pub async fn wait(&self, what: &str, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            match self.js(script, vec![]).await {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => last = v,
                Err(e) => last = Value::String(e.0),
            }
            if Instant::now() > deadline {
                let body = self
                    .js(
                        "return document.body ? document.body.innerText.slice(0, 600) : ''",
                        vec![],
                    )
                    .await
                    .unwrap_or(Value::Null);
                return Err(WdError(format!(
                    "timed out after {timeout:?} waiting for {what} (last: {last}); page text: {body}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    /// Wait until an element matching `css` exists and is displayed.
    pub async fn wait_visible(&self, css: &str, timeout: Duration) -> Result<()> {
        let script = format!(
            "const e = document.querySelector({}); return !!(e && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');",
            serde_json::to_string(css).unwrap_or_default()
        );
        self.wait(css, &script, timeout).await.map(|_| ())
    }

    async fn find(&self, css: &str) -> Result<String> {
        let v = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v[ELEMENT_KEY]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| WdError(format!("no element {css}")))
    }

    /// A real click (pointer events, visibility and obscured checks) on the element.
    pub async fn click(&self, css: &str) -> Result<()> {
        let id = self.find(css).await?;
        self.cmd("POST", &format!("/element/{id}/click"), None)
            .await
            .map(|_| ())
    }

    /// Wait for the element to be visible and enabled, then click it. A page that re-rendered
    /// between finding and clicking (stale element) is retried until the deadline.
    pub async fn tap(&self, css: &str) -> Result<()> {
        let script = format!(
            "const e = document.querySelector({}); return !!(e && e.getClientRects().length && !e.disabled);",
            serde_json::to_string(css).unwrap_or_default()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.wait(
                &format!("{css} clickable"),
                &script,
                Duration::from_secs(10),
            )
            .await?;
            match self.click(css).await {
                Err(e) if e.0.contains("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                r => return r,
            }
        }
    }

    /// Type text into a field (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let id = self.find(css).await?;
        self.cmd("POST", &format!("/element/{id}/clear"), None)
            .await?;
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .map(|_| ())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                vec![json!(css)],
            )
            .await?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| WdError(format!("no element {css}")))
    }

    /// Save a PNG screenshot of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<PathBuf> {
        let v = self.cmd("GET", "/screenshot", None).await?;
        let b64 = v.as_str().ok_or_else(|| WdError("no screenshot".into()))?;
        let png = base64_decode(b64).ok_or_else(|| WdError("bad base64".into()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| WdError(e.to_string()))?;
        }
        std::fs::write(path, png).map_err(|e| WdError(e.to_string()))?;
        Ok(path.to_path_buf())
    }

    pub async fn quit(self) {
        let _ = self
            .raw("DELETE", &format!("/session/{}", self.session), None)
            .await;
        // Drop kills what is left.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SIGKILL to chromedriver alone would orphan Chromium: kill the process group.
        let pgid = self.driver.id() as i32;
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.driver.wait();
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().map(|f| f != 0.0).unwrap_or(false),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().take_while(|&&c| c != b'=').count();
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate().take(n) {
            acc |= val(c)? << (18 - 6 * i);
        }
        let b = acc.to_be_bytes();
        out.extend_from_slice(&b[1..n.max(1)]);
    }
    Some(out)
}
