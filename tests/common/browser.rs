//! Headless Chromium for the kiosk UI tests: Debian's chromium driven by its chromedriver over
//! W3C WebDriver, through the fantoccini client. Only what the tests use: navigate, run a
//! script, wait for a condition with a deadline, find and click, type, screenshots, an exact
//! viewport, and a home whose NSS database trusts one certificate (the kiosk over HTTPS).
//!
//! chromedriver runs in its own process group; dropping the [`Browser`] kills the whole group
//! (chromedriver and the Chromium it started), so a failing test leaves no browser behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The longest a navigation or a script may take before the browser command fails.
const PAGE_LOAD: Duration = Duration::from_secs(30);
/// NSS's certutil (Debian's libnss3-tools), to make a trust store Chromium reads.
pub const CERTUTIL: &str = "/usr/bin/certutil";

/// True when Debian's chromium and chromium-driver are installed (tests/run.sh installs them).
/// When they are not: a failure under `CI=true`, a printed skip elsewhere.
pub fn chromium_ready() -> bool {
    super::lib::init_tls();
    super::precondition(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        &format!(
            "the UI tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); \
             tests/run.sh installs them"
        ),
    )
}

/// True when certutil is installed (tests/run.sh installs libnss3-tools); as
/// [`chromium_ready`], a failure under `CI=true` when it is not.
pub fn certutil_ready() -> bool {
    super::precondition(
        Path::new(CERTUTIL).exists(),
        &format!(
            "the HTTPS UI test needs certutil ({CERTUTIL}, Debian's libnss3-tools); \
             tests/run.sh installs it"
        ),
    )
}

/// A new home folder whose NSS database (`$HOME/.pki/nssdb`, what Chromium reads on Linux, as
/// docs/IT.md tells IT to set up for the kiosk) trusts the PEM certificate `cert` as a server
/// certificate, and nothing else added. Start the browser in it with [`Browser::start_in_home`].
pub fn home_trusting(cert: &Path) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temp home");
    let nssdb = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).expect("make .pki/nssdb");
    let db = format!("sql:{}", nssdb.display());
    let certutil = |args: &[&str]| {
        let st = Command::new(CERTUTIL)
            .args(args)
            .status()
            .expect("run certutil");
        assert!(st.success(), "certutil {args:?}");
    };
    certutil(&["-d", &db, "-N", "--empty-password"]);
    let cert = cert.to_str().expect("certificate path is UTF-8");
    certutil(&[
        "-d",
        &db,
        "-A",
        "-t",
        "P,,",
        "-n",
        "scanstation",
        "-i",
        cert,
    ]);
    home
}

/// A Chrome DevTools command through chromedriver (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

impl Browser {
    /// Start chromedriver and a headless Chromium session with this viewport (CSS pixels).
    pub async fn start(width: u32, height: u32) -> Result<Browser> {
        Self::start_with(width, height, None).await
    }

    /// [`Browser::start`] with `HOME` set to `home` for chromedriver and the Chromium it starts
    /// (so Chromium reads that home's NSS trust store, see [`home_trusting`]).
    pub async fn start_in_home(width: u32, height: u32, home: &Path) -> Result<Browser> {
        Self::start_with(width, height, Some(home)).await
    }

    async fn start_with(width: u32, height: u32, home: Option<&Path>) -> Result<Browser> {
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        if let Some(home) = home {
            cmd.env("HOME", home);
        }
        let driver = cmd
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        let profile = tempfile::tempdir()?;
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver listens once it is ready; until then the status request is refused.
        let http = super::http();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match http.get(format!("{url}/status")).send().await {
                Ok(r) => r.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if ready.is_some_and(|v| v["value"]["ready"] == true) {
                break;
            }
            if Instant::now() > deadline {
                super::sys::kill_group(driver.id());
                return Err(anyhow!("chromedriver did not become ready within 20 s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = [
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
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        // A navigation returns once the document is parsed (every test then waits for what it
        // needs on the page); a page that never finishes loading fails within PAGE_LOAD instead of
        // chromedriver's five minutes.
        caps.insert("pageLoadStrategy".into(), json!("eager"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let connected = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await;
        let client = match connected {
            Ok(c) => c,
            Err(e) => {
                super::sys::kill_group(driver.id());
                return Err(anyhow!("no Chromium session: {e}"));
            }
        };
        let b = Browser {
            client,
            driver,
            _profile: profile,
        };
        b.client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(PAGE_LOAD),
                Some(PAGE_LOAD),
                Some(Duration::ZERO),
            ))
            .await?;
        b.viewport(width, height).await?;
        Ok(b)
    }

    /// Set the page's viewport exactly, whatever the window decorations.
    pub async fn viewport(&self, width: u32, height: u32) -> Result<()> {
        self.client
            .issue_cmd(Cdp(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}}),
            ))
            .await?;
        Ok(())
    }

    /// Navigate to `url`. A navigation that times out is tried once more: a fresh Chromium's
    /// first renderer has been seen to hang there ("Timed out receiving message from renderer",
    /// once in three full runs, on the first page of a run); a second failure fails the test.
    pub async fn goto(&self, url: &str) -> Result<()> {
        match self.client.goto(url).await {
            Err(e) if e.to_string().contains("timeout") => {
                eprintln!("goto {url}: {e}; trying once more");
                self.client
                    .goto(url)
                    .await
                    .with_context(|| format!("goto {url} (second try)"))
            }
            other => other.with_context(|| format!("goto {url}")),
        }
    }

    /// Run a script (a function body; `arguments[i]` are the args) and return its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Poll a script until it returns something truthy; fail with `what` after `timeout`.
    pub async fn wait(&self, what: &str, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            match self.js(script, vec![]).await {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => last = v,
                Err(e) => last = Value::String(e.to_string()),
            }
            if Instant::now() > deadline {
                let body = self
                    .js(
                        "return document.body ? document.body.innerText.slice(0, 600) : ''",
                        vec![],
                    )
                    .await
                    .unwrap_or(Value::Null);
                return Err(anyhow!(
                    "timed out after {timeout:?} waiting for {what} (last: {last}); page text: {body}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    /// Wait until an element matching `css` exists and is displayed.
    pub async fn wait_visible(&self, css: &str, timeout: Duration) -> Result<()> {
        let script = format!(
            "const e = document.querySelector({}); return !!(e && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');",
            serde_json::to_string(css)?
        );
        self.wait(css, &script, timeout).await.map(|_| ())
    }

    /// A real click (pointer events, visibility and obscured checks) on the element.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.click_once(css)
            .await
            .map_err(|e| anyhow!("click {css}: {e}"))
    }

    async fn click_once(&self, css: &str) -> std::result::Result<(), fantoccini::error::CmdError> {
        self.client.find(Locator::Css(css)).await?.click().await
    }

    /// Wait for the element to be visible and enabled, then click it. A page that re-rendered
    /// between finding and clicking (stale element) is retried until the deadline. The element is
    /// first scrolled into sight as a person would swipe it there, which (unlike WebDriver's own
    /// scrolling) keeps clear of sticky bars (the scroll container's `scroll-padding`).
    pub async fn tap(&self, css: &str) -> Result<()> {
        let script = format!(
            "const e = document.querySelector({}); if (e && e.getClientRects().length && !e.disabled) {{ e.scrollIntoView({{block: 'nearest', inline: 'nearest'}}); return true; }} return false;",
            serde_json::to_string(css)?
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.wait(
                &format!("{css} clickable"),
                &script,
                Duration::from_secs(10),
            )
            .await?;
            match self.click_once(css).await {
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                r => return r.map_err(|e| anyhow!("tap {css}: {e}")),
            }
        }
    }

    /// Type text into a field (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let e = self.client.find(Locator::Css(css)).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                vec![json!(css)],
            )
            .await?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no element {css}"))
    }

    /// Save a PNG screenshot of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(path.to_path_buf())
    }

    /// End the session; dropping kills what is left.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SIGKILL to chromedriver alone would orphan Chromium: kill the process group.
        super::sys::kill_group(self.driver.id());
        let _ = self.driver.wait();
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

// ---- Shared steps of the UI tests ----

const STEP: Duration = Duration::from_secs(10);

/// `target/screenshots`, next to the test binaries.
pub fn screenshots_dir() -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/screenshots
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// Save a screenshot `target/screenshots/NAME-WxH.png` (to look at) and check that every control
/// on screen is a touch target of at least 48x48 CSS pixels.
pub async fn shot(b: &Browser, name: &str, (w, h): (u32, u32)) {
    // Let fonts and the last frame settle: wait for two animation frames, not a fixed time.
    let _ = b
        .wait(
            "two frames",
            "if (!window.__f) { window.__f = 0; requestAnimationFrame(() => requestAnimationFrame(() => { window.__f = 1; })); } \
             if (window.__f === 1) { window.__f = 0; return true; } return false;",
            STEP,
        )
        .await;
    let path = screenshots_dir().join(format!("{name}-{w}x{h}.png"));
    b.screenshot(&path).await.unwrap();
    // Every control on screen is a touch target of at least 48x48 CSS pixels.
    let small = b
        .js(
            "const bad = [];              for (const e of document.querySelectorAll('button, a[href], input, select, [role=checkbox]')) {                const r = e.getBoundingClientRect();                if (!e.getClientRects().length || r.width === 0) continue;                if (r.width < 48 || r.height < 48) bad.push(`${e.tagName} ${e.id || e.className} '${(e.innerText || e.value || '').slice(0, 20)}' ${Math.round(r.width)}x${Math.round(r.height)}`);              } return bad;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        small,
        json!([]),
        "{name} at {w}x{h}: touch targets under 48 px"
    );
}

/// Wait until the banner shows the verdict with sequence number > `after`; returns its seq.
pub async fn wait_banner(b: &Browser, verdict: &str, after: u64) -> u64 {
    let script = format!(
        "const e = document.getElementById('banner'); \
         if (e && e.dataset.verdict === '{verdict}' && Number(e.dataset.seq) > {after} && e.getClientRects().length) return Number(e.dataset.seq); return 0;"
    );
    b.wait(&format!("banner {verdict}"), &script, STEP)
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

/// Enter `pin` on the PIN pad and unlock.
pub async fn login(b: &Browser, pin: &str) {
    b.wait_visible("#pin-dots", STEP).await.unwrap();
    for d in pin.chars() {
        b.tap(&format!("[data-key=\"{d}\"]")).await.unwrap();
    }
    b.tap("#pin-ok").await.unwrap();
}
