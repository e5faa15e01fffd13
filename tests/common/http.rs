//! An HTTP client of a station's API, as the kiosk or a script would be: JSON in and out, the
//! supervisor's session cookie kept after a login.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::pin::PIN;
use super::wait::{eventually, DEADLINE};

/// A plain HTTP client (the rustls provider is chosen before any client is built).
pub fn http() -> reqwest::Client {
    super::lib::init_tls();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
}

/// A client that trusts exactly one certificate, the first in the PEM file `cert` (an HTTPS
/// station's, see [`super::Station::tls_files`]), and no other roots.
pub fn https_trusting(cert: &std::path::Path) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    super::lib::init_tls();
    let der = rustls::pki_types::CertificateDer::from_pem_file(cert)
        .unwrap_or_else(|e| panic!("no PEM certificate in {}: {e}", cert.display()));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).expect("a usable certificate");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(config)
        .build()
        .expect("HTTPS client")
}

/// A client of the API at `base` (`http://host:port/api/v1`).
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    /// `name=value` of the session cookie, once logged in.
    pub cookie: Option<String>,
}

impl Api {
    /// A client without a session.
    pub fn new(base: &str) -> Api {
        Api::with_client(base, http())
    }

    /// A client without a session over `http` (e.g. [`https_trusting`]).
    pub fn with_client(base: &str, http: reqwest::Client) -> Api {
        Api {
            base: base.to_string(),
            http,
            cookie: None,
        }
    }

    /// A client logged in as Maria.
    pub async fn supervisor(base: &str) -> Api {
        let mut api = Api::new(base);
        let (s, b) = api.login(PIN).await;
        assert_eq!(s, StatusCode::OK, "login: {b}");
        api
    }

    /// `POST /session` with `pin`; keeps the session cookie when one is set.
    pub async fn login(&mut self, pin: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/session", self.base))
            .json(&json!({ "pin": pin }))
            .send()
            .await
            .expect("POST /session");
        if let Some(c) = resp.headers().get(reqwest::header::SET_COOKIE) {
            let c = c.to_str().expect("cookie is text");
            self.cookie = c.split(';').next().map(str::to_string);
        }
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Any request; the answer's status and body (JSON, or the text as a JSON string).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(c) = &self.cookie {
            req = req.header(reqwest::header::COOKIE, c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// `GET path`, which must answer 200; its body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (s, v) = self.get(path).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
        v
    }

    /// Create a batch and return its id.
    pub async fn new_batch(&self, body: Value) -> String {
        let (s, b) = self.post("/batches", body).await;
        assert_eq!(s, StatusCode::CREATED, "create batch: {b}");
        b["id"].as_str().expect("batch id").to_string()
    }

    /// A new open batch of Hot Meals (484) for project 1001 (the hmis/basic fixture) on `date`,
    /// bound to `lane`; returns its id.
    pub async fn batch_on_lane(&self, lane: &str, date: &str) -> String {
        let id = self
            .new_batch(json!({"project_id": "1001", "service_code": "484", "service_date": date}))
            .await;
        let (s, v) = self
            .put(&format!("/lanes/{lane}"), json!({ "batch_id": id }))
            .await;
        assert_eq!(s, StatusCode::OK, "bind lane {lane}: {v}");
        id
    }

    /// A scan on `lane` as the lane screen's scanner would send it; must be taken (2xx).
    pub async fn scan(&self, lane: &str, code: &str) -> Value {
        let (s, b) = self
            .post(&format!("/lanes/{lane}/scans"), json!({ "code": code }))
            .await;
        assert!(s.is_success(), "scan {code}: {s} {b}");
        b
    }

    /// Poll the batch until it has `n` entries; returns them.
    pub async fn wait_entries(&self, batch: &str, n: usize) -> Vec<Value> {
        eventually(
            DEADLINE,
            &format!("{n} entries in batch {batch}"),
            || async {
                let b = self.get_ok(&format!("/batches/{batch}")).await;
                let entries = b["entries"].as_array().cloned().unwrap_or_default();
                (entries.len() >= n).then_some(entries)
            },
        )
        .await
    }

    /// The batch's roster as `(client_id, served_today)` pairs.
    pub async fn roster_served(&self, batch: &str) -> Vec<(String, bool)> {
        let roster = self.get_ok(&format!("/batches/{batch}/roster")).await;
        roster
            .as_array()
            .expect("a roster is a list")
            .iter()
            .map(|r| {
                (
                    r["client_id"].as_str().unwrap().to_string(),
                    r["served_today"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    /// Poll `GET /status` until scanner `index` is in `state`; returns that scanner's status.
    pub async fn wait_scanner(&self, index: usize, state: &str) -> Value {
        eventually(DEADLINE, &format!("scanner {index} {state}"), || async {
            let s = self.get_ok("/status").await;
            let sc = s["scanners"][index].clone();
            (sc["state"] == state).then_some(sc)
        })
        .await
    }
}
