//! HTTPS for the LAN: tablets send the supervisor PIN, the session cookie and client names, so
//! anything but loopback is served over TLS (rustls).
//!
//! `[web] tls = "auto"` (the default) turns HTTPS on whenever `listen` is not a loopback address;
//! `"on"` forces it (tests use it on 127.0.0.1), `"off"` is refused by the config check on a
//! non-loopback address. The certificate is `[web] tls_cert` / `tls_key` (PEM) when IT has one,
//! else a self-signed one made once in the state folder (`tls-cert.pem`, `tls-key.pem`, 0600)
//! and kept across restarts, so tablets that trusted it keep trusting it. It names `localhost`,
//! the loopback addresses, the `listen` address, the host name (and `NAME.local`) and the hosts of
//! `[web] allowed_origins`; it lasts 825 days (the most Apple devices accept) and is made anew
//! after 800. Its SHA-256 fingerprint is logged at start, shown on `/status` and the status
//! screen, and printed by `check-config`, so IT can compare it with what a tablet shows.
//!
//! The listener hands each accepted connection to its own task for the handshake (a slow or
//! silent client never holds up the next one) and gives axum only finished TLS streams, so
//! `axum::serve` and its graceful shutdown work unchanged. A client that speaks plain HTTP to the
//! HTTPS port gets a short 400 that names the https:// address, then the connection is closed.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::WebSettings;

/// File names of the self-signed certificate in the state folder.
pub const SELF_SIGNED_CERT: &str = "tls-cert.pem";
pub const SELF_SIGNED_KEY: &str = "tls-key.pem";
/// How long a self-signed certificate is valid, and when a new one is made.
const VALID_DAYS: i64 = 825;
const RENEW_AFTER_DAYS: u64 = 800;
/// A client must finish its handshake within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("{0} holds no PEM private key")]
    NoKey(PathBuf),
    #[error("the certificate and key do not work together: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Does this `[web]` serve HTTPS?
pub fn enabled(web: &WebSettings) -> bool {
    web.https()
}

/// Where the certificate and key come from.
pub fn cert_paths(web: &WebSettings, state_dir: &Path) -> (PathBuf, PathBuf, bool) {
    match (&web.tls_cert, &web.tls_key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone(), false),
        _ => (
            state_dir.join(SELF_SIGNED_CERT),
            state_dir.join(SELF_SIGNED_KEY),
            true,
        ),
    }
}

/// The served certificate, as `/status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    /// SHA-256 of the certificate (DER), as `AB:CD:...`.
    pub fingerprint_sha256: String,
    pub cert_file: PathBuf,
    pub self_signed: bool,
}

/// What the HTTPS listener needs.
#[derive(Clone)]
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    pub info: CertInfo,
}

/// SHA-256 of a certificate, upper-case hex pairs joined by colons (as browsers show it).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The fingerprint of the certificate a config would serve, if its file exists yet.
pub fn configured_fingerprint(web: &WebSettings, state_dir: &Path) -> Option<String> {
    let (cert, _, _) = cert_paths(web, state_dir);
    let der = CertificateDer::pem_file_iter(&cert).ok()?.next()?.ok()?;
    Some(fingerprint(&der))
}

/// What `check-config` says about HTTPS: the fingerprint IT compares on the tablets, or that the
/// certificate is yet to be made. None when the station serves plain HTTP.
pub fn describe(settings: &crate::config::Settings) -> Option<String> {
    let web = &settings.web;
    if !enabled(web) {
        return None;
    }
    Some(match configured_fingerprint(web, settings.state_dir()) {
        Some(f) => format!("HTTPS certificate SHA-256 fingerprint: {f}"),
        None => "HTTPS: a self-signed certificate is made at the first start (its fingerprint \
                 is logged then and shown here)"
            .to_string(),
    })
}

/// The TLS set-up for `[web]`, or None when it serves plain HTTP. Makes the self-signed
/// certificate first if it is missing or old.
pub fn prepare(web: &WebSettings, state_dir: &Path) -> Result<Option<ServerTls>, TlsError> {
    if !enabled(web) {
        return Ok(None);
    }
    let (cert_file, key_file, self_signed) = cert_paths(web, state_dir);
    if !self_signed {
        return load(&cert_file, &key_file, false).map(Some);
    }
    if needs_new_certificate(&cert_file, &key_file) {
        make_self_signed(web, &cert_file, &key_file)?;
        return load(&cert_file, &key_file, true).map(Some);
    }
    match load(&cert_file, &key_file, true) {
        Ok(tls) => Ok(Some(tls)),
        Err(e) => {
            // Our own pair, half written by a crash or damaged: make a new one.
            log::warn!("the self-signed HTTPS certificate cannot be used ({e}): making a new one");
            make_self_signed(web, &cert_file, &key_file)?;
            load(&cert_file, &key_file, true).map(Some)
        }
    }
}

fn load(cert_file: &Path, key_file: &Path, self_signed: bool) -> Result<ServerTls, TlsError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: rustls::pki_types::pem::Error| TlsError::Read {
            source: io::Error::other(e.to_string()),
            path,
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(read_err(cert_file))?
        .collect::<Result<_, _>>()
        .map_err(read_err(cert_file))?;
    let Some(leaf) = certs.first() else {
        return Err(TlsError::NoCertificate(cert_file.to_path_buf()));
    };
    let info = CertInfo {
        fingerprint_sha256: fingerprint(leaf),
        cert_file: cert_file.to_path_buf(),
        self_signed,
    };
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey(key_file.to_path_buf()),
        other => read_err(key_file)(other),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerTls {
        config: Arc::new(config),
        info,
    })
}

fn needs_new_certificate(cert: &Path, key: &Path) -> bool {
    if !key.exists() {
        return true;
    }
    let age = std::fs::metadata(cert)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    match age {
        Some(age) => age > Duration::from_secs(RENEW_AFTER_DAYS * 24 * 3600),
        None => true,
    }
}

/// The machine's host name and, for a short one, its mDNS name (`NAME.local`), lower-case.
pub fn own_host_names() -> Vec<String> {
    let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
        return Vec::new();
    };
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() || host == "localhost" {
        return Vec::new();
    }
    let mut names = vec![host.clone()];
    if !host.contains('.') {
        names.push(format!("{host}.local"));
    }
    names
}

/// The names a self-signed certificate is made for.
fn subject_names(web: &WebSettings) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if !web.listen.ip().is_unspecified() {
        names.push(web.listen.ip().to_string());
    }
    names.extend(own_host_names());
    for origin in &web.allowed_origins {
        if let Some(o) = crate::net::Origin::parse(origin) {
            let host = o.host.trim_start_matches('[').trim_end_matches(']');
            names.push(host.to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

fn make_self_signed(web: &WebSettings, cert_file: &Path, key_file: &Path) -> Result<(), TlsError> {
    let names = subject_names(web);
    let mut params = rcgen::CertificateParams::new(names.clone())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "scanstation");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let day = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let today = chrono::Utc::now().date_naive();
    params.not_before = day(today - chrono::Days::new(1));
    params.not_after = day(today + chrono::Days::new(VALID_DAYS as u64));
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let write = |path: &Path, text: &str| {
        crate::fsmode::write_private(path, text.as_bytes()).map_err(|source| TlsError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    write(key_file, &key.serialize_pem())?;
    write(cert_file, &cert.pem())?;
    log::warn!(
        "made a self-signed HTTPS certificate for {} in {} (SHA-256 {}): tablets must trust it once",
        names.join(", "),
        cert_file.display(),
        fingerprint(cert.der())
    );
    Ok(())
}

/// The peer address of a connection, plain or TLS (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A TCP listener that yields finished TLS connections (see the module docs).
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, tls: &ServerTls) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(tls.config.clone());
        let acceptor = tokio::spawn(accept_loop(listener, acceptor, tx));
        Ok(TlsListener {
            local,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                log::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = async {
                if !speaks_tls(&stream).await {
                    refuse_plain_http(stream).await;
                    return None;
                }
                acceptor.accept(stream).await.ok()
            };
            if let Ok(Some(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                let _ = ready.send((tls, peer)).await;
            }
        });
    }
}

/// Does the client open with a TLS handshake record (0x16)?
async fn speaks_tls(stream: &TcpStream) -> bool {
    let mut first = [0u8; 1];
    matches!(stream.peek(&mut first).await, Ok(1) if first[0] == 0x16)
}

async fn refuse_plain_http(mut stream: TcpStream) {
    let host = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let body = format!("This station speaks HTTPS only: use https://{host}/\n");
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop never ends while we hold it; if it did, accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
