//! End-to-end tests of the kiosk UI in real headless Chromium (Debian's chromium and
//! chromium-driver, driven over W3C WebDriver by fantoccini), against a real station: the real HTTP server,
//! a real SQLite file, the fixture data imported through the normal import path.
//!
//! Screenshots of every screen go to `target/screenshots/`. The latency figures (lane scan call
//! to banner on screen, p50/p99 over 200 scans) come from the ignored test `lane_scan_latency`:
//!   cargo test --release --test ui_e2e -- --ignored --nocapture lane_scan_latency

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use common::browser::{chromium_ready, login, screenshots_dir, shot, wait_banner, Browser};
use common::{Api, Station, PIN};

const T: Duration = Duration::from_secs(10);

/// Create a batch of Hot Meals for project 1001 today over the API and bind it to `lane`.
async fn batch_on_lane(api: &Api, lane: &str) -> String {
    let status = api.get_ok("/status").await;
    let today = status["today"].as_str().unwrap().to_string();
    api.batch_on_lane(lane, &today).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_screen_shows_each_verdict_with_name_and_served_count() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(120, "").await;
    let api = st.supervisor().await;
    let b = Browser::start(800, 480).await.unwrap();

    // Unbound lane.
    b.goto(&format!("{}/?lane=side", st.root)).await.unwrap();
    b.wait(
        "unbound message",
        "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'unbound';",
        T,
    )
    .await
    .unwrap();
    assert!(b
        .text("#banner")
        .await
        .unwrap()
        .contains("No batch open on this lane"));

    batch_on_lane(&api, "main").await;
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.wait(
        "Ready",
        "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'ready';",
        T,
    )
    .await
    .unwrap();
    assert!(b.text("#banner").await.unwrap().contains("Ready"));

    let cases = [
        ("C001", "ok", "OK", Some("Maria G."), "rgb(32, 180, 81)"),
        (
            "C006",
            "no_open_enrollment",
            "Not enrolled",
            Some("Keisha W."),
            "rgb(123, 21, 18)",
        ),
        (
            "C001",
            "duplicate",
            "Scanned already",
            Some("Maria G."),
            "rgb(248, 186, 0)",
        ),
        (
            "NOSUCH",
            "unknown_client",
            "Card not recognised",
            None,
            "rgb(25, 89, 177)",
        ),
        (
            "!!",
            "invalid_code",
            "Unreadable card",
            None,
            "rgb(42, 17, 59)",
        ),
    ];
    let mut seq = 0;
    for (code, verdict, text, name, colour) in cases {
        api.scan("main", code).await;
        seq = wait_banner(&b, verdict, seq).await;
        let banner = b.text("#banner").await.unwrap();
        assert!(banner.contains(text), "{code}: {banner:?}");
        if let Some(n) = name {
            assert_eq!(b.text("#banner-name").await.unwrap(), n);
        }
        let bg = b
            .js(
                "return getComputedStyle(document.getElementById('banner')).backgroundColor",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(bg, colour, "{code}");
        // The live region announces the verdict for screen readers.
        b.wait(
            "live region",
            &format!(
                "return document.getElementById('announce').textContent.startsWith({})",
                serde_json::to_string(text).unwrap()
            ),
            T,
        )
        .await
        .unwrap();
    }
    // Served counts OK entries only; nothing more than first name and last initial is shown.
    assert_eq!(b.text("#served-n").await.unwrap(), "1");
    let page = b.text("body").await.unwrap();
    for surname in ["Gonzalez", "Washington"] {
        assert!(!page.contains(surname), "{surname} on the public screen");
    }
    // Falls back to Ready after a few seconds.
    b.wait(
        "Ready again",
        "return document.getElementById('banner').dataset.verdict === 'ready'",
        T,
    )
    .await
    .unwrap();
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_creates_a_batch_removes_flagged_and_posts() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(120, "").await;
    let api = st.client();
    let b = Browser::start(1280, 800).await.unwrap();
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.tap("#to-supervisor").await.unwrap();

    // Wrong PIN, then the right one.
    login(&b, "9999").await;
    b.wait(
        "wrong PIN message",
        "return document.getElementById('pin-msg').textContent.includes('Wrong PIN')",
        T,
    )
    .await
    .unwrap();
    login(&b, PIN).await;
    b.wait_visible("#new-batch", T).await.unwrap();
    assert!(b.text("#lock").await.unwrap().contains("Maria"));

    // New batch: defaults from the service and today's date.
    b.tap("#new-batch").await.unwrap();
    b.wait_visible("#f-create", T).await.unwrap();
    let (_, status) = st.supervisor().await.get("/status").await;
    let form = b
        .js(
            "return [document.getElementById('f-date').value, document.getElementById('f-units').value, document.getElementById('f-value').value]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(form, json!([status["today"], "1", "0.00"]));
    b.js(
        "const s = document.getElementById('f-project'); s.value = '1001'; s.dispatchEvent(new Event('change'));\
         const l = document.getElementById('f-lane'); l.value = 'main'; l.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    b.type_into("#f-name", "Lunch").await.unwrap();
    b.tap("#f-create").await.unwrap();
    b.wait_visible("#batch-title", T).await.unwrap();
    assert_eq!(b.text("#batch-title").await.unwrap(), "Lunch");

    // Scans arrive live: two OK, three flagged.
    for code in ["C001", "C006", "C002", "C001", "NOSUCH"] {
        api.scan("main", code).await;
    }
    b.wait(
        "5 entries",
        "return document.querySelectorAll('#entries li').length === 5",
        T,
    )
    .await
    .unwrap();
    assert_eq!(b.text("#count-flagged").await.unwrap(), "3 flagged");
    let batch_url = b
        .js("return location.href", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();

    // A scan on a lane with no batch is kept; the supervisor moves it into this batch.
    api.scan("door", "XYZ9").await;
    b.tap("a[href=\"#batches\"]").await.unwrap();
    b.wait_visible("#unassigned", T).await.unwrap();
    assert!(b.text("#unassigned").await.unwrap().contains("XYZ9"));
    b.tap("#unassigned li button").await.unwrap();
    b.wait(
        "unassigned list gone",
        "return !document.getElementById('unassigned')",
        T,
    )
    .await
    .unwrap();
    b.goto(&batch_url).await.unwrap();
    b.wait(
        "6 entries",
        "return document.querySelectorAll('#entries li').length === 6",
        T,
    )
    .await
    .unwrap();
    assert_eq!(b.text("#count-flagged").await.unwrap(), "4 flagged");
    let post_disabled = b
        .js("return document.getElementById('post').disabled", vec![])
        .await
        .unwrap();
    assert_eq!(post_disabled, json!(true));
    assert!(b.text("#post-reason").await.unwrap().contains("4 flagged"));

    // Filter flagged, then X on one flagged entry (with confirmation).
    b.tap("#filter-flagged").await.unwrap();
    b.wait(
        "4 flagged shown",
        "return document.querySelectorAll('#entries li').length === 4",
        T,
    )
    .await
    .unwrap();
    b.tap("#entries li[data-verdict=\"unknown_client\"] button")
        .await
        .unwrap();
    b.tap("dialog [data-confirm]").await.unwrap();
    b.wait(
        "3 flagged",
        "return document.getElementById('count-flagged').textContent === '3 flagged'",
        T,
    )
    .await
    .unwrap();

    // Remove all flagged.
    b.tap("#remove-flagged").await.unwrap();
    b.tap("dialog [data-confirm]").await.unwrap();
    b.wait(
        "0 flagged",
        "return document.getElementById('count-flagged').textContent === '0 flagged'",
        T,
    )
    .await
    .unwrap();
    assert_eq!(b.text("#count-removed").await.unwrap(), "4 removed");

    // Post, confirming with the counts.
    b.tap("#post").await.unwrap();
    b.wait_visible("dialog", T).await.unwrap();
    assert!(b.text("dialog").await.unwrap().contains("Post 2 services"));
    b.tap("dialog [data-confirm]").await.unwrap();
    b.wait_visible("#posted", T).await.unwrap();
    assert!(b.text("#posted").await.unwrap().contains("Maria"));
    let id = b
        .js(
            "return decodeURIComponent(location.hash.split('/')[1])",
            vec![],
        )
        .await
        .unwrap();
    let (_, batch) = st
        .supervisor()
        .await
        .get(&format!("/batches/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(batch["state"], "posted");
    assert_eq!(batch["counts"]["ok"], 2);
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_screens_lock_after_idle_time() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(2, "").await;
    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/#batches", st.root)).await.unwrap();
    login(&b, PIN).await;
    b.wait_visible("#new-batch", T).await.unwrap();
    // No touch for idle_lock_seconds: back to the lane screen, and the session is gone server-side.
    b.wait(
        "lane screen after the idle lock",
        "return !!document.getElementById('to-supervisor') && !location.hash",
        T,
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
    // The PIN pad says why when the supervisor comes back.
    b.tap("#to-supervisor").await.unwrap();
    b.wait_visible("#pin-dots", T).await.unwrap();
    assert!(b
        .text("#pin-msg")
        .await
        .unwrap()
        .contains("without a touch"));
    // Locking by hand works too.
    login(&b, PIN).await;
    b.wait_visible("#new-batch", T).await.unwrap();
    b.tap("#lock").await.unwrap();
    b.wait_visible("#pin-dots", T).await.unwrap();
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spanish_on_screen() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(120, "").await;
    let api = st.supervisor().await;
    batch_on_lane(&api, "main").await;
    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.wait(
        "Ready",
        "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'ready';",
        T,
    )
    .await
    .unwrap();
    b.tap(".lane-foot button[lang=\"es\"]").await.unwrap();
    b.wait(
        "Listo",
        "return document.getElementById('banner').innerText.includes('Listo')",
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        b.js("return document.documentElement.lang", vec![])
            .await
            .unwrap(),
        "es"
    );
    api.scan("main", "C006").await;
    wait_banner(&b, "no_open_enrollment", 0).await;
    assert!(b.text("#banner").await.unwrap().contains("No inscrito"));
    // The choice sticks for the supervisor screens.
    b.tap("#to-supervisor").await.unwrap();
    b.wait_visible("#pin-dots", T).await.unwrap();
    assert!(b
        .text("#pin-title")
        .await
        .unwrap()
        .contains("PIN de supervisor"));
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_screen_reconnects_after_a_daemon_restart() {
    if !chromium_ready() {
        return;
    }
    let mut st = Station::kiosk(120, "").await;
    batch_on_lane(&st.supervisor().await, "main").await;
    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.wait(
        "Ready",
        "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'ready';",
        T,
    )
    .await
    .unwrap();
    st.stop_server().await;
    b.wait_visible("#conn", T).await.unwrap();
    shot(&b, "lane-reconnecting", (800, 480)).await;
    st.restart_server().await;
    b.wait(
        "reconnected",
        "return !document.getElementById('conn')",
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    st.client().scan("main", "C002").await;
    wait_banner(&b, "ok", 0).await;
    assert_eq!(b.text("#banner-name").await.unwrap(), "James O.");
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_every_screen() {
    if !chromium_ready() {
        return;
    }
    // One batch per screen size, the same client in each: duplicates only within a batch.
    let st = Station::kiosk(120, "[hmis]\nduplicate_scope = \"batch\"").await;
    let api = st.supervisor().await;
    for size in [(800, 480), (1280, 800), (480, 800), (1920, 1080)] {
        let (w, h) = size;
        let b = Browser::start(w, h).await.unwrap();
        b.goto(&format!("{}/?lane=side", st.root)).await.unwrap();
        b.wait(
            "unbound",
            "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'unbound';",
            T,
        )
        .await
        .unwrap();
        shot(&b, "lane-unbound", size).await;
        let lane = format!("l{w}");
        let id = batch_on_lane(&api, &lane).await;
        b.goto(&format!("{}/?lane={lane}", st.root)).await.unwrap();
        b.wait(
            "ready",
            "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'ready';",
            T,
        )
        .await
        .unwrap();
        shot(&b, "lane-ready", size).await;
        let mut seq = 0;
        for (code, verdict) in [
            ("C001", "ok"),
            ("C006", "no_open_enrollment"),
            ("C001", "duplicate"),
            ("NOSUCH", "unknown_client"),
            ("!!", "invalid_code"),
        ] {
            api.scan(&lane, code).await;
            seq = wait_banner(&b, verdict, seq).await;
            shot(&b, &format!("lane-{verdict}"), size).await;
        }
        b.tap(".lane-foot button[lang=\"es\"]").await.unwrap();
        api.scan(&lane, "C002").await;
        wait_banner(&b, "ok", seq).await;
        shot(&b, "lane-ok-es", size).await;
        b.tap(".lane-foot button[lang=\"en\"]").await.unwrap();

        b.tap("#to-supervisor").await.unwrap();
        b.wait_visible("#pin-dots", T).await.unwrap();
        b.tap("[data-key=\"2\"]").await.unwrap();
        shot(&b, "pin", size).await;
        login(&b, &PIN[1..]).await;
        b.wait_visible("#new-batch", T).await.unwrap();
        // Leave an unassigned scan for the batches screen.
        api.scan("nobatch", "C002").await;
        b.goto(&format!("{}/?lane={lane}#batches", st.root))
            .await
            .unwrap();
        b.wait_visible("#unassigned", T).await.unwrap();
        shot(&b, "batches", size).await;
        b.tap("#new-batch").await.unwrap();
        b.wait_visible("#f-create", T).await.unwrap();
        shot(&b, "new-batch", size).await;
        b.goto(&format!("{}/?lane={lane}#batch/{id}", st.root))
            .await
            .unwrap();
        b.wait_visible("#entries", T).await.unwrap();
        shot(&b, "batch-review", size).await;
        b.tap("#remove-flagged").await.unwrap();
        b.wait_visible("dialog", T).await.unwrap();
        shot(&b, "confirm-remove-flagged", size).await;
        b.tap("dialog [data-confirm]").await.unwrap();
        b.wait(
            "post enabled",
            "const p = document.getElementById('post'); return p && !p.disabled",
            T,
        )
        .await
        .unwrap();
        b.tap("#roster").await.unwrap();
        b.wait_visible("#roster-list li", T).await.unwrap();
        shot(&b, "roster", size).await;
        b.goto(&format!("{}/?lane={lane}#batch/{id}/lost", st.root))
            .await
            .unwrap();
        b.wait_visible("#lc-q", T).await.unwrap();
        b.type_into("#lc-q", "mar g").await.unwrap();
        b.tap("#lc-search").await.unwrap();
        b.wait_visible("#lc-results li", T).await.unwrap();
        shot(&b, "lost-card", size).await;
        b.goto(&format!("{}/?lane={lane}#batch/{id}", st.root))
            .await
            .unwrap();
        b.tap("#post").await.unwrap();
        b.wait_visible("dialog", T).await.unwrap();
        shot(&b, "confirm-post", size).await;
        b.tap("dialog [data-confirm]").await.unwrap();
        b.wait_visible("#posted", T).await.unwrap();
        shot(&b, "batch-posted", size).await;
        b.tap("a[href=\"#status\"]").await.unwrap();
        b.wait_visible("#st-version", T).await.unwrap();
        shot(&b, "status", size).await;
        b.quit().await;
    }
    eprintln!("screenshots in {}", screenshots_dir().display());
    st.stop().await;
}

/// Lane scan call to banner on screen, over 200 scans. Ignored by default (a measurement, not a
/// pass/fail test); run with
///   cargo test --release --test ui_e2e -- --ignored --nocapture lane_scan_latency
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn lane_scan_latency() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(120, "").await;
    let api = st.supervisor().await;
    batch_on_lane(&api, "main").await;
    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.wait(
        "Ready",
        "const e = document.getElementById('banner'); return e && e.dataset.verdict === 'ready';",
        T,
    )
    .await
    .unwrap();
    let codes = ["C001", "C006", "C002", "C006", "NOSUCH", "!!"];
    let mut seq = 0;
    let mut ms = Vec::new();
    let mut dom = Vec::new();
    for i in 0..200 {
        let code = codes[i % codes.len()];
        let t0 = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0;
        api.scan("main", code).await;
        // The page stamps the banner with the wall-clock time of the first frame showing it.
        let script = format!(
            "const e = document.getElementById('banner'); \
             return e && Number(e.dataset.seq) > {seq} && e.dataset.shownAt ? [Number(e.dataset.seq), Number(e.dataset.shownAt), Number(e.dataset.renderedAt)] : null;"
        );
        let v = b.wait("banner stamp", &script, T).await.unwrap();
        seq = v[0].as_u64().unwrap();
        ms.push(v[1].as_f64().unwrap() - t0);
        dom.push(v[2].as_f64().unwrap() - t0);
    }
    for (what, mut v) in [
        ("banner visible (next frame)", ms),
        ("banner in the page (DOM)", dom),
    ] {
        v.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| v[((v.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        println!(
            "lane scan call -> {what}, {} scans: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            v.len(),
            pct(0.50),
            pct(0.99),
            v[v.len() - 1]
        );
    }
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_delivery_can_be_retried_from_the_batch_screen() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    if !chromium_ready() {
        return;
    }
    // A receiver that refuses every delivery with 400: the worker parks it as failed.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/v1/services",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { (axum::http::StatusCode::BAD_REQUEST, "unknown project") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secrets = tempfile::tempdir().unwrap();
    let token = secrets.path().join("upstream.token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let extra = format!(
        "[upstream]\nkind = \"http-json\"\nurl = \"{url}\"\ntoken_file = \"{}\"\n",
        token.display()
    );
    let st = Station::kiosk(120, &extra).await;
    let api = st.supervisor().await;
    let id = batch_on_lane(&api, "main").await;
    api.scan("main", "C001").await;
    let (s, body) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!(s, 200, "{body}");

    let b = Browser::start(1280, 800).await.unwrap();
    b.goto(&format!("{}/#batch/{id}", st.root)).await.unwrap();
    login(&b, PIN).await;
    // The parked delivery shows as failed, with its reason and a Retry button.
    b.wait_visible("#retry-delivery", T).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(b.text("#posted").await.unwrap().contains("unknown project"));
    b.tap("#retry-delivery").await.unwrap();
    // The station sends it again (and the receiver refuses it again).
    common::eventually(T, "a second delivery after Retry", || {
        let n = hits.load(Ordering::SeqCst);
        async move { (n >= 2).then_some(()) }
    })
    .await;
    b.wait_visible("#retry-delivery", T).await.unwrap();
    b.quit().await;
    st.stop().await;
}
