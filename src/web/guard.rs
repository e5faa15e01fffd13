//! What every request and every answer passes through: the cross-site check and the security
//! headers.
//!
//! **Cross-site requests.** A page on another site (or on another port of this host) can make a
//! supervisor's browser send requests here with the session cookie; SameSite=Strict stops that in
//! current browsers only, and not from a same-site page. So every state-changing request (any
//! method but GET, HEAD and OPTIONS) must come from the station's own origin:
//! - with an `Origin` header, it must be one we serve: our scheme (https when TLS is on), the
//!   host and port the request was sent to (`Host`), and a host the station answers to: the
//!   `[web] listen` address; on a loopback or any-address listen also `localhost`, `127.0.0.1`
//!   and `[::1]`; on an any-address listen (`0.0.0.0`, `[::]`) any IP literal; on a non-loopback
//!   listen the machine's host name and `NAME.local`. Any other host *name* is allowed only
//!   through `[web] allowed_origins`, which also admits other origins outright (e.g. a name in
//!   DNS for the station). Matching `Host` rules out another port of this host;
//!   refusing unlisted names rules out DNS rebinding (a hostile name pointed at our address).
//! - without `Origin`, a `Sec-Fetch-Site` header, if present, must say `same-origin`.
//! - with neither, the request is not from a browser's cross-site fetch (browsers send `Origin`
//!   on every cross-origin POST, PUT and DELETE): scanners posting to `POST /lanes/{lane}/scans`,
//!   curl and scripts send neither and are let through. An old browser that sends no `Origin` on
//!   a form post is still stopped by the next rule, since a form cannot send JSON.
//! - a body must be `Content-Type: application/json`. Cross-site forms can only send
//!   `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data` without a CORS
//!   preflight, which this server never grants. A request with no body needs no content type.
//!
//! Refusals are 403 `cross_site` and 415 `json_required`, logged at info with the method and path.
//!
//! **Headers on every answer**, API included: a Content-Security-Policy (the UI files' own, or one
//! that loads nothing for the API; both `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//! no-referrer`, `X-Frame-Options: DENY` for older browsers, `no-store` unless a route chose its
//! own caching, and no `Server` header (nothing tells the version).

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::config::WebSettings;
use crate::net::{is_ip_literal, split_host_port, Origin};

/// The policy of an answer that set none (the API's JSON): load nothing, never be framed. The UI
/// files carry their own (`ui::CSP`).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Who may make state-changing requests, from `[web]`.
#[derive(Debug, Clone)]
pub struct Origins {
    scheme: &'static str,
    /// Hosts we answer to (as they appear in an origin).
    hosts: Vec<String>,
    /// Any-address listen: any IP literal the request was sent to.
    any_ip: bool,
    /// `[web] allowed_origins`, parsed.
    extra: Vec<Origin>,
}

impl Origins {
    pub fn new(web: &WebSettings) -> Origins {
        let scheme = if super::tls::enabled(web) {
            "https"
        } else {
            "http"
        };
        let mut hosts = Vec::new();
        let mut any_ip = false;
        {
            let ip = web.listen.ip();
            if ip.is_loopback() || ip.is_unspecified() {
                hosts.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
            }
            if !ip.is_loopback() {
                // Tablets may use the station's own name (it is in the self-signed certificate).
                hosts.extend(super::tls::own_host_names());
            }
            if ip.is_unspecified() {
                any_ip = true;
            } else {
                hosts.push(match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                });
            }
        }
        let extra = web
            .allowed_origins
            .iter()
            .filter_map(|o| Origin::parse(o))
            .collect();
        Origins {
            scheme,
            hosts,
            any_ip,
            extra,
        }
    }

    /// Is `origin` (an `Origin` header) allowed for a request sent to `host` (its `Host`)?
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(origin) = Origin::parse(origin) else {
            return false; // "null" (sandboxed frames, file://) and anything odd
        };
        if self.extra.contains(&origin) {
            return true;
        }
        let Some((host, port)) = host.and_then(split_host_port) else {
            return false;
        };
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let ours = Origin {
            scheme: self.scheme.to_string(),
            host,
            port: port.unwrap_or(default_port),
        };
        origin == ours
            && (self.hosts.contains(&ours.host) || (self.any_ip && is_ip_literal(&ours.host)))
    }
}

/// Why a state-changing request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    CrossSite,
    NotJson,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error, code) = match self {
            Refusal::CrossSite => (
                StatusCode::FORBIDDEN,
                "this request came from another site; use the station's own page",
                "cross_site",
            ),
            Refusal::NotJson => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON with Content-Type: application/json",
                "json_required",
            ),
        };
        (status, Json(json!({ "error": error, "code": code }))).into_response()
    }
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(value: &HeaderValue) -> bool {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The cross-site and content-type check for one request (see the module docs).
pub fn check(origins: &Origins, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    if !changes_state(method) {
        return Ok(());
    }
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !origins.allows(origin, text(header::HOST)) {
            return Err(Refusal::CrossSite);
        }
    } else if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        if !site.eq_ignore_ascii_case("same-origin") {
            return Err(Refusal::CrossSite);
        }
    }
    match headers.get(header::CONTENT_TYPE) {
        Some(ct) if !is_json(ct) => Err(Refusal::NotJson),
        None if has_body(headers) => Err(Refusal::NotJson),
        _ => Ok(()),
    }
}

/// Middleware: refuse cross-site and non-JSON state-changing requests.
pub async fn same_origin_only(
    State(origins): State<Arc<Origins>>,
    req: Request,
    next: Next,
) -> Response {
    if let Err(refusal) = check(&origins, req.method(), req.headers()) {
        let (method, path) = (req.method().as_str(), req.uri().path());
        log::info!(target: "scanstation::web", method, path; "refused {method} {path}: {refusal:?}");
        return refusal.into_response();
    }
    next.run(req).await
}

/// Middleware: the security headers on every answer.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.remove(header::SERVER);
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(listen: &str, extra: &[&str]) -> WebSettings {
        WebSettings {
            listen: listen.parse().unwrap(),
            allowed_origins: extra.iter().map(|s| s.to_string()).collect(),
            ..WebSettings::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origins_follow_listen_and_allowed_origins() {
        let lan = Origins::new(&web("192.168.1.20:8443", &["https://scan.agency.org"]));
        let host = Some("192.168.1.20:8443");
        assert!(lan.allows("https://192.168.1.20:8443", host));
        assert!(!lan.allows("http://192.168.1.20:8443", host), "scheme");
        assert!(
            !lan.allows("https://192.168.1.20:9000", host),
            "another port"
        );
        assert!(!lan.allows("https://evil.example", host));
        assert!(!lan.allows("null", host));
        assert!(lan.allows("https://scan.agency.org", Some("scan.agency.org")));
        // A hostile name pointed at our address (DNS rebinding) is not one of ours.
        assert!(!lan.allows("https://evil.example:8443", Some("evil.example:8443")));

        let any = Origins::new(&web("0.0.0.0:8443", &[]));
        assert!(any.allows("https://10.1.2.3:8443", Some("10.1.2.3:8443")));
        assert!(!any.allows("https://10.1.2.3:8443", Some("10.1.2.4:8443")));
        assert!(any.allows("https://localhost:8443", Some("localhost:8443")));

        let kiosk = Origins::new(&web("127.0.0.1:8080", &[]));
        assert!(kiosk.allows("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(kiosk.allows("http://localhost:8080", Some("localhost:8080")));
        assert!(!kiosk.allows("http://127.0.0.1:3000", Some("127.0.0.1:8080")));
    }

    #[test]
    fn state_changing_requests_need_our_origin_and_json() {
        let o = Origins::new(&web("127.0.0.1:8080", &[]));
        let json = ("content-type", "application/json; charset=utf-8");
        let host = ("host", "127.0.0.1:8080");
        let post = Method::POST;
        let ours = ("origin", "http://127.0.0.1:8080");
        assert_eq!(check(&o, &post, &headers(&[host, ours, json])), Ok(()));
        assert_eq!(
            check(
                &o,
                &post,
                &headers(&[host, ("origin", "http://evil.example"), json])
            ),
            Err(Refusal::CrossSite)
        );
        assert_eq!(
            check(
                &o,
                &post,
                &headers(&[host, ("sec-fetch-site", "same-site"), json])
            ),
            Err(Refusal::CrossSite)
        );
        assert_eq!(
            check(
                &o,
                &post,
                &headers(&[host, ours, ("content-type", "text/plain")])
            ),
            Err(Refusal::NotJson)
        );
        assert_eq!(
            check(&o, &post, &headers(&[host, ("content-length", "12")])),
            Err(Refusal::NotJson)
        );
        // Non-browser clients (scanners over HTTP, curl) send neither header.
        assert_eq!(check(&o, &post, &headers(&[host, json])), Ok(()));
        assert_eq!(check(&o, &Method::DELETE, &headers(&[host])), Ok(()));
        // Reading is never refused.
        let evil = ("origin", "http://evil.example");
        assert_eq!(check(&o, &Method::GET, &headers(&[host, evil])), Ok(()));
    }
}
