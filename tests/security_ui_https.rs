//! The kiosk UI over HTTPS in real headless Chromium (issue 13): a station with `tls = "on"` on
//! 127.0.0.1, a browser that trusts exactly the station's generated certificate (added to the
//! NSS database Chromium reads on Linux, `$HOME/.pki/nssdb`, as IT.md tells IT to do for the
//! kiosk), loads the UI and logs a supervisor in (the `Secure` session cookie then carries the
//! next requests). Without that trust Chromium refuses the certificate.
//!
//! Drives Chromium through the harness's fantoccini client (tests/common/browser.rs, the same
//! Chromium flags as every UI test); under `CI=true` a missing Chromium, chromium-driver or
//! `certutil` (Debian's libnss3-tools; tests/run.sh installs all three) fails the test.

mod common;

use std::time::Duration;

use common::browser::{certutil_ready, chromium_ready, home_trusting, Browser};
use common::{eventually, Station, PIN};

const T: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_loads_over_https_and_a_supervisor_logs_in() {
    if !(chromium_ready() && certutil_ready()) {
        return;
    }
    let st = Station::builder().https().start().await;
    let (cert, _) = st.tls_files();
    eventually(T, "the generated certificate", || {
        let whole = std::fs::read_to_string(&cert).is_ok_and(|t| t.contains("END CERTIFICATE"));
        async move { whole.then_some(()) }
    })
    .await;

    // A home whose NSS database trusts the station's certificate (and nothing else added);
    // chromedriver, and the Chromium it starts, get it as HOME.
    let home = home_trusting(&cert);

    let url = format!("{}/", st.root);
    assert_eq!(url, format!("https://{}/", st.addr()));
    let b = Browser::start_in_home(1024, 768, home.path())
        .await
        .unwrap();
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
    let b = Browser::start_in_home(1024, 768, empty.path())
        .await
        .unwrap();
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
