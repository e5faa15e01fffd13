//! The kiosk UI: the static files of `kiosk-ui/`, embedded in the binary and served with their
//! content types, `Cache-Control: no-cache` plus a strong `ETag` (cheap revalidation on the LAN,
//! never stale after an upgrade), and a strict Content-Security-Policy: everything comes from the
//! station itself, nothing from the internet, no inline script or style.
//!
//! `GET /` is the lane screen of lane `main`; `/?lane=NAME` another lane (read by the page).

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "kiosk-ui/"]
struct Assets;

/// Content-Security-Policy of every UI response.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; media-src 'self'; manifest-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The UI routes; merge them into the API router.
pub fn routes() -> Router<super::WebState> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn favicon(headers: HeaderMap) -> Response {
    serve("assets/icon.svg", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("assets/{path}"), &headers)
}

/// The media type of a file by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The UI's own headers: its Content-Security-Policy (the `guard::security_headers` layer keeps it
/// and adds nosniff, Referrer-Policy and X-Frame-Options to every answer) and what the page may use.
fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
}

fn serve(path: &str, req: &HeaderMap) -> Response {
    // Dot segments and back-slashes never name an embedded file; refuse them outright.
    if path.split('/').any(|s| s == ".." || s == ".") || path.contains('\\') {
        return not_found();
    }
    let Some(file) = Assets::get(path) else {
        return not_found();
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut resp = if etag_matches(req, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = file.data.into_owned().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(path)),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    security_headers(h);
    resp
}

fn etag_matches(req: &HeaderMap, etag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str()
            .map(|s| {
                s.split(',')
                    .map(|t| t.trim().trim_start_matches("W/"))
                    .any(|t| t == etag || t == "*")
            })
            .unwrap_or(false)
    })
}

fn not_found() -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found",
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    security_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_a_known_type() {
        let mut n = 0;
        for f in Assets::iter() {
            n += 1;
            assert_ne!(
                content_type(&f),
                "application/octet-stream",
                "{f} has no content type"
            );
        }
        assert!(n >= 5, "kiosk-ui/ looks empty ({n} files)");
    }

    #[test]
    fn js_and_css_stay_small() {
        let total: usize = Assets::iter()
            .filter(|f| f.ends_with(".js") || f.ends_with(".css"))
            .filter_map(|f| Assets::get(&f).map(|d| d.data.len()))
            .sum();
        assert!(total < 100 * 1024, "JS+CSS is {total} bytes, over 100 KiB");
    }

    #[test]
    fn message_files_have_the_same_keys() {
        let load = |p: &str| -> serde_json::Map<String, serde_json::Value> {
            let f = Assets::get(p).expect(p);
            serde_json::from_slice(&f.data).expect("valid JSON")
        };
        let en = load("assets/i18n/en.json");
        let es = load("assets/i18n/es.json");
        let missing_es: Vec<_> = en.keys().filter(|k| !es.contains_key(*k)).collect();
        let missing_en: Vec<_> = es.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing_es.is_empty(), "missing in es.json: {missing_es:?}");
        assert!(missing_en.is_empty(), "missing in en.json: {missing_en:?}");
    }

    #[test]
    fn dot_segments_are_refused() {
        let h = HeaderMap::new();
        assert_eq!(serve("assets/../index.html", &h).status(), 404);
        assert_eq!(serve("assets/js/main.js", &h).status(), 200);
    }
}
