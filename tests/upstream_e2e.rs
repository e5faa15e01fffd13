//! End to end through the HTTP API: a supervisor posts a batch, the worker delivers it to a real
//! HTTPS receiver; a refused delivery is parked, listed and retried through the API.

mod common;

use std::time::Duration;

use common::upstream::{Action, Receiver, TestCa};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

async fn post_meals(api: &common::Api, today: &str) -> String {
    let batch = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "service_date": today}))
        .await;
    for c in ["C1", "C3", "C6"] {
        let (s, e) = api
            .post(
                &format!("/batches/{batch}/entries"),
                json!({"client_id": c}),
            )
            .await;
        assert_eq!(s, 201, "{e}");
        assert_eq!(e["verdict"], "ok", "{e}");
    }
    let (s, r) = api.post(&format!("/batches/{batch}/post"), json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["posted"], 3);
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_batch_reaches_the_hmis_and_a_refusal_can_be_retried() {
    let ca = TestCa::new("e2e CA");
    let receiver = Receiver::start(&ca);
    let keep = tempfile::tempdir().unwrap();
    let ca_pem = ca.write_pem(keep.path());
    let token = keep.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let station = common::Station::start(&format!(
        "[upstream]\nkind = \"http-json\"\nurl = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\nbatch_size = 2\n",
        receiver.url(),
        token.display(),
        ca_pem.display()
    ))
    .await;
    let api = station.supervisor().await;
    let today = station.today();

    // 1. Delivered: two requests (batch_size 2), every service once, the batch says delivered.
    let batch = post_meals(&api, &today).await;
    let b = common::eventually(WAIT, "the batch delivered", || async {
        let (_, b) = api.get(&format!("/batches/{batch}")).await;
        (b["delivery"]["state"] == "delivered").then_some(b)
    })
    .await;
    assert_eq!(b["delivery"]["services"], 3);
    let reqs = receiver.requests();
    assert_eq!(reqs.len(), 2);
    let mut ids: Vec<String> = reqs.iter().flat_map(|r| r.service_ids()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(reqs
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer tok-123")));
    assert!(reqs.iter().all(|r| r.json()["batch_id"] == batch.as_str()));

    // 2. Refused (400): parked, visible in /status and /deliveries; the retry resends it.
    receiver.script([
        Action::status(422).body("{\"error\": \"enrollment closed\"}"),
        Action::status(200),
    ]);
    // Another day: the same clients on the same day would be duplicates.
    let yesterday = (common::lib::today(&station.app) - chrono::Duration::days(1)).to_string();
    let batch2 = post_meals(&api, &yesterday).await;
    common::eventually(WAIT, "a parked delivery", || async {
        let (_, b) = api.get(&format!("/batches/{batch2}")).await;
        (b["delivery"]["state"] == "failed").then_some(())
    })
    .await;
    let (s, st) = api.get("/status").await;
    assert_eq!(s, 200);
    assert_eq!(st["outbox"]["failed"], 1, "{st}");
    assert!(st["outbox"]["last_error"]
        .as_str()
        .unwrap()
        .contains("enrollment closed"));
    let (s, list) = api.get("/deliveries?state=failed").await;
    assert_eq!(s, 200, "{list}");
    let parked = list["deliveries"].as_array().unwrap();
    assert_eq!(parked.len(), 1);
    let id = parked[0]["id"].as_i64().unwrap();
    let key = parked[0]["idempotency_key"].as_str().unwrap().to_string();

    // Without a session: refused.
    let (s, _) = station
        .client()
        .post(&format!("/deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/deliveries?state=lost").await;
    assert_eq!(s, 400);

    let (s, r) = api
        .post(&format!("/batches/{batch2}/retry-delivery"), json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["requeued"], 1);
    common::eventually(WAIT, "the retried batch delivered", || async {
        let (_, b) = api.get(&format!("/batches/{batch2}")).await;
        (b["delivery"]["state"] == "delivered").then_some(())
    })
    .await;
    let same_key: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.header("idempotency-key") == Some(key.as_str()))
        .collect();
    assert_eq!(same_key.len(), 2, "the refused request and its retry");
    assert_eq!(same_key[0].service_ids(), same_key[1].service_ids());
    let (s, _) = api
        .post(&format!("/deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 409, "already delivered");
    let (s, _) = api.post("/deliveries/999999/retry", json!({})).await;
    assert_eq!(s, 404);
    station.stop().await;
}
