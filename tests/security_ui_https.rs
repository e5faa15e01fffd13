//! The kiosk UI over HTTPS in real headless Chromium (issue 13): a station with `tls = "on"` on
//! 127.0.0.1, a browser that trusts exactly the station's generated certificate (added to the
//! NSS database Chromium reads on Linux, `$HOME/.pki/nssdb`, as IT.md tells IT to do for the
//! kiosk), loads the UI and logs a supervisor in (the `Secure` session cookie then carries the
//! next requests). Without that trust Chromium refuses the certificate.
//!
//! Uses the WebDriver client of tests/ui as it is today; under `CI=true` a missing Chromium or
//! `certutil` (Debian's libnss3-tools, installed here with apt-get when missing) fails the test.

mod common;
#[path = "ui/webdriver.rs"]
mod webdriver;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{eventually, Station, PIN};
use webdriver::{ensure_chromium, Browser};

const T: Duration = Duration::from_secs(20);
const CERTUTIL: &str = "/usr/bin/certutil";

/// Chromium and certutil are there, or (outside CI) the test says why it did not run.
fn preconditions() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut ok = ensure_chromium();
    if ok && !Path::new(CERTUTIL).exists() {
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-q", "libnss3-tools"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        ok = Path::new(CERTUTIL).exists();
    }
    if !ok {
        assert!(
            !ci,
            "CI=true: chromium, chromium-driver and libnss3-tools are required"
        );
        eprintln!("SKIPPED: needs chromium, chromium-driver and certutil (libnss3-tools)");
    }
    ok
}

fn certutil(args: &[&str]) {
    let st = Command::new(CERTUTIL).args(args).status().unwrap();
    assert!(st.success(), "certutil {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_loads_over_https_and_a_supervisor_logs_in() {
    if !preconditions() {
        return;
    }
    let st = Station::start_custom("", Some(&common::fixture("station")), |t| {
        t.replace(
            "idle_lock_seconds = 120",
            "idle_lock_seconds = 120\ntls = \"on\"",
        )
    })
    .await;
    let cert = st.dir.path().join(scanstation::web::tls::SELF_SIGNED_CERT);
    eventually(T, "the generated certificate", || {
        let whole = std::fs::read_to_string(&cert).is_ok_and(|t| t.contains("END CERTIFICATE"));
        async move { whole.then_some(()) }
    })
    .await;

    // A home whose NSS database trusts the station's certificate (and nothing else added).
    let home = tempfile::tempdir().unwrap();
    let nssdb = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let db = format!("sql:{}", nssdb.display());
    certutil(&["-d", &db, "-N", "--empty-password"]);
    certutil(
        &["-d", &db, "-A", "-t", "P,,", "-n", "scanstation", "-i"]
            .into_iter()
            .chain([cert.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    // chromedriver, and the Chromium it starts, inherit HOME (this test binary has one test).
    std::env::set_var("HOME", home.path());

    let url = format!("https://{}/", st.addr());
    let b = Browser::start(1024, 768).await.unwrap();
    b.goto(&url).await.unwrap();
    b.wait_visible("#to-supervisor", T).await.unwrap();
    let scheme = b.js("return location.protocol", vec![]).await.unwrap();
    assert_eq!(scheme, "https:");
    b.tap("#to-supervisor").await.unwrap();
    b.wait_visible("#pin-dots", T).await.unwrap();
    for d in PIN.chars() {
        b.tap(&format!("[data-key=\"{d}\"]")).await.unwrap();
    }
    b.tap("#pin-ok").await.unwrap();
    // The batches screen loads with the session cookie: POST /session passed the origin check
    // and the Secure cookie went back over HTTPS.
    b.wait_visible("#new-batch", T).await.unwrap();
    b.quit().await;

    // Control: a home that trusts nothing gets no page (Chromium's certificate error instead).
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", empty.path());
    let b = Browser::start(1024, 768).await.unwrap();
    let _ = b.goto(&url).await;
    let loaded = b
        .js("return !!document.getElementById('to-supervisor')", vec![])
        .await
        .unwrap_or_default();
    assert_eq!(
        loaded,
        serde_json::json!(false),
        "an untrusted certificate was accepted"
    );
    b.quit().await;
    st.stop().await;
}
