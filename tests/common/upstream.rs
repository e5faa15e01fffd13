//! The upstream side of the tests and the upstream benchmark: a test CA made with rcgen, a real
//! HTTPS receiver (rustls via tokio-rustls, a minimal HTTP/1.1 responder) that records every
//! request and answers from a script, posted services queued straight into a station's database,
//! and the outbox worker on its own runtime thread.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority made for one test.
pub struct TestCa {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for 127.0.0.1 and localhost signed by this CA.
    pub fn server_cert(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "receiver");
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let p = dir.join("ca.pem");
        std::fs::write(&p, &self.cert_pem).unwrap();
        p
    }
}

/// A runtime of its own for a server or worker thread (two workers, like the daemon's).
fn own_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// What the receiver does with a request.
#[derive(Debug, Clone)]
pub enum Action {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Wait, then do the inner action (the client may have given up by then).
    Delay(Duration, Box<Action>),
    /// Read the request head, then reset the TCP connection (RST) without answering.
    Reset,
    /// Never answer; keep the connection open until the client goes away.
    Hold,
}

impl Action {
    pub fn status(status: u16) -> Action {
        Action::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Action {
        if let Action::Respond { headers, .. } = &mut self {
            headers.push((k.to_string(), v.to_string()));
        }
        self
    }
    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Action {
        if let Action::Respond { body, .. } = &mut self {
            *body = b.into();
        }
        self
    }
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False when the receiver reset the connection before the body was read.
    pub complete: bool,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    /// The service ids in an http-json delivery body.
    pub fn service_ids(&self) -> Vec<String> {
        self.json()["services"]
            .as_array()
            .expect("services array")
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    script: Mutex<VecDeque<Action>>,
    default: Mutex<Option<Action>>,
    tls_failures: AtomicUsize,
    connections: AtomicUsize,
}

/// A real HTTPS server on 127.0.0.1, on its own thread.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _thread: std::thread::JoinHandle<()>,
}

impl Receiver {
    /// Serve with a certificate from `ca`; answers 200 unless scripted otherwise.
    pub fn start(ca: &TestCa) -> Receiver {
        let (cert, key) = ca.server_cert();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let shared = Arc::new(Shared::default());
        *shared.default.lock().unwrap() = Some(Action::status(200).body("{\"ok\":true}"));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = own_runtime();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    let sh = sh.clone();
                    tokio::spawn(async move {
                        sh.connections.fetch_add(1, Ordering::SeqCst);
                        let _ = tcp.set_nodelay(true);
                        match acceptor.accept(tcp).await {
                            Ok(tls) => serve_connection(tls, sh).await,
                            Err(_) => {
                                sh.tls_failures.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    });
                }
            });
        });
        Receiver {
            addr,
            shared,
            _thread: thread,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/scanstation/v1", self.addr.port())
    }

    /// Answer the next requests with these actions, in order (then the default).
    pub fn script(&self, actions: impl IntoIterator<Item = Action>) {
        self.shared.script.lock().unwrap().extend(actions);
    }

    pub fn set_default(&self, action: Action) {
        *self.shared.default.lock().unwrap() = Some(action);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn tls_failures(&self) -> usize {
        self.shared.tls_failures.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Wait until `f(requests)` holds, or panic after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&[Request]) -> bool) {
        wait_until(what, timeout, || f(&self.shared.requests.lock().unwrap()));
    }
}

/// [`eventually_blocking`] for a yes/no condition.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    eventually_blocking(timeout, what, || f().then_some(()))
}

async fn serve_connection<S>(mut io: tokio_rustls::server::TlsStream<S>, sh: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + AsRawTcp,
{
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // The request head.
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p;
            }
            let mut chunk = [0u8; 16 * 1024];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or("");
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let action = {
            let next = sh.script.lock().unwrap().pop_front();
            next.unwrap_or_else(|| sh.default.lock().unwrap().clone().unwrap())
        };
        if let Action::Reset = action {
            sh.requests.lock().unwrap().push(Request {
                method,
                path,
                headers,
                body: std::mem::take(&mut buf),
                complete: false,
                at: Instant::now(),
            });
            io.get_ref().0.reset();
            return;
        }
        while buf.len() < len {
            let mut chunk = [0u8; 64 * 1024];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..len).collect();
        sh.requests.lock().unwrap().push(Request {
            method,
            path,
            headers,
            body,
            complete: true,
            at: Instant::now(),
        });
        let mut action = action;
        while let Action::Delay(d, inner) = action {
            tokio::time::sleep(d).await;
            action = *inner;
        }
        match action {
            Action::Respond {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                if io.write_all(&bytes).await.is_err() || io.flush().await.is_err() {
                    return;
                }
            }
            Action::Hold => {
                let mut chunk = [0u8; 1024];
                loop {
                    match io.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            }
            Action::Reset | Action::Delay(..) => return,
        }
    }
}

/// Reset a TCP connection (SO_LINGER 0, then close).
pub trait AsRawTcp {
    fn reset(&self);
}

impl AsRawTcp for TcpStream {
    fn reset(&self) {
        let _ = self.set_zero_linger();
        // The socket itself is closed when the connection task returns and drops it.
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

// ---- the station side -------------------------------------------------------------------------

use super::config::StationConfig;
use super::lib::{self, App, Backoff, Settings};
use super::wait::eventually_blocking;

/// Settings for a test station `test-station` in `dir`: `upstream` is the body of the
/// `[upstream]` table, `extra` more tables (e.g. `[hmis]`).
pub fn settings(dir: &Path, upstream: &str, extra: &str) -> Settings {
    StationConfig::new(dir)
        .station_id("test-station")
        .upstream(upstream)
        .extra(extra)
        .settings()
}

/// The `[upstream]` body for an http-json receiver, trusting `ca_pem`.
pub fn http_upstream(dir: &Path, url: &str, ca_pem: &Path, extra: &str) -> String {
    let token = dir.join("upstream.token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    format!(
        "kind = \"http-json\"\nurl = \"{url}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\n{extra}\n",
        token.display(),
        ca_pem.display()
    )
}

/// The app over the settings' database, nothing running.
pub fn app(settings: Settings) -> App {
    lib::open_app(settings)
}

/// Insert a posted batch of `n` services (the post's rows, written directly) and its outbox rows:
/// `chunk` services per `kind` delivery. Returns (service ids, idempotency keys).
pub fn post_batch(
    conn: &rusqlite::Connection,
    batch_id: &str,
    n: usize,
    chunk: usize,
    kind: &str,
    service_code: &str,
    date: &str,
) -> (Vec<String>, Vec<String>) {
    let now = chrono::Utc::now().to_rfc3339();
    conn.execute(
        "INSERT INTO batches (id, name, project_id, service_code, service_date, units, unit_value, \
         state, created_at, created_by, posted_at, posted_by) \
         VALUES (?1, 'Lunch', 'P1', ?2, ?3, 1, '0.00', 'posted', ?4, 'Maria', ?4, 'Maria')",
        rusqlite::params![batch_id, service_code, date, now],
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let (rt, tp): (Option<u32>, Option<u32>) = if service_code == "200" {
            (Some(200), Some(200))
        } else {
            (None, None)
        };
        conn.execute(
            "INSERT INTO services (id, batch_id, entry_id, personal_id, enrollment_id, project_id, \
             service_code, date_provided, unit, units, unit_value, hud_record_type, \
             hud_type_provided, posted_by, posted_by_user_id, posted_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'P1', ?6, ?7, 'count', 1, '0.00', ?8, ?9, 'Maria', 'BS7', ?10)",
            rusqlite::params![
                id,
                batch_id,
                format!("{batch_id}-e{i}"),
                format!("C{i:05}"),
                format!("E{i:05}"),
                service_code,
                date,
                rt,
                tp,
                now
            ],
        )
        .unwrap();
        ids.push(id);
    }
    let mut keys = Vec::new();
    if kind != "none" {
        for part in ids.chunks(chunk.max(1)) {
            let key = uuid::Uuid::new_v4().to_string();
            conn.execute(
                "INSERT INTO outbox (batch_id, kind, idempotency_key, service_ids, state, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
                rusqlite::params![batch_id, kind, key, serde_json::to_string(part).unwrap(), now],
            )
            .unwrap();
            keys.push(key);
        }
    }
    (ids, keys)
}

/// (state, attempts, last_error) of every outbox row, by id.
pub fn outbox_rows(conn: &rusqlite::Connection) -> Vec<(String, i64, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT state, attempts, last_error FROM outbox ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The worker running on its own runtime thread, stopped on drop.
pub struct Running {
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub app: App,
}

impl Running {
    pub fn start(app: App, backoff: Backoff) -> Running {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let worker_app = app.clone();
        let thread = std::thread::spawn(move || {
            let rt = own_runtime();
            rt.block_on(lib::run_upstream(worker_app, rx, backoff));
        });
        Running {
            shutdown: tx,
            thread: Some(thread),
            app,
        }
    }

    /// Wake the worker (as a post or a supervisor's retry does).
    pub fn notify(&self) {
        lib::notify_outbox(&self.app);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A short retry timing for tests.
pub fn quick_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(50), Duration::from_millis(400))
}

/// A zip of every file in a folder (a HUD CSV export as the HMIS would serve it).
pub fn zip_folder(dir: &Path) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            zip.start_file(
                p.file_name().unwrap().to_string_lossy(),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// A second connection on the settings' database (what the tests look through).
pub fn db(settings: &Settings) -> rusqlite::Connection {
    lib::db_at(&lib::database(settings))
}
