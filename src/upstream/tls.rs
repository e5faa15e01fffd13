//! The HTTP client for the HMIS: reqwest on rustls with the ring provider, system roots plus the
//! optional `ca_file`. Certificate verification is never switched off; plain `http://` is refused
//! unless the host is loopback (checked by [`crate::config::check_url`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("upstream URL refused: {0}")]
    Url(String),
    #[error("cannot read CA file {path}: {source}")]
    CaRead {
        path: String,
        source: std::io::Error,
    },
    #[error("CA file {0} holds no PEM certificate")]
    CaEmpty(String),
    #[error("CA file {path}: {message}")]
    CaBad { path: String, message: String },
    #[error("no trusted root certificates (no system roots and no ca_file)")]
    NoRoots,
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("HTTP client setup: {0}")]
    Client(#[from] reqwest::Error),
}

/// The rustls client configuration: ring provider (explicitly: the process default is not relied
/// on), TLS 1.2/1.3, system roots plus the PEM certificates in `ca_file` (if any).
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(ca_file) = ca_file {
        for cert in read_pem_certs(ca_file)? {
            roots.add(cert).map_err(|e| TlsError::CaBad {
                path: ca_file.display().to_string(),
                message: e.to_string(),
            })?;
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Every certificate in a PEM file (at least one).
pub fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let data = std::fs::read(path).map_err(|source| TlsError::CaRead {
        path: shown.clone(),
        source,
    })?;
    let mut certs = Vec::new();
    for item in rustls_pemfile::certs(&mut data.as_slice()) {
        certs.push(item.map_err(|e| TlsError::CaBad {
            path: shown.clone(),
            message: e.to_string(),
        })?);
    }
    if certs.is_empty() {
        return Err(TlsError::CaEmpty(shown));
    }
    Ok(certs)
}

/// Timeouts for one client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole request, answer included.
    pub request: Option<Duration>,
    /// Between two reads of the answer (for long downloads, instead of `request`).
    pub read: Option<Duration>,
}

/// A reqwest client for `url` (checked: https, or http to loopback), no redirects followed.
pub fn http_client(
    url: &str,
    ca_file: Option<&Path>,
    t: Timeouts,
) -> Result<reqwest::Client, TlsError> {
    crate::config::check_url(url).map_err(TlsError::Url)?;
    let tls = client_config(ca_file)?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(t.connect);
    if let Some(d) = t.request {
        builder = builder.timeout(d);
    }
    if let Some(d) = t.read {
        builder = builder.read_timeout(d);
    }
    let client = builder
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("scanstation/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    Ok(client)
}

/// An error and all its causes on one line ("error sending request: ...: invalid peer certificate").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}
