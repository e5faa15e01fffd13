//! kill -9 of the real daemon while a delivery is in flight: after a restart every posted service
//! arrives, and the repeated delivery carries the same Idempotency-Key and the same service ids.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::bin::Daemon;
use common::upstream::{wait_until, Action, Receiver, TestCa};
use common::StationConfig;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn healthy(rt: &tokio::runtime::Runtime, base: &str) {
    let http = common::http();
    wait_until("the daemon answers /healthz", WAIT, || {
        rt.block_on(async { http.get(format!("{base}/healthz")).send().await.is_ok() })
    });
}

#[test]
fn kill_9_during_a_delivery_loses_nothing_and_repeats_with_the_same_key() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("kill CA");
    let receiver = Receiver::start(&ca);
    // The HMIS takes the request and never answers: the delivery is in flight when we kill.
    receiver.set_default(Action::Hold);
    let ca_pem = ca.write_pem(dir.path());
    let token = dir.path().join("token");
    std::fs::write(&token, "tok\n").unwrap();
    let config = StationConfig::new(dir.path())
        .upstream(&format!(
            "kind = \"http-json\"\nurl = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\n\
             batch_size = 2\nrequest_timeout_seconds = 120\n",
            receiver.url(),
            token.display(),
            ca_pem.display()
        ))
        .write();

    let status = common::bin::import(&config, &common::fixture("station"));
    assert!(status.status.success(), "{status:?}");

    let mut daemon = Daemon::serve(&config);
    let base = daemon.base();
    healthy(&rt, &base);

    // Post 3 services: two deliveries (batch_size 2).
    let batch = rt.block_on(async {
        let mut api = common::Api::new(&base);
        let (s, _) = api.login(common::PIN).await;
        assert_eq!(s, 200);
        let batch = api
            .new_batch(json!({"project_id": "P1", "service_code": "484",
                              "service_date": chrono::Utc::now()
                                  .with_timezone(&chrono_tz::America::Chicago)
                                  .date_naive().to_string()}))
            .await;
        for c in ["C1", "C3", "C6"] {
            let (s, e) = api
                .post(
                    &format!("/batches/{batch}/entries"),
                    json!({"client_id": c}),
                )
                .await;
            assert_eq!(s, 201, "{e}");
        }
        let (s, r) = api.post(&format!("/batches/{batch}/post"), json!({})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["posted"], 3);
        batch
    });

    // The first delivery is held open by the receiver: kill -9 now.
    receiver.wait_for("a delivery in flight", WAIT, |r| !r.is_empty());
    daemon.kill(); // SIGKILL
    let in_flight = receiver.requests()[0].clone();
    let in_flight_key = in_flight.header("idempotency-key").unwrap().to_string();

    // Restart with a healthy HMIS.
    receiver.set_default(Action::status(200));
    // It comes back on a new port (web.listen is 127.0.0.1:0).
    let mut daemon = Daemon::serve(&config);
    healthy(&rt, &daemon.base());
    let db = common::lib::db_at(&dir.path().join("station.db"));
    wait_until("every delivery delivered after the restart", WAIT, || {
        db.query_row(
            "SELECT count(*) FROM outbox WHERE state != 'delivered'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 0
    });
    daemon.kill();

    let posted: BTreeSet<String> = db
        .prepare("SELECT id FROM services WHERE batch_id = ?1")
        .unwrap()
        .query_map([&batch], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(posted.len(), 3);
    let reqs = receiver.requests();
    let mut by_key: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for r in reqs.iter().filter(|r| r.complete) {
        by_key
            .entry(r.header("idempotency-key").unwrap().to_string())
            .or_default()
            .push(r.service_ids());
    }
    // Every repeat of a key carries exactly the same services.
    for (key, sends) in &by_key {
        assert!(sends.windows(2).all(|w| w[0] == w[1]), "{key}: {sends:?}");
    }
    // The delivery cut short was sent again with the same key and ids.
    let again = &by_key[&in_flight_key];
    assert!(again.len() >= 2, "the in-flight delivery was sent again");
    assert_eq!(again[0], in_flight.service_ids());
    // Every posted service arrived, each under exactly one key.
    let mut arrived = BTreeSet::new();
    for sends in by_key.values() {
        for id in &sends[0] {
            assert!(arrived.insert(id.clone()), "service {id} under two keys");
        }
    }
    assert_eq!(arrived, posted);
    assert_eq!(by_key.len(), 2, "two deliveries");
}
