//! The scheduled enrollment pull against a real local HTTPS server: conditional requests, a bad
//! zip that changes nothing, and open batches reloaded after an import.

mod common;

use std::time::Duration;

use common::fixture;
use common::lib::{self, client_count as clients, pull_client, pull_once, Pulled};
use common::upstream::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_imports_then_not_modified_then_a_bad_zip_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("pull CA");
    let receiver = Receiver::start(&ca);
    let ca_pem = ca.write_pem(dir.path());
    let url = format!("https://127.0.0.1:{}/export.zip", receiver.addr.port());
    let settings = settings(
        dir.path(),
        &format!("kind = \"none\"\nca_file = \"{}\"", ca_pem.display()),
        &format!("[hmis]\nimport_url = \"{url}\"\nimport_interval_minutes = 60\n"),
    );
    let app = app(settings.clone());
    let client = pull_client(&app, &url).unwrap();
    let lm = "Wed, 01 May 2024 08:00:00 GMT";

    // 1. A new file: imported, its validators kept.
    receiver.script([Action::status(200)
        .header("ETag", "\"v1\"")
        .header("Last-Modified", lm)
        .body(zip_folder(&fixture("station")))]);
    let r = pull_once(&app, &client, &url).await.unwrap();
    assert!(matches!(r, Pulled::Imported(_)), "{r:?}");
    let n = clients(&app);
    assert!(n > 0);
    let first = &receiver.requests()[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.header("if-none-match"), None);
    let status = lib::upstream_status_async(&app).await;
    let pull = &status["enrollment_pull"];
    assert_eq!(pull["ok"], true, "{pull}");
    assert!(pull["data_age_seconds"].as_i64().unwrap() < 60);
    let source = lib::data_source(&app);
    assert_eq!(source.as_deref(), Some(url.as_str()));

    // 2. Unchanged: a conditional request, answered 304.
    receiver.script([Action::status(304)]);
    let r = pull_once(&app, &client, &url).await.unwrap();
    assert_eq!(r, Pulled::NotModified);
    let second = &receiver.requests()[1];
    assert_eq!(second.header("if-none-match"), Some("\"v1\""));
    assert_eq!(second.header("if-modified-since"), Some(lm));

    // 3. A broken file: refused, the data stays, /status says so with the data's age.
    receiver.script([Action::status(200)
        .header("ETag", "\"v2\"")
        .body(b"PK\x03\x04 this is not a zip".to_vec())]);
    let err = pull_once(&app, &client, &url).await.unwrap_err();
    assert!(!err.is_empty());
    assert_eq!(clients(&app), n, "the old data is kept");
    let status = lib::upstream_status_async(&app).await;
    let pull = &status["enrollment_pull"];
    assert_eq!(pull["ok"], false, "{pull}");
    assert_eq!(pull["last_error"], err);
    assert!(pull["data_age_seconds"].is_i64(), "{pull}");
    // The validators of the failed file were not kept: the next pull asks for v1 again.
    receiver.script([Action::status(304)]);
    pull_once(&app, &client, &url).await.unwrap();
    assert_eq!(
        receiver.requests()[3].header("if-none-match"),
        Some("\"v1\"")
    );
    let status = lib::upstream_status_async(&app).await;
    assert_eq!(status["enrollment_pull"]["ok"], true);

    // 4. A server error is a failure too, and changes nothing.
    receiver.script([Action::status(500)]);
    assert!(pull_once(&app, &client, &url).await.is_err());
    assert_eq!(clients(&app), n);
    // No temporary download is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("enrollment-pull"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_batches_are_reloaded_after_a_pull() {
    let ca = TestCa::new("pull CA");
    let receiver = Receiver::start(&ca);
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_pem = ca.write_pem(ca_dir.path());
    let station = common::Station::start(&format!(
        "[upstream]\nkind = \"none\"\nca_file = \"{}\"\n",
        ca_pem.display()
    ))
    .await;
    let api = station.supervisor().await;
    let today = station.today();
    let batch = api
        .new_batch(
            serde_json::json!({"project_id": "P1", "service_code": "484", "service_date": today}),
        )
        .await;
    // C2 is enrolled in P2 only: no open enrollment in P1, until the delta enrols them.
    let (s, e) = api
        .post(
            &format!("/batches/{batch}/entries"),
            serde_json::json!({"client_id": "C2"}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["verdict"], "no_open_enrollment");

    let url = format!("https://127.0.0.1:{}/export.zip", receiver.addr.port());
    receiver.script([Action::status(200)
        .header("ETag", "\"d1\"")
        .body(zip_folder(&fixture("station-delta")))]);
    let client = pull_client(&station.app, &url).unwrap();
    let mut events = lib::subscribe(&station.app);
    let r = pull_once(&station.app, &client, &url).await.unwrap();
    assert!(matches!(r, Pulled::Imported(_)), "{r:?}");
    let data = events.next_named("data", Duration::from_secs(5)).await;
    assert_eq!(data["source"], "pull");

    let (s, b) = api.get(&format!("/batches/{batch}")).await;
    assert_eq!(s, 200);
    assert_eq!(b["entries"][0]["verdict"], "ok", "{b}");
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_pulls_at_start_and_status_shows_it() {
    let ca = TestCa::new("pull CA");
    let receiver = Receiver::start(&ca);
    let keep = tempfile::tempdir().unwrap();
    let ca_pem = ca.write_pem(keep.path());
    let token = keep.path().join("import.token");
    std::fs::write(&token, "pull-token\n").unwrap();
    receiver.set_default(
        Action::status(200)
            .header("ETag", "\"s1\"")
            .body(zip_folder(&fixture("station"))),
    );
    let url = format!("https://127.0.0.1:{}/export.zip", receiver.addr.port());
    let station = common::Station::start_with(
        &format!(
            "[hmis]\nimport_url = \"{url}\"\nimport_interval_minutes = 60\nimport_token_file = \"{}\"\n\
             [upstream]\nkind = \"none\"\nca_file = \"{}\"\n",
            token.display(),
            ca_pem.display()
        ),
        None,
    )
    .await;
    let api = station.supervisor().await;
    let st = common::eventually(
        Duration::from_secs(20),
        "the first pull imported",
        || async {
            let (_, st) = api.get("/status").await;
            (st["outbox"]["enrollment_pull"]["ok"] == true).then_some(st)
        },
    )
    .await;
    assert!(st["data"]["clients"].as_u64().unwrap() > 0, "{st}");
    let reqs = receiver.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/export.zip");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer pull-token"));
    station.stop().await;
}
