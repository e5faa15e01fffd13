//! The outbox worker against a real local HTTPS server (rustls, a test CA made here).

mod common;

use std::time::Duration;

use common::lib;
use common::upstream::*;

const WAIT: Duration = Duration::from_secs(20);

struct Setup {
    _dir: tempfile::TempDir,
    receiver: Receiver,
    settings: lib::Settings,
}

fn setup(upstream_extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("scanstation test CA");
    let receiver = Receiver::start(&ca);
    let ca_pem = ca.write_pem(dir.path());
    let up = http_upstream(dir.path(), &receiver.url(), &ca_pem, upstream_extra);
    let settings = settings(dir.path(), &up, "");
    Setup {
        _dir: dir,
        receiver,
        settings,
    }
}

fn states(s: &Setup) -> Vec<String> {
    outbox_rows(&db(&s.settings))
        .into_iter()
        .map(|r| r.0)
        .collect()
}

fn wait_states(s: &Setup, want: &str) {
    wait_until(&format!("every delivery {want}"), WAIT, || {
        let st = states(s);
        !st.is_empty() && st.iter().all(|x| x == want)
    });
}

#[test]
fn delivers_in_chunks_with_token_key_and_ids() {
    let s = setup("batch_size = 2");
    let app = app(s.settings.clone());
    let (ids, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 5, 2, "http-json", "484", "2024-05-01")
    });
    assert_eq!(keys.len(), 3);
    let _w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "delivered");

    let reqs = s.receiver.requests();
    assert_eq!(reqs.len(), 3, "one request per delivery");
    // Deliveries go out a few at a time: match requests to deliveries by key.
    let mut seen = Vec::new();
    for key in &keys {
        let r = reqs
            .iter()
            .find(|r| r.header("idempotency-key") == Some(key.as_str()))
            .expect("a request per delivery key");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/scanstation/v1/services");
        assert_eq!(r.header("authorization"), Some("Bearer s3cret-token"));
        assert_eq!(r.header("idempotency-key"), Some(key.as_str()));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert_eq!(body["station_id"], "test-station");
        assert_eq!(body["batch_id"], "B1");
        let svc = &body["services"][0];
        for field in [
            "id",
            "personal_id",
            "enrollment_id",
            "project_id",
            "service_code",
            "date_provided",
            "unit",
            "units",
            "unit_value",
            "posted_by",
        ] {
            assert!(!svc[field].is_null(), "{field} missing in {svc}");
        }
        assert!(
            svc.get("hud_record_type").is_none(),
            "no HUD type for a meal"
        );
        assert_eq!(svc["date_provided"], "2024-05-01");
        seen.extend(r.service_ids());
    }
    assert_eq!(
        seen, ids,
        "every service once, each delivery in posting order"
    );

    let status = lib::upstream_status(&app);
    assert_eq!(status["delivered"], 3);
    assert_eq!(status["queued"], 0);
    assert_eq!(status["failed"], 0);
    let b = lib::batch_delivery(&app, "B1").unwrap();
    assert_eq!(b["state"], "delivered");
    assert_eq!(b["services"], 5);
    assert!(b["last_error"].is_null());
    assert!(lib::batch_delivery(&app, "nope").is_none());
}

#[test]
fn server_error_then_success_resends_the_same_delivery() {
    let s = setup("");
    let app = app(s.settings.clone());
    let (ids, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 3, 100, "http-json", "484", "2024-05-01")
    });
    s.receiver
        .script([Action::status(500).body("database down")]);
    let _w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "delivered");
    let reqs = s.receiver.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.header("idempotency-key"), Some(keys[0].as_str()));
        assert_eq!(r.service_ids(), ids);
    }
    let rows = outbox_rows(&db(&s.settings));
    assert_eq!(rows[0].1, 2, "two attempts");
    assert!(
        rows[0].2.as_deref().unwrap().contains("500"),
        "{:?}",
        rows[0].2
    );
}

#[test]
fn too_many_requests_honours_retry_after() {
    let s = setup("");
    let app = app(s.settings.clone());
    let (_, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 2, 100, "http-json", "484", "2024-05-01")
    });
    s.receiver
        .script([Action::status(429).header("Retry-After", "2")]);
    let _w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "delivered");
    let reqs = s.receiver.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("idempotency-key"), Some(keys[0].as_str()));
    let gap = reqs[1].at - reqs[0].at;
    // The test backoff is at most 0.4 s: a gap of ~2 s can only come from Retry-After.
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
}

#[test]
fn connection_reset_mid_request_is_retried() {
    let s = setup("");
    let app = app(s.settings.clone());
    let (ids, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 4, 100, "http-json", "484", "2024-05-01")
    });
    s.receiver.script([Action::Reset]);
    let _w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "delivered");
    let reqs = s.receiver.requests();
    assert_eq!(reqs.len(), 2);
    assert!(!reqs[0].complete);
    assert_eq!(reqs[0].header("idempotency-key"), Some(keys[0].as_str()));
    assert_eq!(reqs[1].header("idempotency-key"), Some(keys[0].as_str()));
    assert_eq!(reqs[1].service_ids(), ids);
    let rows = outbox_rows(&db(&s.settings));
    assert_eq!(rows[0].1, 2);
}

#[test]
fn a_response_slower_than_the_timeout_is_retried() {
    let s = setup("request_timeout_seconds = 1");
    let app = app(s.settings.clone());
    let (_, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 1, 100, "http-json", "484", "2024-05-01")
    });
    s.receiver.script([Action::Delay(
        Duration::from_secs(4),
        Box::new(Action::status(200)),
    )]);
    let _w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "delivered");
    let reqs = s.receiver.requests();
    assert!(reqs.len() >= 2, "{} requests", reqs.len());
    assert!(reqs
        .iter()
        .all(|r| r.header("idempotency-key") == Some(keys[0].as_str())));
    let rows = outbox_rows(&db(&s.settings));
    let err = rows[0].2.clone().unwrap_or_default().to_lowercase();
    assert!(
        err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
}

#[test]
fn bad_request_parks_until_a_supervisor_retries() {
    let s = setup("");
    let app = app(s.settings.clone());
    let (ids, keys) = lib::with_conn(&app, |c| {
        post_batch(c, "B1", 2, 100, "http-json", "484", "2024-05-01")
    });
    s.receiver
        .script([Action::status(400).body("{\"error\": \"unknown enrollment E00001\"}")]);
    let w = Running::start(app.clone(), quick_backoff());
    wait_states(&s, "failed");
    let rows = outbox_rows(&db(&s.settings));
    let reason = rows[0].2.clone().unwrap();
    assert!(
        reason.contains("400") && reason.contains("unknown enrollment"),
        "{reason}"
    );
    let status = lib::upstream_status(&app);
    assert_eq!(status["failed"], 1);
    assert!(status["last_error"].as_str().unwrap().contains("400"));
    let b = lib::batch_delivery(&app, "B1").unwrap();
    assert_eq!(b["state"], "failed");
    assert!(b["last_error"]
        .as_str()
        .unwrap()
        .contains("unknown enrollment"));
    assert!(b["deliveries"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("unknown enrollment"));
    // Parked: nothing more is due.
    let next = lib::next_due(&app);
    assert!(next.is_none());
    assert_eq!(s.receiver.requests().len(), 1);

    // The supervisor retries it: same key, same services.
    let id: i64 = lib::with_conn(&app, |c| {
        c.query_row("SELECT id FROM outbox", [], |r| r.get(0))
            .unwrap()
    });
    assert!(lib::retry_delivery(&app, id));
    w.notify();
    wait_states(&s, "delivered");
    let reqs = s.receiver.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("idempotency-key"), Some(keys[0].as_str()));
    assert_eq!(reqs[1].service_ids(), ids);
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = TestCa::new("the CA the station trusts");
    let other = TestCa::new("some other CA");
    let receiver = Receiver::start(&other);
    let ca_pem = trusted.write_pem(dir.path());
    let up = http_upstream(dir.path(), &receiver.url(), &ca_pem, "");
    let settings = settings(dir.path(), &up, "");
    let app = app(settings.clone());
    lib::with_conn(&app, |c| {
        post_batch(c, "B1", 1, 100, "http-json", "484", "2024-05-01")
    });
    let _w = Running::start(app.clone(), quick_backoff());
    wait_until("a refused handshake and a retry", WAIT, || {
        receiver.tls_failures() >= 2
    });
    assert!(
        receiver.requests().is_empty(),
        "no request over an untrusted connection"
    );
    let rows = outbox_rows(&db(&settings));
    assert_eq!(
        rows[0].0, "queued",
        "kept for later, not lost and not parked"
    );
    let err = rows[0].2.clone().unwrap_or_default();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

#[test]
fn plain_http_is_refused_unless_loopback() {
    let http_client = |url: &str, ca: Option<&std::path::Path>| {
        lib::upstream_http_client(
            url,
            ca,
            Duration::from_secs(1),
            Some(Duration::from_secs(1)),
        )
    };
    let err = http_client("http://hmis.example.org/v1", None).unwrap_err();
    assert!(err.contains("https"), "{err}");
    assert!(http_client("http://127.0.0.1:9/v1", None).is_ok());
    assert!(http_client("https://hmis.example.org/v1", None).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("empty.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let err = http_client("https://hmis.example.org/v1", Some(&bad)).unwrap_err();
    assert!(err.contains("empty.pem"), "{err}");
}

#[test]
fn clienttrack_csv_drops_one_file_per_batch_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir(&drop).unwrap();
    let up = format!(
        "kind = \"clienttrack-csv\"\nfolder = \"{}\"\nregion_id = \"1\"\norg_id = \"77\"\n",
        drop.display()
    );
    let settings = settings(dir.path(), &up, "");
    let app = app(settings.clone());
    lib::with_conn(&app, |c| {
        post_batch(c, "B1", 3, 1000, "clienttrack-csv", "484", "2024-05-01");
        post_batch(c, "B2", 2, 1000, "clienttrack-csv", "200", "2024-12-09");
    });
    let _w = Running::start(app.clone(), quick_backoff());
    wait_until("both deliveries delivered", WAIT, || {
        let rows = outbox_rows(&db(&settings));
        rows.len() == 2 && rows.iter().all(|r| r.0 == "delivered")
    });
    let mut names: Vec<String> = std::fs::read_dir(&drop)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        2,
        "{names:?}: one file per batch, no temporary files"
    );
    assert!(names[0].contains("B1") && names[0].ends_with(".csv"));
    let text = std::fs::read_to_string(drop.join(&names[0])).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("Service_ServiceCodeID,Service_ClientID,Service_EnrollID"));
    let f: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(f.len(), 16);
    assert_eq!(f[0], "484");
    assert_eq!(f[1], "C00000");
    assert_eq!(f[2], "E00000");
    assert_eq!(f[3], "1");
    assert_eq!(f[4], "5/1/2024");
    assert_eq!(f[5], "5/1/2024");
    assert_eq!(f[6], "C");
    assert_eq!(f[7], "1");
    assert_eq!(
        f[8], "0",
        "UnitValue 0 for a count, as ClientTrack's upload takes it"
    );
    assert_eq!(f[9], "BS7");
    assert_eq!(f[14], "77");
    let text2 = std::fs::read_to_string(drop.join(&names[1])).unwrap();
    assert!(text2
        .lines()
        .nth(1)
        .unwrap()
        .contains(",12/9/2024,12/9/2024,"));
}
