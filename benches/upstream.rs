//! Delivery throughput: 10,000 posted services through the outbox worker to a local HTTPS
//! receiver, against a bare reqwest loop sending the same payloads to the same receiver.
//! `cargo bench --bench upstream`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::upstream::*;
use scanstation::store::outbox;
use scanstation::upstream::{http, tls};

const SERVICES: usize = 10_000;

fn main() {
    for batch_size in [100usize, 10] {
        run(batch_size);
    }
}

fn run(batch_size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("bench CA");
    let receiver = Receiver::start(&ca);
    let ca_pem = ca.write_pem(dir.path());
    let up = http_upstream(
        dir.path(),
        &receiver.url(),
        &ca_pem,
        &format!("batch_size = {batch_size}"),
    );
    let settings = settings(dir.path(), &up, "");
    let app = app(settings.clone());
    // The worker is started first (its client setup, system roots included, is not timed here but
    // below), then the posts arrive: 10,000 services as 100 posted batches of 100.
    let worker = Running::start(app.clone(), quick_backoff());
    let deliveries_before = receiver.requests().len();
    assert_eq!(deliveries_before, 0);
    app.store.with(|c| {
        let tx = c.transaction().unwrap();
        for b in 0..SERVICES / 100 {
            post_batch(
                &tx,
                &format!("B{b:04}"),
                100,
                batch_size,
                "http-json",
                "484",
                "2024-05-01",
            );
        }
        tx.commit().unwrap();
    });
    // The bodies the worker will send, built up front for the bare loop.
    let deliveries = app
        .store
        .with(|c| outbox::list(c, None, None, 1_000_000).unwrap());
    let bodies: Vec<(String, Vec<u8>)> = app.store.with(|c| {
        deliveries
            .iter()
            .rev()
            .map(|d| {
                let services = outbox::services(c, &d.service_ids).unwrap().unwrap();
                (
                    d.idempotency_key.clone(),
                    http::body_json("test-station", d, &services),
                )
            })
            .collect()
    });

    // 1. The outbox worker (reads the rows, sends, records each result durably).
    let start = Instant::now();
    worker.notify();
    // Watched through a second connection (WAL: it does not hold up the worker's writes).
    let watch = db(&settings);
    wait_until("all delivered", Duration::from_secs(600), || {
        watch
            .query_row(
                "SELECT count(*) FROM outbox WHERE state != 'delivered'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 0
    });
    let worker_time = start.elapsed();
    drop(worker);
    let worker_requests = receiver.requests().len();

    // 2. A bare reqwest loop: same client setup, same bodies, same receiver, nothing recorded.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let setup = Instant::now();
    let client = tls::http_client(
        &receiver.url(),
        Some(ca_pem.as_path()),
        tls::Timeouts {
            connect: Duration::from_secs(10),
            request: Some(Duration::from_secs(30)),
            read: None,
        },
    )
    .unwrap();
    let setup_time = setup.elapsed();
    let url = http::services_url(&receiver.url());
    let start = Instant::now();
    rt.block_on(async {
        for (key, body) in &bodies {
            let r = client
                .post(&url)
                .bearer_auth("s3cret-token")
                .header("Idempotency-Key", key)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap();
        }
    });
    let bare_time = start.elapsed();
    let bare_requests = receiver.requests().len() - worker_requests;

    let per_s = |t: Duration| SERVICES as f64 / t.as_secs_f64();
    println!("upstream delivery, {SERVICES} services, batch_size {batch_size}:");
    println!(
        "  outbox worker: {worker_requests:5} requests in {:8.1} ms = {:9.0} services/s",
        worker_time.as_secs_f64() * 1000.0,
        per_s(worker_time)
    );
    println!(
        "  bare reqwest:  {bare_requests:5} requests in {:8.1} ms = {:9.0} services/s",
        bare_time.as_secs_f64() * 1000.0,
        per_s(bare_time)
    );
    println!(
        "  (client setup, system roots + CA file, once per daemon start: {:.1} ms)",
        setup_time.as_secs_f64() * 1000.0
    );
    println!(
        "  worker / bare time: {:.2}x",
        worker_time.as_secs_f64() / bare_time.as_secs_f64()
    );
}
