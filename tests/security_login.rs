//! PIN guessing (issue 13): parallel guesses against the real server are checked one at a time
//! and gain nothing; the wait after repeated wrong PINs is short and tells the user; the right
//! PIN starts the count again.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use common::lib::{delay_after, FREE_TRIES};
use common::{eventually, Station, PIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_wrong_pins_get_no_more_checks_than_one_at_a_time() {
    let st = Station::start("").await;
    let url = format!("{}/session", st.base);
    let started = std::time::Instant::now();
    let attempts: Vec<_> = (0..100)
        .map(|i| {
            let (http, url) = (common::http(), url.clone());
            tokio::spawn(async move {
                let resp = http
                    .post(url)
                    .json(&json!({ "pin": format!("{:04}", 9000 + i) }))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                let at = std::time::Instant::now();
                (status, resp.json::<serde_json::Value>().await.unwrap(), at)
            })
        })
        .collect();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut tries_left = Vec::new();
    let mut last_check = started;
    for a in attempts {
        let (status, body, at) = a.await.unwrap();
        if status == StatusCode::UNAUTHORIZED {
            last_check = last_check.max(at);
        }
        *by_status.entry(status.as_u16()).or_default() += 1;
        match status {
            StatusCode::UNAUTHORIZED => {
                assert_eq!(body["code"], "wrong_pin", "{body}");
                tries_left.push(body["tries_left"].as_u64().unwrap());
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "login_delayed", "{body}");
                assert!(body["retry_after_seconds"].as_u64().unwrap() >= 1, "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let elapsed = started.elapsed();
    // What guesses one after another would get in that time: five checks, then one more per
    // wait that ran out (2 s, 4 s, ...), and a 429 for every other request.
    let mut allowed = FREE_TRIES;
    let mut waited = Duration::ZERO;
    while waited + delay_after(allowed) <= elapsed {
        waited += delay_after(allowed);
        allowed += 1;
    }
    let throttle = st.throttle();
    let checks = throttle.checks();
    eprintln!("100 parallel wrong PINs in {elapsed:?}: {checks} PIN checks, {by_status:?}");
    assert!(
        (5..=u64::from(allowed)).contains(&checks),
        "{checks} checks in {elapsed:?}"
    );
    assert_eq!(by_status[&401] as u64, checks, "{by_status:?}");
    assert_eq!(by_status[&401] + by_status[&429], 100, "{by_status:?}");
    tries_left.sort();
    assert_eq!(tries_left[tries_left.len() - 5..], [0, 1, 2, 3, 4]);
    assert!(tries_left[..tries_left.len() - 5].iter().all(|&t| t == 0));
    assert_eq!(throttle.max_in_flight(), 1, "PIN checks never overlap");

    // During the wait even the right PIN is not checked. (The wait runs from the last check; on
    // a machine so loaded that it is over before the next request leaves, there is no wait
    // left to test, and the right PIN is let through, as it should be.)
    let mut api = st.client();
    let sent = std::time::Instant::now();
    let (s, body) = api.login(PIN).await;
    if sent.duration_since(last_check) < delay_after(checks as u32) {
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(throttle.checks(), checks);
    } else {
        eprintln!("the wait was over before the right PIN was sent: {s}");
    }
    st.stop().await;
}

#[tokio::test]
async fn the_wait_is_short_and_the_right_pin_starts_the_count_again() {
    let st = Station::start("").await;
    let mut api = st.client();
    for left in (0..5).rev() {
        let (s, body) = api.login("0000").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["tries_left"], left, "{body}");
    }
    let resp = common::http()
        .post(format!("{}/session", st.base))
        .json(&json!({ "pin": PIN }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, 2, "the first wait is 2 s");
    // The wait is a time: the right PIN goes through once it has run (2 s).
    eventually(Duration::from_secs(10), "the wait to end", || {
        let mut api = st.client();
        async move { (api.login(PIN).await.0 == StatusCode::OK).then_some(()) }
    })
    .await;
    // A right PIN forgets the wrong ones: five free tries again.
    let (s, body) = api.login("0000").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["tries_left"], 4, "{body}");
    st.stop().await;
}

#[tokio::test]
async fn an_oversized_pin_body_is_refused_unread() {
    let st = Station::start("").await;
    let resp = common::http()
        .post(format!("{}/session", st.base))
        .header("content-type", "application/json")
        .body(format!("{{\"pin\": \"{}\"}}", "1".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(st.throttle().checks(), 0);
    st.stop().await;
}
