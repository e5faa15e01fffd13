//! The kiosk UI's files as the real server serves them: content types, caching, the strict
//! Content-Security-Policy, 304 on a matching ETag, 404 for anything else.

#[path = "ui/station.rs"]
mod station;

use station::UiStation;

#[tokio::test]
async fn ui_files_are_served_with_types_cache_headers_and_csp() {
    let st = UiStation::start(120).await;
    let http = reqwest::Client::new();
    let cases = [
        ("/", "text/html; charset=utf-8", "<script type=\"module\""),
        ("/?lane=side", "text/html; charset=utf-8", "<div id=\"app\""),
        (
            "/assets/js/main.js",
            "text/javascript; charset=utf-8",
            "import",
        ),
        ("/assets/app.css", "text/css; charset=utf-8", ".banner"),
        (
            "/assets/i18n/es.json",
            "application/json",
            "\"lane.ready\": \"Listo\"",
        ),
        ("/assets/icon.svg", "image/svg+xml", "<svg"),
        ("/favicon.ico", "image/svg+xml", "<svg"),
    ];
    for (path, ctype, needle) in cases {
        let r = http.get(format!("{}{path}", st.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], ctype, "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        let etag = h["etag"].to_str().unwrap().to_string();
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{path}: {needle} not in body");

        // Revalidation: the same ETag gives 304 with no body.
        let r = http
            .get(format!("{}{path}", st.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert!(r.text().await.unwrap().is_empty());
    }
    for path in [
        "/assets/nope.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/kiosk-ui/index.html",
    ] {
        let r = http.get(format!("{}{path}", st.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // The API is still the API.
    let r = http
        .get(format!("{}/api/v1/healthz", st.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    st.stop().await;
}

#[test]
fn index_loads_nothing_from_elsewhere_and_has_no_inline_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui");
    let mut files = vec![dir.join("index.html")];
    for sub in ["assets", "assets/js"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for bad in ["http://", "https://", "//cdn", "fonts.googleapis"] {
            // The SVG namespace is an identifier, not a fetch.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(!text.contains(bad), "{} mentions {bad}", f.display());
        }
        if f.extension().is_some_and(|e| e == "html") {
            assert!(!text.contains("<style"), "inline style in {}", f.display());
            assert!(!text.contains("style="), "inline style in {}", f.display());
            assert!(
                !text.contains("<script>") && !text.contains(" onclick="),
                "inline script in {}",
                f.display()
            );
        }
        if f.extension().is_some_and(|e| e == "js") {
            assert!(!text.contains("innerHTML"), "innerHTML in {}", f.display());
            assert!(!text.contains("eval("), "eval in {}", f.display());
        }
    }
}
