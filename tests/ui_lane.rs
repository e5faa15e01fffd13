//! The lane screen as line staff see it on the station's own touchscreen, in real headless
//! Chromium against a real station (issue 14): a symbol per verdict and verdict colours apart in
//! lightness (measured from the CSS as rendered), the text fitting its box at every size in both
//! languages, the live lane binding, the full-screen "Not connected" state, the strip of recent
//! verdicts, scans shown over the supervisor screens, and the idle lock giving the screen back to
//! the lane.
//!
//! Screenshots go to `target/screenshots/` (names start with `lane14-`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use common::browser::{chromium_ready, login, shot, wait_banner, Browser};
use common::{Station, PIN};

const T: Duration = Duration::from_secs(10);
const SIZES: [(u32, u32); 3] = [(800, 480), (1280, 800), (480, 800)];

/// Every verdict the lane screen can show, with a code that gives it (duplicates within a batch).
const SCANS: [(&str, &str); 5] = [
    ("C001", "ok"),
    ("C006", "no_open_enrollment"),
    ("C001", "duplicate"),
    ("NOSUCH", "unknown_client"),
    ("!!", "invalid_code"),
];

/// Elements of the lane screen (and an overlay) that leave the viewport, and text that does not
/// fit its box in the banner or the full-screen states. Empty when everything fits.
const OVERFLOW_JS: &str = r#"
const bad = [];
const vw = innerWidth, vh = innerHeight;
const label = (e) => `${e.tagName.toLowerCase()}.${(e.getAttribute('class') || '').replace(/ /g, '.')} '${(e.textContent || '').slice(0, 30)}'`;
for (const e of document.querySelectorAll('#app *, #overlay, #overlay *')) {
  if (!e.getClientRects().length) continue;
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
    bad.push(`${label(e)} outside the viewport: ${Math.round(r.left)},${Math.round(r.top)}-${Math.round(r.right)},${Math.round(r.bottom)}`);
}
for (const e of document.querySelectorAll('.banner, .banner *, .offline-full, .offline-full *')) {
  if (e instanceof SVGElement || !e.getClientRects().length) continue;
  if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    bad.push(`${label(e)} overflows: ${e.scrollWidth}x${e.scrollHeight} in ${e.clientWidth}x${e.clientHeight}`);
}
return bad;
"#;

/// The banner as rendered: background, text colour, its symbol's size and which symbol.
const BANNER_STYLE_JS: &str = r#"
const e = document.getElementById('banner');
const s = getComputedStyle(e);
const icon = e.querySelector('svg.v-icon');
const r = icon ? icon.getBoundingClientRect() : null;
const word = e.querySelector('.banner-verdict').getBoundingClientRect();
return { bg: s.backgroundColor, fg: s.color, icon: icon ? icon.dataset.icon : null,
         icon_px: r ? Math.min(r.width, r.height) : 0,
         beside: r ? (r.right <= word.left + 1 && r.bottom > word.top && r.top < word.bottom) : false };
"#;

/// WCAG relative luminance of a CSS `rgb(r, g, b)` string.
fn luminance(css: &str) -> f64 {
    let inner = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    let c: Vec<f64> = inner
        .split(',')
        .take(3)
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("colour {css}"))
        })
        .collect();
    assert_eq!(c.len(), 3, "colour {css}");
    let lin = |v: f64| {
        let v = v / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

async fn overflow(b: &Browser, what: &str) {
    let bad = b.js(OVERFLOW_JS, vec![]).await.unwrap();
    assert_eq!(bad, json!([]), "{what}: text or boxes do not fit");
}

async fn wait_state(b: &Browser, state: &str) {
    b.wait(
        state,
        &format!(
            "const e = document.getElementById('banner'); return !!(e && e.dataset.verdict === '{state}');"
        ),
        T,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_have_symbols_distinct_lightness_and_fit_at_every_size_in_both_languages() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(120, "[hmis]\nduplicate_scope = \"batch\"").await;
    let api = st.supervisor().await;
    let today = st.today();
    let b = Browser::start(800, 480).await.unwrap();
    // verdict -> (background, text colour), as rendered.
    let mut colours: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (w, h) in SIZES {
        b.viewport(w, h).await.unwrap();
        for lang in ["en", "es"] {
            let lane = format!("l{w}{lang}");
            api.batch_on_lane(&lane, &today).await;
            b.goto(&format!("{}/?lane={lane}&lang={lang}", st.root))
                .await
                .unwrap();
            wait_state(&b, "ready").await;
            overflow(&b, &format!("ready {w}x{h} {lang}")).await;
            let mut seq = 0;
            for (code, verdict) in SCANS {
                api.scan(&lane, code).await;
                seq = wait_banner(&b, verdict, seq).await;
                let style = b.js(BANNER_STYLE_JS, vec![]).await.unwrap();
                assert_eq!(style["icon"], verdict, "{verdict}: its own symbol");
                assert_eq!(
                    style["beside"], true,
                    "{verdict} {w}x{h}: symbol beside the word"
                );
                let px = style["icon_px"].as_f64().unwrap();
                assert!(px >= 32.0, "{verdict} {w}x{h}: symbol only {px} px");
                colours.insert(
                    verdict.to_string(),
                    (
                        style["bg"].as_str().unwrap().to_string(),
                        style["fg"].as_str().unwrap().to_string(),
                    ),
                );
                overflow(&b, &format!("{verdict} {w}x{h} {lang}")).await;
                if lang == "en" || verdict == "unknown_client" {
                    shot(&b, &format!("lane14-{verdict}-{lang}"), (w, h)).await;
                }
            }
            // A scan on a lane with no batch: kept, shown as its own verdict.
            let side = format!("side{w}{lang}");
            b.goto(&format!("{}/?lane={side}&lang={lang}", st.root))
                .await
                .unwrap();
            wait_state(&b, "unbound").await;
            overflow(&b, &format!("unbound {w}x{h} {lang}")).await;
            api.scan(&side, "C002").await;
            wait_banner(&b, "unassigned", 0).await;
            let style = b.js(BANNER_STYLE_JS, vec![]).await.unwrap();
            assert_eq!(style["icon"], "unassigned");
            colours.insert(
                "unassigned".into(),
                (
                    style["bg"].as_str().unwrap().to_string(),
                    style["fg"].as_str().unwrap().to_string(),
                ),
            );
            overflow(&b, &format!("unassigned {w}x{h} {lang}")).await;
        }
    }
    assert_eq!(colours.len(), 6, "{colours:?}");
    let list: Vec<_> = colours.iter().collect();
    for (i, (va, (bga, fga))) in list.iter().enumerate() {
        let text = contrast(bga, fga);
        assert!(text >= 4.5, "{va}: text {fga} on {bga} is {text:.2}:1");
        for (vb, (bgb, _)) in &list[i + 1..] {
            let c = contrast(bga, bgb);
            assert!(
                c >= 1.5,
                "{va} ({bga}) and {vb} ({bgb}) differ only {c:.2}:1 in luminance"
            );
        }
    }
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_screen_follows_binding_keeps_recent_verdicts_and_says_when_not_connected() {
    if !chromium_ready() {
        return;
    }
    let mut st = Station::kiosk(120, "").await;
    let api = st.supervisor().await;
    let b = Browser::start(800, 480).await.unwrap();
    // An API error reaches a Spanish screen in Spanish, from its code (bad_lane).
    b.goto(&format!("{}/?lane=no.such&lang=es", st.root))
        .await
        .unwrap();
    wait_state(&b, "error").await;
    assert_eq!(
        b.text("#banner").await.unwrap(),
        "Ese nombre de fila no es válido."
    );
    b.goto(&format!("{}/?lang=en", st.root)).await.unwrap();
    wait_state(&b, "unbound").await;

    // Bound over the API: the open screen follows without a reload, and again when unbound.
    let id = st
        .supervisor()
        .await
        .batch_on_lane("main", &st.today())
        .await;
    wait_state(&b, "ready").await;
    let (s, body) = api.put("/lanes/main", json!({"batch_id": null})).await;
    assert_eq!(s, 200, "{body}");
    wait_state(&b, "unbound").await;
    let (s, body) = api.put("/lanes/main", json!({"batch_id": id})).await;
    assert_eq!(s, 200, "{body}");
    wait_state(&b, "ready").await;

    // The strip keeps the last five verdicts, newest first, with display names only.
    let mut seq = 0;
    for (code, verdict) in [
        ("C006", "no_open_enrollment"),
        ("C001", "ok"),
        ("C002", "ok"),
        ("C001", "duplicate"),
        ("NOSUCH", "unknown_client"),
        ("!!", "invalid_code"),
    ] {
        api.scan("main", code).await;
        seq = wait_banner(&b, verdict, seq).await;
    }
    let strip = b
        .js(
            "return [...document.querySelectorAll('#recent li')].map(li => [li.dataset.verdict, li.innerText.trim()])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        strip,
        json!([
            ["invalid_code", "Unreadable card"],
            ["unknown_client", "Card not recognised"],
            ["duplicate", "Maria G."],
            ["ok", "James O."],
            ["ok", "Maria G."],
        ])
    );
    // A re-scan says it was scanned already and to see staff, not that the client was served.
    api.scan("main", "C006").await;
    wait_banner(&b, "duplicate", seq).await;
    let banner = b.text("#banner").await.unwrap();
    assert!(banner.contains("Scanned already"), "{banner:?}");
    assert!(banner.contains("see a staff member"), "{banner:?}");
    assert!(!banner.contains("served"), "{banner:?}");
    for size in SIZES {
        b.viewport(size.0, size.1).await.unwrap();
        shot(&b, "lane14-recent", size).await;
        overflow(&b, &format!("recent strip {size:?}")).await;
    }
    // The strip stays when the banner falls back to Ready.
    wait_state(&b, "ready").await;
    assert_eq!(
        b.js(
            "return document.querySelectorAll('#recent li').length",
            vec![]
        )
        .await
        .unwrap(),
        5
    );

    // The daemon goes away: the whole screen says scans are not recorded.
    b.viewport(800, 480).await.unwrap();
    st.stop_server().await;
    b.wait_visible("#conn", T).await.unwrap();
    assert_eq!(
        b.text("#conn .off-title").await.unwrap(),
        "Not connected: scans are not recorded"
    );
    let covers = b
        .js(
            "const r = document.getElementById('conn').getBoundingClientRect(); return r.width >= innerWidth - 1 && r.height >= innerHeight - 1 && !document.getElementById('banner');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(covers, true, "the Not connected state covers the screen");
    for size in SIZES {
        b.viewport(size.0, size.1).await.unwrap();
        shot(&b, "lane14-offline", size).await;
        overflow(&b, &format!("offline {size:?}")).await;
    }
    st.restart_server().await;
    b.wait(
        "reconnected",
        "return !document.getElementById('conn') && !!document.getElementById('banner')",
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_show_over_supervisor_screens_and_the_idle_lock_returns_to_the_lane() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(5, "").await;
    let api = st.client();
    st.supervisor()
        .await
        .batch_on_lane("main", &st.today())
        .await;
    let b = Browser::start(1280, 800).await.unwrap();
    b.goto(&format!("{}/#batches", st.root)).await.unwrap();
    // Over the PIN pad too.
    b.wait_visible("#pin-dots", T).await.unwrap();
    api.scan("main", "C006").await;
    b.wait(
        "overlay on the PIN pad",
        "const o = document.getElementById('overlay'); return !!(o && o.dataset.verdict === 'no_open_enrollment')",
        T,
    )
    .await
    .unwrap();
    login(&b, PIN).await;
    b.wait_visible("#new-batch", T).await.unwrap();

    let mut seen = 0;
    for (i, (w, h)) in SIZES.into_iter().enumerate() {
        b.viewport(w, h).await.unwrap();
        let code = ["C001", "NOSUCH", "C001"][i];
        // A touch, so the idle lock waits while the overlays are checked.
        b.js(
            "document.dispatchEvent(new Event('pointerdown')); return 1",
            vec![],
        )
        .await
        .unwrap();
        api.scan("main", code).await;
        let v = b
            .wait(
                "overlay",
                &format!(
                    "const o = document.getElementById('overlay'); return o && Number(o.dataset.seq) > {seen} && o.getClientRects().length ? [Number(o.dataset.seq), o.dataset.verdict, o.innerText, document.documentElement.dataset.lastTone || ''] : null"
                ),
                T,
            )
            .await
            .unwrap();
        seen = v[0].as_u64().unwrap();
        let verdict = ["ok", "unknown_client", "duplicate"][i];
        assert_eq!(v[1], verdict);
        // Its tone played.
        assert_eq!(v[3], verdict);
        let text = v[2].as_str().unwrap();
        assert!(text.contains("Lane main"), "{text:?}");
        if verdict != "unknown_client" {
            assert!(text.contains("Maria G."), "{text:?}");
        }
        shot(&b, &format!("lane14-overlay-{verdict}"), (w, h)).await;
        overflow(&b, &format!("overlay {w}x{h}")).await;
    }
    // Taps go through the overlay to the screen under it.
    b.tap("a[href=\"#status\"]").await.unwrap();
    b.wait_visible("#st-version", T).await.unwrap();

    // No touch for idle_lock_seconds: the session ends and the lane screen is back.
    b.wait(
        "lane screen after the idle lock",
        "const e = document.getElementById('banner'); return !!(e && !location.hash && document.getElementById('to-supervisor'))",
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let s = b
        .js(
            "return fetch('/api/v1/session').then(r => r.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(s, 401);
    // The lane screen shows scans as banners again, not as overlays.
    api.scan("main", "C002").await;
    wait_banner(&b, "ok", 0).await;
    assert_eq!(
        b.js("return !document.getElementById('overlay')", vec![])
            .await
            .unwrap(),
        Value::Bool(true)
    );
    b.quit().await;
    st.stop().await;
}
