//! Error answers: every one is `{"error": <sentence>, "code": <stable code>}`, a known path with
//! the wrong method is a JSON 405, and an internal failure (a damaged stored value) answers a
//! generic sentence while the detail goes to the log, never a quiet default.

mod common;

use common::Station;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("(none)")
}

#[tokio::test]
async fn every_error_answer_has_a_stable_code() {
    let st = Station::start("").await;
    let anon = st.client();
    let (s, b) = anon.get("/batches").await;
    assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "login_required"));
    let mut wrong = st.client();
    let (s, b) = wrong.login("0000").await;
    assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "wrong_pin"));

    let api = st.supervisor().await;
    let cases = [
        (
            api.get("/batches/nope").await,
            StatusCode::NOT_FOUND,
            "unknown_batch",
        ),
        (
            api.get("/no/such/route").await,
            StatusCode::NOT_FOUND,
            "no_route",
        ),
        (
            api.post(
                "/batches",
                json!({"project_id": "NOPE", "service_code": "484"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "unknown_project",
        ),
        (
            api.post(
                "/batches",
                json!({"project_id": "P1", "service_code": "999"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "unknown_service",
        ),
        (
            api.post(
                "/batches",
                json!({"project_id": "P1", "service_code": "484", "service_date": "2999-01-01"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "date_in_future",
        ),
        (
            api.post("/lanes/bad%20lane/scans", json!({"code": "C1"}))
                .await,
            StatusCode::BAD_REQUEST,
            "bad_lane",
        ),
        (
            api.get("/deliveries/77").await,
            StatusCode::NOT_FOUND,
            "unknown_delivery",
        ),
        (
            api.delete("/scans/unassigned/12345").await,
            StatusCode::NOT_FOUND,
            "unknown_scan",
        ),
    ];
    for ((s, b), want_status, want_code) in cases {
        assert_eq!((s, code(&b)), (want_status, want_code), "{b}");
        assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "{b}");
    }
    let raw = common::http()
        .post(format!("{}/lanes/main/scans", st.base))
        .header("content-type", "text/plain")
        .body(r#"{"code": "C1"}"#)
        .send()
        .await
        .unwrap();
    // The cross-site guard answers this before the JSON extractor would (a form a cross-site
    // page could send): 415, the same code.
    assert_eq!(raw.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(code(&raw.json().await.unwrap()), "json_required");

    // A batch with a flagged entry: the refused post names the code and lists the entries.
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, e) = api
        .post(
            &format!("/batches/{id}/entries"),
            json!({"client_id": "NOBODY"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, b) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "flagged_entries"));
    assert_eq!(b["entries"][0]["verdict"], "unknown_client", "{b}");
    api.post(&format!("/batches/{id}/remove-flagged"), json!({}))
        .await;
    let (s, b) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "nothing_to_post"));
    api.post(
        &format!("/batches/{id}/entries"),
        json!({"client_id": "C1"}),
    )
    .await;
    let (s, b) = api.post(&format!("/batches/{id}/post"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = api.post(&format!("/batches/{id}/reload"), json!({})).await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "batch_posted"));
    let (s, b) = api.put("/lanes/main", json!({"batch_id": id})).await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "batch_posted"));
    st.stop().await;
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_a_json_405() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    for (method, path) in [
        (reqwest::Method::DELETE, "/batches"),
        (reqwest::Method::GET, "/lanes/main/scans"),
        (reqwest::Method::PUT, "/healthz"),
        (reqwest::Method::PATCH, "/session"),
    ] {
        let (s, b) = api.send(method.clone(), path, None).await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {b}");
        assert_eq!(code(&b), "method_not_allowed", "{method} {path}: {b}");
    }
    st.stop().await;
}

#[tokio::test]
async fn a_damaged_stored_value_is_an_internal_error_not_a_default() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let ok = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "name": "Fine"}))
        .await;
    let (s, _) = api.put("/lanes/main", json!({"batch_id": id})).await;
    assert_eq!(s, StatusCode::OK);
    // Another process damages the file (a bad date, an unknown state).
    let conn = common::lib::db(&st.app);
    conn.execute(
        "UPDATE batches SET service_date = 'not-a-date' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    let (s, b) = api.get(&format!("/batches/{id}")).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    let text = b["error"].as_str().unwrap();
    assert!(
        !text.contains("not-a-date") && !text.contains("service_date"),
        "no stored detail reaches the client: {text}"
    );
    // A scan on it is refused too (not judged against 1970-01-01).
    let (s, b) = api.post("/lanes/main/scans", json!({"code": "C1"})).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    // A damaged exit date: the client's scan is refused, not judged as if there were no exit.
    // (Batch states, verdicts and delivery states are guarded by CHECK constraints.)
    let (s, _) = api.put("/lanes/main", json!({"batch_id": ok})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = api.post("/lanes/main/scans", json!({"code": "C1"})).await;
    assert_eq!(
        (s, b["verdict"].as_str()),
        (StatusCode::CREATED, Some("ok")),
        "{b}"
    );
    let n = common::lib::snapshot_db(&st.app)
        .execute(
            "UPDATE exits SET exit_date = '31/31/2031'
              WHERE enrollment_id IN (SELECT enrollment_id FROM enrollments WHERE personal_id = 'C4')",
            [],
        )
        .unwrap();
    assert!(n > 0, "the fixture's C4 has an exit");
    let (s, b) = api.post("/lanes/main/scans", json!({"code": "C4"})).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    st.stop().await;
}

#[tokio::test]
async fn the_batch_list_shows_counts_lanes_and_delivery_of_each() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let mut ids = Vec::new();
    for (i, lane) in ["a", "b", "c"].iter().enumerate() {
        let id = api
            .new_batch(json!({"project_id": "P1", "service_code": "484", "lane": lane, "name": format!("B{i}")}))
            .await;
        for _ in 0..=i {
            api.post(&format!("/lanes/{lane}/scans"), json!({"code": "C1"}))
                .await;
        }
        ids.push(id);
    }
    let (s, list) = api.get("/batches?state=open").await;
    assert_eq!(s, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for (i, id) in ids.iter().enumerate() {
        let b = list.iter().find(|b| b["id"] == id.as_str()).unwrap();
        let (_, one) = api.get(&format!("/batches/{id}")).await;
        for key in [
            "counts",
            "lane",
            "name",
            "state",
            "service_name",
            "delivery",
        ] {
            assert_eq!(b[key], one[key], "{key} of batch {i}");
        }
        assert_eq!(b["counts"]["total"], i as i64 + 1);
        assert!(b.get("entries").is_none(), "the list carries no entries");
    }
    st.stop().await;
}
