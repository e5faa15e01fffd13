//! The kiosk UI's files as the real server serves them: content types, caching, the strict
//! Content-Security-Policy, 304 on a matching ETag, 404 for anything else; and the files
//! themselves: nothing loaded from elsewhere, no inline code, both translations complete.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::Station;
use serde_json::Value;

#[tokio::test]
async fn ui_files_are_served_with_types_cache_headers_and_csp() {
    let st = Station::kiosk(120, "").await;
    let http = common::http();
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
        let r = http.get(format!("{}{path}", st.root)).send().await.unwrap();
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
            .get(format!("{}{path}", st.root))
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
        let r = http.get(format!("{}{path}", st.root)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // The API is still the API.
    let r = http
        .get(format!("{}/api/v1/healthz", st.root))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    st.stop().await;
}

#[test]
fn index_loads_nothing_from_elsewhere_and_has_no_inline_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui");
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

/// Every key of a translation file, nested keys as `a.b.c`.
fn keys(prefix: &str, v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                keys(&path, v, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

#[test]
fn english_and_spanish_have_the_same_keys() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui/assets/i18n");
    let load = |name: &str| -> BTreeSet<String> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let mut out = BTreeSet::new();
        keys("", &v, &mut out);
        out
    };
    let (en, es) = (load("en.json"), load("es.json"));
    assert!(en.len() > 10, "en.json has only {} keys", en.len());
    let only_en: Vec<_> = en.difference(&es).collect();
    let only_es: Vec<_> = es.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_es.is_empty(),
        "missing in es.json: {only_en:?}; missing in en.json: {only_es:?}"
    );
}

/// The quoted names in one `export const NAME = Object.freeze({ ... })` block of names.js.
fn js_names(js: &str, block: &str) -> Vec<String> {
    let start = js
        .find(&format!("export const {block} = Object.freeze({{"))
        .unwrap_or_else(|| panic!("names.js has no {block}"));
    let body = &js[start..];
    let body = &body[..body.find("});").expect("block ends")];
    body.lines()
        .filter_map(|l| l.split('\'').nth(1))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_kiosk_names_every_verdict_once_and_translates_it() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui/assets");
    let js = std::fs::read_to_string(ui.join("js/names.js")).unwrap();
    let verdicts = js_names(&js, "VERDICT");
    assert_eq!(verdicts.len(), 5, "{verdicts:?}");
    let en: Value =
        serde_json::from_str(&std::fs::read_to_string(ui.join("i18n/en.json")).unwrap()).unwrap();
    for v in &verdicts {
        assert!(
            common::lib::is_verdict(v),
            "{v} is not a verdict of the station"
        );
        for part in ["banner", "short"] {
            let key = format!("verdict.{v}.{part}");
            assert!(en[&key].is_string(), "{key} missing in en.json");
        }
    }
    let events = js_names(&js, "EVENT");
    for e in [
        "hello", "scan", "batch", "lane", "scanner", "delivery", "data", "lagged",
    ] {
        assert!(events.iter().any(|x| x == e), "event {e} not in names.js");
    }
    // The other modules take the names from names.js rather than spelling them out.
    for f in std::fs::read_dir(ui.join("js")).unwrap() {
        let path = f.unwrap().path();
        if path.file_name().is_some_and(|n| n == "names.js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for v in &verdicts {
            assert!(
                !text.contains(&format!("'{v}'")),
                "{} spells the verdict '{v}'",
                path.display()
            );
        }
        for e in ["scan", "scanner", "delivery", "lagged", "hello"] {
            assert!(
                !text.contains(&format!("on('{e}'")),
                "{} spells the event '{e}'",
                path.display()
            );
        }
    }
}

#[test]
fn the_page_js_and_css_stay_under_100_kib() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui/assets");
    let mut total = std::fs::metadata(ui.join("app.css")).unwrap().len();
    for f in std::fs::read_dir(ui.join("js")).unwrap() {
        total += f.unwrap().metadata().unwrap().len();
    }
    assert!(total < 100 * 1024, "JS+CSS is {total} bytes, over 100 KiB");
}

/// Every message key the code names literally (`t('a.b'` followed by `,` or `)`) is in en.json,
/// so no raw key reaches a screen; and every scan source the station records has a label.
#[test]
fn every_message_key_the_code_names_exists() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui/assets");
    let en: Value =
        serde_json::from_str(&std::fs::read_to_string(ui.join("i18n/en.json")).unwrap()).unwrap();
    let mut missing = Vec::new();
    let mut seen = 0;
    for f in std::fs::read_dir(ui.join("js")).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("t('") {
            let before = text[..i].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            let rest = &text[i + 3..];
            let Some(end) = rest.find('\'') else { continue };
            let after = rest[end + 1..].trim_start();
            if !(after.starts_with(',') || after.starts_with(')')) {
                continue; // a key built at run time ('verdict.' + v)
            }
            seen += 1;
            let key = &rest[..end];
            if !en[key].is_string() {
                missing.push(format!("{}: {key}", path.display()));
            }
        }
    }
    assert!(seen > 50, "only {seen} keys found: the scan is broken");
    assert!(missing.is_empty(), "keys not in en.json: {missing:?}");
    for source in [
        "hid",
        "serial",
        "api",
        "stdin",
        "manual",
        "roster",
        "lost_card",
    ] {
        let key = format!("source.{source}");
        assert!(en[&key].is_string(), "{key} missing in en.json");
    }
    // Every error code of the API (README "HTTP API") has a message in the user's language.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = &readme[readme
        .find("Error codes (the UI translates by `code`")
        .unwrap()..];
    let table = &table[..table.find("\n## ").unwrap_or(table.len())];
    let mut codes = 0;
    for line in table
        .lines()
        .filter(|l| l.starts_with("| 4") || l.starts_with("| 5"))
    {
        let cells: Vec<&str> = line.split('|').collect();
        // Leave out the notes in parentheses ("(with `entries`)").
        let mut cell = String::new();
        let mut depth = 0;
        for c in cells[2].chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => cell.push(c),
                _ => {}
            }
        }
        for code in cell.split('`').skip(1).step_by(2) {
            codes += 1;
            let key = format!("error.code.{code}");
            assert!(en[&key].is_string(), "{key} missing in en.json");
        }
    }
    assert!(codes >= 30, "only {codes} error codes found in README.md");
}
