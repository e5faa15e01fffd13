//! Shared by the serial tests: fake serial scanners on real pseudo-terminals, a station built
//! from a temp config, and waiting on a condition with a deadline.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A serial scanner: the master side of a pty whose slave is reachable through `link`.
pub struct FakePort {
    master: Option<File>,
    link: PathBuf,
    pub node: PathBuf,
}

impl FakePort {
    /// Plug in: a new pty (raw mode) and `link` pointing at its slave, replaced atomically.
    pub fn plug(link: &Path) -> FakePort {
        let (mut m, mut s) = (0, 0);
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        let mut name = [0 as libc::c_char; 128];
        let rc = unsafe { libc::ttyname_r(s, name.as_mut_ptr(), name.len()) };
        assert_eq!(rc, 0, "ttyname_r");
        let node = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(s, &mut t), 0);
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
            libc::close(s);
        }
        let tmp = link.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&node, &tmp).unwrap();
        std::fs::rename(&tmp, link).unwrap();
        FakePort {
            master: Some(unsafe { File::from_raw_fd(m) }),
            link: link.to_path_buf(),
            node: PathBuf::from(node),
        }
    }

    /// The scanner sends bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        let m = self.master.as_mut().expect("plugged in");
        m.write_all(bytes).unwrap();
        m.flush().unwrap();
    }

    /// Read exactly `buf.len()` bytes the other side sent back (blocking).
    pub fn read_exact(&mut self, buf: &mut [u8]) {
        use std::io::Read;
        self.master
            .as_mut()
            .expect("plugged in")
            .read_exact(buf)
            .unwrap();
    }

    /// Unplug: the pty goes away (the reader gets an error or end of file) and so does the link.
    pub fn unplug(&mut self) {
        self.master = None;
        let _ = std::fs::remove_file(&self.link);
    }
}

/// Another program holding the port: an exclusive flock on it, as serial programs take.
pub fn hold_exclusive(path: &Path) -> File {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "flock: {}", std::io::Error::last_os_error());
    f
}

/// The config text for a station with these serial scanners (path, lane).
pub fn config_text(dir: &Path, scanners: &[(&Path, &str)]) -> String {
    let mut t = format!(
        "[station]\nid = \"test\"\ntimezone = \"America/Chicago\"\n[storage]\ndatabase = \"{}\"\n",
        dir.join("station.db").display()
    );
    for (path, lane) in scanners {
        t.push_str(&format!(
            "[[scanner]]\nkind = \"serial\"\npath = \"{}\"\nlane = \"{lane}\"\nterminator = \"CR\"\n",
            path.display()
        ));
    }
    t
}

/// A station (real SQLite file in `dir`) with these serial scanners.
pub fn test_app(dir: &Path, scanners: &[(&Path, &str)]) -> scanstation::app::App {
    let text = config_text(dir, scanners);
    let settings = scanstation::config::Config::parse(&text, Path::new("test.toml"))
        .unwrap()
        .check()
        .unwrap();
    let store = scanstation::store::Store::open(&dir.join("station.db")).unwrap();
    scanstation::app::App::new(settings, store)
}

/// Poll `f` until it gives a value, or fail after 10 s naming what was awaited.
pub async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A whole station (the daemon's `run`: web server, scanners, upstream worker) on 127.0.0.1:0
/// with a real SQLite file, the tests/fixtures/hmis/basic enrollment data, supervisor PIN 4321,
/// service 484 and the given serial scanners.
pub struct Station {
    pub app: scanstation::app::App,
    pub base: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub const PIN: &str = "4321";

impl Station {
    pub async fn start(dir: &Path, scanners: &[(&Path, &str)]) -> Station {
        Self::start_with(dir, scanners, "").await
    }

    /// `extra` is appended to each `[[scanner]]` table (e.g. "double_read_ms = 0\n").
    pub async fn start_with(dir: &Path, scanners: &[(&Path, &str)], extra: &str) -> Station {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = dir.join("station.db");
        {
            let mut conn = scanstation::store::open_connection(&db).unwrap();
            let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis/basic");
            scanstation::import::import_path(
                &mut conn,
                &data,
                &scanstation::import::ImportOptions::default(),
            )
            .unwrap();
        }
        let hash = scanstation::pin::hash_pin(PIN).unwrap();
        let mut text = config_text(dir, &[]);
        text.push_str(&format!(
            "[[supervisor]]\nname = \"Maria\"\npin_hash = \"{hash}\"\n\
             [[service]]\ncode = \"484\"\nname = \"Hot Meals\"\nunit = \"count\"\n"
        ));
        for (path, lane) in scanners {
            text.push_str(&format!(
                "[[scanner]]\nkind = \"serial\"\npath = \"{}\"\nlane = \"{lane}\"\n{extra}",
                path.display()
            ));
        }
        let settings = scanstation::config::Config::parse(&text, Path::new("test.toml"))
            .unwrap()
            .check()
            .unwrap();
        let store = scanstation::store::Store::open(&db).unwrap();
        let app = scanstation::app::App::new(settings, store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let (stop, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(scanstation::daemon::run(app.clone(), listener, rx));
        Station {
            app,
            base,
            stop,
            task,
        }
    }

    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("daemon stops on shutdown")
            .unwrap()
            .unwrap();
    }
}

/// A supervisor's HTTP client (session cookie kept by hand: reqwest has no cookie store here).
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    cookie: String,
}

impl Api {
    pub async fn login(base: &str) -> Api {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = http
            .post(format!("{base}/session"))
            .json(&serde_json::json!({ "pin": PIN }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login");
        let cookie = resp
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .expect("session cookie")
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Api {
            http,
            base: base.to_string(),
            cookie,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        let (s, v) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    /// A new open batch for today (project 1001, service 484) bound to `lane`; returns its id.
    pub async fn batch_on_lane(&self, lane: &str, today: &str) -> String {
        let (s, b) = self
            .send(
                reqwest::Method::POST,
                "/batches",
                Some(serde_json::json!({
                    "project_id": "1001", "service_code": "484", "service_date": today,
                })),
            )
            .await;
        assert_eq!(s, 201, "create batch: {b}");
        let id = b["id"].as_str().unwrap().to_string();
        let (s, v) = self
            .send(
                reqwest::Method::PUT,
                &format!("/lanes/{lane}"),
                Some(serde_json::json!({ "batch_id": id })),
            )
            .await;
        assert_eq!(s, 200, "bind lane: {v}");
        id
    }

    /// Poll the batch until it has `n` entries (deadline 10 s); returns them.
    pub async fn wait_entries(&self, batch: &str, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let b = self.get(&format!("/batches/{batch}")).await;
            let entries = b["entries"].as_array().cloned().unwrap_or_default();
            if entries.len() >= n {
                return entries;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} entries in batch {batch}: {} so far",
                entries.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Poll `GET /status` until scanner `index` is in `state`; returns that scanner's status.
    pub async fn wait_scanner(&self, index: usize, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.get("/status").await;
            let sc = s["scanners"][index].clone();
            if sc["state"] == state {
                return sc;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for scanner {index} to be {state}: {sc}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
