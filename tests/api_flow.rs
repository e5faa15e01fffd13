//! The whole flow over HTTP against a real server and a real SQLite file: import, batch, scans and
//! their flags, remove, reload after a new import, post, 409s, lanes, unassigned scans, lookups.

mod common;

use std::time::Duration;

use common::{fixture, Station, OTHER_PIN, PIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn verdicts(batch: &Value) -> Vec<(String, String)> {
    batch["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["removed"].as_bool().unwrap())
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn without_a_session_only_health_events_and_lane_scans() {
    let st = Station::start("").await;
    let anon = st.client();
    assert_eq!(anon.get("/healthz").await.0, StatusCode::OK);
    for path in [
        "/projects",
        "/services",
        "/batches",
        "/status",
        "/clients?q=mar",
        "/lanes",
        "/scans/unassigned",
    ] {
        let (s, body) = anon.get(path).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (s, _) = anon
        .post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A lane scan needs no session (a scanner has none); with no batch bound it is kept.
    let (s, body) = anon.post("/lanes/main/scans", json!({"code": "C1"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    assert!(body["unassigned"]["scan_id"].is_i64());
    st.stop().await;
}

#[tokio::test]
async fn pin_login_cookie_and_lockout() {
    let st = Station::start("").await;
    let mut api = st.client();
    let (s, body) = api.login("0000").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    let (s, body) = api.login(OTHER_PIN).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["supervisor"], "Ana");
    assert_eq!(api.get("/session").await.1["supervisor"], "Ana");
    // The cookie is HttpOnly and SameSite=Strict.
    let resp = common::http()
        .post(format!("{}/session", st.base))
        .json(&json!({"pin": PIN}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // Logout ends the session.
    assert_eq!(api.delete("/session").await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.get("/batches").await.0, StatusCode::UNAUTHORIZED);

    // Five wrong PINs in a row start a wait, even for the right PIN: a short one (issue 13: a
    // growing delay instead of the 5-minute lock the public screen could impose on supervisors).
    let mut other = st.client();
    for _ in 0..5 {
        assert_eq!(other.login("9999").await.0, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = other.login(PIN).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait = body["retry_after_seconds"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{body}");
    st.stop().await;
}

#[tokio::test]
async fn sessions_expire_after_idle_lock_seconds() {
    let st = Station::builder()
        .no_import()
        .config(|c| c.idle_lock(1))
        .start()
        .await;
    let api = st.supervisor().await;
    assert_eq!(api.get("/batches").await.0, StatusCode::OK);
    // The idle limit is a time: wait past it (the wait defines the case, it is not a race).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(api.get("/batches").await.0, StatusCode::UNAUTHORIZED);
    st.stop().await;
}

#[tokio::test]
async fn scans_are_flagged_removed_and_posted() {
    let st = Station::start("").await;
    let api = st.supervisor().await;

    let (s, projects) = api.get("/projects").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Meal Program", "Night Shelter"]);
    let services = api.get("/services").await.1;
    assert_eq!(services[0]["code"], "484");
    assert_eq!(services[1]["hud_record_type"], 200);

    let (s, batch) = api
        .post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484", "lane": "main"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{batch}");
    let id = batch["id"].as_str().unwrap().to_string();
    assert_eq!(batch["state"], "open");
    assert_eq!(batch["lane"], "main");
    assert_eq!(batch["unit_value"], "0.00");
    assert_eq!(batch["units"], 1.0);
    assert_eq!(batch["service_date"], st.today());

    let scanner = st.client();
    let cases = [
        ("C1\r\n", "ok"),             // enrolled in P1, open
        ("C1", "duplicate"),          // again in the same batch
        ("C2", "no_open_enrollment"), // enrolled only in another project
        ("C4", "no_open_enrollment"), // exited in 2021
        ("C5", "unknown_client"),     // deleted client
        ("NOBODY", "unknown_client"), // never existed
        ("not a card!", "invalid_code"),
        ("C3", "ok"),
    ];
    for (code, want) in cases {
        let (s, entry) = scanner
            .post("/lanes/main/scans", json!({"code": code}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{code}: {entry}");
        assert_eq!(entry["verdict"], want, "{code}: {entry}");
    }
    let (_, batch) = api.get(&format!("/batches/{id}")).await;
    let entries = batch["entries"].as_array().unwrap();
    assert_eq!(entries.len(), cases.len());
    assert_eq!(entries[0]["display_name"], "Maria G.");
    assert_eq!(entries[0]["client_id"], "C1");
    assert_eq!(entries[0]["enrollment_id"], "E1");
    assert_eq!(entries[0]["source"], "api");
    assert!(entries[6]["client_id"].is_null());
    assert!(
        !batch.to_string().contains("Gonzalez"),
        "no last names in answers"
    );
    assert_eq!(batch["counts"]["ok"], 2);
    assert_eq!(batch["counts"]["flagged"], 6);

    // Post refused while flagged entries remain, with the entries.
    let (s, body) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["entries"].as_array().unwrap().len(), 6);

    // X one entry, then the rest of the flagged ones.
    let dup_id = entries[1]["id"].as_str().unwrap();
    assert_eq!(
        api.delete(&format!("/batches/{id}/entries/{dup_id}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, b) = api.get(&format!("/batches/{id}")).await;
    let removed = &b["entries"][1];
    assert_eq!(removed["removed"], true);
    assert_eq!(removed["removed_by"], "Maria");
    assert!(removed["removed_at"].is_string());
    let (s, body) = api
        .post(&format!("/batches/{id}/remove-flagged"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["removed"], 5);

    let (s, body) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"posted": 2}));

    // Posted is frozen.
    let (_, b) = api.get(&format!("/batches/{id}")).await;
    assert_eq!(b["state"], "posted");
    assert_eq!(b["posted_by"], "Maria");
    assert!(b["lane"].is_null(), "posting unbinds the lane");
    assert_eq!(
        api.post(
            &format!("/batches/{id}/entries"),
            json!({"client_id": "C6"})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.delete(&format!("/batches/{id}/entries/{dup_id}"))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.post(&format!("/batches/{id}/reload"), json!({}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.post(&format!("/batches/{id}/post"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.put("/lanes/main", json!({"batch_id": id})).await.0,
        StatusCode::CONFLICT
    );

    // The services exist with stable ids, and the station queued nothing for upstream "none".
    let (n, distinct): (i64, i64) = common::lib::with_conn(&st.app, |c| {
        c.query_row(
            "SELECT count(*), count(DISTINCT id) FROM services WHERE batch_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    })
    .unwrap();
    assert_eq!((n, distinct), (2, 2));

    let (s, list) = api.get("/batches?state=posted").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("entries").is_none());
    assert_eq!(api.get("/batches?state=open").await.1, json!([]));
    assert_eq!(
        api.get("/batches?state=nope").await.0,
        StatusCode::BAD_REQUEST
    );
    st.stop().await;
}

#[tokio::test]
async fn service_day_duplicates_cross_batches_but_not_services_or_scope_batch() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let a = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "name": "Lunch A"}))
        .await;
    let b = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "name": "Lunch B"}))
        .await;
    let beds = api
        .new_batch(json!({"project_id": "P1", "service_code": "200"}))
        .await;
    let add = |batch: String, client: &'static str| {
        let api = &api;
        async move {
            let (s, e) = api
                .post(
                    &format!("/batches/{batch}/entries"),
                    json!({"client_id": client}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{e}");
            e["verdict"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(add(a.clone(), "C1").await, "ok");
    assert_eq!(add(b.clone(), "C1").await, "duplicate");
    assert_eq!(
        add(beds.clone(), "C1").await,
        "ok",
        "another service the same day is fine"
    );
    // Reload keeps the first one ok and the later one flagged (order across batches).
    assert_eq!(
        verdicts(&api.post(&format!("/batches/{a}/reload"), json!({})).await.1),
        vec![("C1".into(), "ok".into())]
    );
    assert_eq!(
        verdicts(&api.post(&format!("/batches/{b}/reload"), json!({})).await.1),
        vec![("C1".into(), "duplicate".into())]
    );
    // Removing the first makes the second ok on reload: removed entries do not count.
    let (_, ba) = api.get(&format!("/batches/{a}")).await;
    let eid = ba["entries"][0]["id"].as_str().unwrap();
    api.delete(&format!("/batches/{a}/entries/{eid}")).await;
    assert_eq!(
        verdicts(&api.post(&format!("/batches/{b}/reload"), json!({})).await.1),
        vec![("C1".into(), "ok".into())]
    );
    // A manual entry by code goes through the barcode rules; source is recorded.
    let (_, e) = api
        .post(
            &format!("/batches/{b}/entries"),
            json!({"code": "C3\t", "source": "lost_card"}),
        )
        .await;
    assert_eq!(e["verdict"], "ok");
    assert_eq!(e["source"], "lost_card");
    st.stop().await;

    // With duplicate_scope = "batch" another batch does not count.
    let st = Station::start("[hmis]\nduplicate_scope = \"batch\"\n").await;
    let api = st.supervisor().await;
    let a = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let b = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    assert_eq!(add_client(&api, &a, "C1").await, "ok");
    assert_eq!(add_client(&api, &b, "C1").await, "ok");
    assert_eq!(add_client(&api, &b, "C1").await, "duplicate");
    st.stop().await;
}

async fn add_client(api: &common::Api, batch: &str, client: &str) -> String {
    let (s, e) = api
        .post(
            &format!("/batches/{batch}/entries"),
            json!({"client_id": client}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    e["verdict"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn bed_nights_need_the_date_before_the_exit() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    // C4 exited P1 on 2021-01-01; the fixture is years old, so use a delta that exits C6 today.
    let today = st.today();
    let delta = tempfile::tempdir().unwrap();
    for f in [
        "Export",
        "Organization",
        "Project",
        "Client",
        "Enrollment",
        "Exit",
    ] {
        std::fs::copy(
            fixture("station-delta").join(format!("{f}.csv")),
            delta.path().join(format!("{f}.csv")),
        )
        .unwrap();
    }
    let exit = std::fs::read_to_string(delta.path().join("Exit.csv")).unwrap();
    let header = exit.lines().next().unwrap();
    let row = exit
        .lines()
        .nth(1)
        .unwrap()
        .replace("X2,E4,C3,2021-06-01", &format!("X3,E5,C6,{today}"));
    std::fs::write(
        delta.path().join("Exit.csv"),
        format!("{header}\r\n{row}\r\n"),
    )
    .unwrap();
    std::fs::write(
        delta.path().join("Enrollment.csv"),
        format!(
            "{}\r\n",
            std::fs::read_to_string(delta.path().join("Enrollment.csv"))
                .unwrap()
                .lines()
                .next()
                .unwrap()
        ),
    )
    .unwrap();
    common::lib::import_app(&st.app, delta.path());

    let meals = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let beds = api
        .new_batch(json!({"project_id": "P1", "service_code": "200"}))
        .await;
    assert_eq!(
        add_client(&api, &meals, "C6").await,
        "ok",
        "exit on the service date still counts"
    );
    assert_eq!(
        add_client(&api, &beds, "C6").await,
        "no_open_enrollment",
        "no bed night on the exit date"
    );
    st.stop().await;
}

#[tokio::test]
async fn reload_after_a_new_import_recomputes_verdicts() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    assert_eq!(add_client(&api, &id, "C2").await, "no_open_enrollment");
    assert_eq!(add_client(&api, &id, "C3").await, "ok");
    // Delta import: C2 enrolled in P1, C3 exited.
    common::lib::import_app(&st.app, &fixture("station-delta"));
    let (s, b) = api.post(&format!("/batches/{id}/reload"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        verdicts(&b),
        vec![
            ("C2".into(), "ok".into()),
            ("C3".into(), "no_open_enrollment".into())
        ]
    );
    assert_eq!(b["entries"][0]["enrollment_id"], "E7");
    st.stop().await;
}

#[tokio::test]
async fn post_refusals_and_service_dates() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let today = common::lib::today(&st.app);
    let empty = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, body) = api.post(&format!("/batches/{empty}/post"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        body["error"].as_str().unwrap().contains("no ok entry"),
        "{body}"
    );
    // Only removed entries: still nothing to post.
    add_client(&api, &empty, "C1").await;
    api.post(&format!("/batches/{empty}/remove-flagged"), json!({}))
        .await;
    let (_, b) = api.get(&format!("/batches/{empty}")).await;
    let eid = b["entries"][0]["id"].as_str().unwrap();
    api.delete(&format!("/batches/{empty}/entries/{eid}")).await;
    assert_eq!(
        api.post(&format!("/batches/{empty}/post"), json!({}))
            .await
            .0,
        StatusCode::CONFLICT
    );

    let future = (today + chrono::Duration::days(1)).to_string();
    let (s, body) = api
        .post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484", "service_date": future}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("future"), "{body}");
    let old = (today - chrono::Duration::days(15)).to_string();
    assert_eq!(
        api.post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484", "service_date": old})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let oldest_ok = (today - chrono::Duration::days(14)).to_string();
    let (s, b) = api.post("/batches", json!({"project_id": "P1", "service_code": "484", "service_date": oldest_ok, "units": 2, "unit_value": "3.5"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["unit_value"], "3.50");
    assert_eq!(b["units"], 2.0);
    for bad in [
        json!({"project_id": "NOPE", "service_code": "484"}),
        json!({"project_id": "P1", "service_code": "999"}),
        json!({"project_id": "P1", "service_code": "484", "service_date": "yesterday"}),
        json!({"project_id": "P1", "service_code": "484", "unit_value": "-1"}),
        json!({"project_id": "P1", "service_code": "484", "units": 0}),
        json!({"project_id": "P1", "service_code": "484", "lane": "no spaces"}),
        json!({"project_id": "P1"}),
        json!({"project_id": "P1", "service_code": "484", "colour": "red"}),
    ] {
        let (s, body) = api.post("/batches", bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    st.stop().await;
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let raw = common::http()
        .post(format!("{}/lanes/main/scans", st.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let body: Value = raw.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    assert_eq!(
        api.get("/batches/does-not-exist").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post("/batches/does-not-exist/post", json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post("/batches/does-not-exist/entries", json!({"code": "C1"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get("/no/such/route").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        api.post("/lanes/bad%20lane/scans", json!({"code": "C1"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.put("/lanes/main", json!({"batch_id": "nope"})).await.0,
        StatusCode::NOT_FOUND
    );
    let huge = "9".repeat(5000);
    assert_eq!(
        api.post("/lanes/main/scans", json!({"code": huge})).await.0,
        StatusCode::BAD_REQUEST
    );
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, _) = api
        .post(
            &format!("/batches/{id}/entries"),
            json!({"code": "C1", "client_id": "C1"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.delete(&format!("/batches/{id}/entries/nope")).await.0,
        StatusCode::NOT_FOUND
    );
    // Nothing above broke the station.
    assert_eq!(add_client(&api, &id, "C1").await, "ok");
    st.stop().await;
}

#[tokio::test]
async fn unassigned_scans_are_kept_and_can_be_moved_or_dismissed() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let scanner = st.client();
    assert_eq!(
        scanner
            .post("/lanes/door2/scans", json!({"code": "C1"}))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        scanner
            .post("/lanes/door2/scans", json!({"code": "C3"}))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let (_, list) = api.get("/scans/unassigned").await;
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["lane"], "door2");
    assert_eq!(list[0]["code"], "C1");
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, e) = api
        .post(
            &format!("/batches/{id}/entries"),
            json!({"scan_id": list[0]["scan_id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["verdict"], "ok");
    assert_eq!(e["source"], "api");
    assert_eq!(
        e["scanned_at"], list[0]["scanned_at"],
        "keeps the time of the scan"
    );
    // Moving it twice is refused; dismissing the other empties the list.
    assert_eq!(
        api.post(
            &format!("/batches/{id}/entries"),
            json!({"scan_id": list[0]["scan_id"]})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let sid = list[1]["scan_id"].as_i64().unwrap();
    assert_eq!(
        api.delete(&format!("/scans/unassigned/{sid}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.get("/scans/unassigned").await.1, json!([]));
    // Binding the lane makes its next scans go to the batch.
    assert_eq!(
        api.put("/lanes/door2", json!({"batch_id": id})).await.0,
        StatusCode::OK
    );
    let (s, e) = scanner
        .post("/lanes/door2/scans", json!({"code": "C3"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(e["served"], 2);
    let (_, lanes) = api.get("/lanes").await;
    assert!(lanes
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["lane"] == "door2" && l["batch_id"] == json!(id)));
    let (_, screen) = scanner.get("/lanes/door2").await;
    assert_eq!(screen["batch"]["served"], 2);
    assert_eq!(
        api.put("/lanes/door2", json!({"batch_id": null})).await.0,
        StatusCode::OK
    );
    assert!(scanner.get("/lanes/door2").await.1["batch"].is_null());
    // The scan log kept every lane scan: two unassigned, one after binding.
    let n: i64 = common::lib::with_conn(&st.app, |c| {
        c.query_row(
            "SELECT count(*) FROM scan_log WHERE lane = 'door2'",
            [],
            |r| r.get(0),
        )
    })
    .unwrap();
    assert_eq!(n, 3);
    st.stop().await;
}

#[tokio::test]
async fn client_lookup_and_roster_show_first_name_and_initial_only() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| h["display_name"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, hits) = api.get("/clients?q=mar%20gon").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(names(&hits), vec!["Maria G."]);
    assert_eq!(
        names(&api.get("/clients?q=MAR").await.1),
        vec!["Marco G.", "Maria G."]
    );
    assert_eq!(
        names(&api.get("/clients?q=mar&dob=1985-05-05").await.1),
        vec!["Marco G."]
    );
    assert_eq!(
        api.get("/clients?q=C3").await.1,
        json!([{"client_id": "C3", "display_name": "Ana L."}])
    );
    assert_eq!(
        api.get("/clients?q=%25").await.1,
        json!([]),
        "LIKE wildcards are literal"
    );
    assert_eq!(
        api.get("/clients?q=Gone").await.1,
        json!([]),
        "deleted clients are gone"
    );
    assert_eq!(api.get("/clients?q=").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.get("/clients?q=a&dob=31/01/1990").await.0,
        StatusCode::BAD_REQUEST
    );

    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    add_client(&api, &id, "C3").await;
    let (_, roster) = api.get(&format!("/batches/{id}/roster")).await;
    // Open in P1 today: C1, C3, C6 (C4 exited, C2 is in P2 only).
    let rows: Vec<(String, bool)> = roster
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["client_id"].as_str().unwrap().to_string(),
                r["in_batch"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("C3".into(), true),
            ("C6".into(), false),
            ("C1".into(), false)
        ]
    );
    assert!(!roster.to_string().contains("Gonzalez") && !roster.to_string().contains("1980"));
    st.stop().await;
}

#[tokio::test]
async fn scan_events_carry_the_entry_with_the_display_name() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    api.new_batch(json!({"project_id": "P1", "service_code": "484", "lane": "main"}))
        .await;
    let resp = common::http()
        .get(format!("{}/events", st.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let data = scan_event_after(resp, &st, "C1").await;
    assert_eq!(data["lane"], "main");
    assert_eq!(data["entry"]["display_name"], "Maria G.");
    assert_eq!(data["entry"]["verdict"], "ok");
    assert_eq!(data["batch"]["served"], 1);
    assert!(!data.to_string().contains("Gonzalez"));
    // The public stream carries no client ID, raw code or enrollment.
    for private in ["client_id", "code", "enrollment_id"] {
        assert!(data["entry"].get(private).is_none(), "{private} in {data}");
    }
    assert!(data["entry"]["id"].is_string());
    // Shutdown ends the live stream instead of hanging on it.
    st.stop().await;
}

/// The first `scan` event's data on an event stream opened with `cookie` (None: public).
async fn first_scan_event(st: &Station, cookie: Option<&str>, code: &str) -> Value {
    let mut req = common::http().get(format!("{}/events", st.base));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    scan_event_after(req.send().await.unwrap(), st, code).await
}

/// On the event stream `body`: wait for `hello` (the subscription is then live), scan `code` on
/// lane `main`, and return the data of the first `scan` event.
async fn scan_event_after(mut body: reqwest::Response, st: &Station, code: &str) -> Value {
    let mut text = String::new();
    while !text.contains("event: hello") {
        text.push_str(&String::from_utf8_lossy(
            &body.chunk().await.unwrap().unwrap(),
        ));
    }
    st.client()
        .post("/lanes/main/scans", json!({ "code": code }))
        .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            text.push_str(&String::from_utf8_lossy(
                &body.chunk().await.unwrap().unwrap(),
            ));
            if let Some(i) = text.find("event: scan\n") {
                let rest = &text[i..];
                if let Some(end) = rest.find("\n\n") {
                    let line = rest[..end]
                        .lines()
                        .find(|l| l.starts_with("data: "))
                        .unwrap();
                    return serde_json::from_str::<Value>(&line[6..]).unwrap();
                }
            }
        }
    })
    .await
    .expect("scan event within 10 s")
}

#[tokio::test]
async fn a_supervisor_stream_gets_the_client_id_the_public_one_does_not() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    api.new_batch(json!({"project_id": "P1", "service_code": "484", "lane": "main"}))
        .await;
    let cookie = api.cookie.clone().expect("a session cookie");
    let private = first_scan_event(&st, Some(&cookie), "C1").await;
    assert_eq!(private["entry"]["client_id"], "C1", "{private}");
    assert_eq!(private["entry"]["code"], "C1");
    let public = first_scan_event(&st, None, "C1").await;
    assert!(public["entry"].get("client_id").is_none(), "{public}");
    assert_eq!(
        public["entry"]["display_name"],
        private["entry"]["display_name"]
    );
    st.stop().await;
}

#[tokio::test]
async fn status_reports_data_counts_and_outbox() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let (s, status) = api.get("/status").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["station_id"], "test-1");
    assert_eq!(status["data"]["clients"], 5);
    assert_eq!(status["data"]["enrollments"], 5);
    assert_eq!(status["data"]["projects"], 2);
    assert!(status["data"]["imported_at"].is_string());
    assert_eq!(status["outbox"]["queued"], 0);
    assert!(status["scanners"].is_array());
    st.stop().await;
}

#[tokio::test]
async fn kiosk_answers_lane_defaults_allowed_dates_served_today_and_open_streams() {
    let st = Station::start("[hmis]\nmax_backdate_days = 2\n").await;
    let api = st.supervisor().await;
    // The session says the station's zone, today and the dates a new batch may have.
    let session = api.get_ok("/session").await;
    assert_eq!(session["timezone"], "America/Chicago");
    assert_eq!(session["today"], st.today());
    let today = chrono::NaiveDate::parse_from_str(&st.today(), "%Y-%m-%d").unwrap();
    let earliest = (today - chrono::Duration::days(2)).to_string();
    let dates = json!({"earliest": earliest, "latest": st.today()});
    assert_eq!(session["service_dates"], dates);
    assert_eq!(api.get_ok("/status").await["service_dates"], dates);
    // The oldest allowed date is taken, the day before is refused: the range is the server's.
    let (s, _) = api
        .post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484", "service_date": earliest}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let too_old = (today - chrono::Duration::days(3)).to_string();
    let (s, body) = api
        .post(
            "/batches",
            json!({"project_id": "P1", "service_code": "484", "service_date": too_old}),
        )
        .await;
    assert_eq!(
        (s, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("date_too_old"))
    );

    // A lane remembers the project and service of the batch it was last given.
    let lane_defaults = |lanes: &Value, lane: &str| {
        lanes
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lane"] == lane)
            .map(|l| l["defaults"].clone())
    };
    assert_eq!(
        lane_defaults(&api.get_ok("/lanes").await, "main"),
        Some(Value::Null)
    );
    let first = api
        .new_batch(json!({"project_id": "P2", "service_code": "200", "lane": "main"}))
        .await;
    assert_eq!(
        lane_defaults(&api.get_ok("/lanes").await, "main"),
        Some(json!({"project_id": "P2", "service_code": "200"}))
    );
    let meals = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, _) = api.put("/lanes/door", json!({"batch_id": meals})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        lane_defaults(&api.get_ok("/lanes").await, "door"),
        Some(json!({"project_id": "P1", "service_code": "484"}))
    );

    // Served today: an ok entry for the same service and date in any batch, open or posted.
    api.scan("door", "C1").await;
    let (s, _) = api.post(&format!("/batches/{meals}/post"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let next = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let served = api.roster_served(&next).await;
    assert!(served.contains(&("C1".into(), true)), "{served:?}");
    assert!(
        served.iter().filter(|(id, _)| id != "C1").all(|(_, s)| !s),
        "{served:?}"
    );
    let hits = api.get_ok(&format!("/clients?q=maria&batch={next}")).await;
    assert_eq!(
        hits,
        json!([{"client_id": "C1", "display_name": "Maria G.", "served_today": true}])
    );
    // Another service that day is not served yet; without a batch the field is left out.
    let beds = api.get_ok(&format!("/clients?q=maria&batch={first}")).await;
    assert_eq!(beds[0]["served_today"], false);
    assert!(api.get_ok("/clients?q=maria").await[0]
        .get("served_today")
        .is_none());
    let (s, body) = api.get("/clients?q=maria&batch=nope").await;
    assert_eq!(
        (s, &body["code"]),
        (StatusCode::NOT_FOUND, &json!("unknown_batch"))
    );

    // Unassigned scans carry the display name when the card names a known client.
    api.scan("side", "C2").await;
    api.scan("side", "NOBODY").await;
    let list = api.get_ok("/scans/unassigned").await;
    let names: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["display_name"])
        .collect();
    assert_eq!(names, vec![&json!("John S."), &Value::Null]);

    // /status counts the open event streams.
    let before = event_clients(&api).await;
    let mut stream = common::http()
        .get(format!("{}/events", st.base))
        .send()
        .await
        .unwrap();
    let _hello = stream.chunk().await.unwrap();
    assert_eq!(event_clients(&api).await, before + 1);
    drop(stream);
    let api = &api;
    common::eventually(
        Duration::from_secs(10),
        "the closed stream uncounted",
        || async move { (event_clients(api).await == before).then_some(()) },
    )
    .await;
    st.stop().await;
}

async fn event_clients(api: &common::Api) -> u64 {
    api.get_ok("/status").await["event_clients"]
        .as_u64()
        .unwrap()
}
