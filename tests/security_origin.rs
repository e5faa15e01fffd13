//! Cross-site requests (issue 13): every state-changing route, sent with the supervisor's cookie
//! from another site (foreign `Origin`, another port of this host, `Sec-Fetch-Site: cross-site`)
//! or as `text/plain` (what a cross-site form can send), is refused and changes nothing; the same
//! request from the station's own page goes through. Every answer carries the security headers.

mod common;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use common::{Api, Station};

/// Request headers, as name and value.
type Headers<'a> = &'a [(&'a str, &'a str)];
/// A way of sending a request, and the answer it must get: status and error code.
type Case<'a> = (Headers<'a>, StatusCode, &'static str);

/// Everything a state-changing request could have changed, as the API shows it.
async fn snapshot(api: &Api, batch: &str) -> Value {
    let mut all = json!({});
    for path in [
        format!("/batches/{batch}"),
        "/batches".to_string(),
        "/scans/unassigned".to_string(),
        "/lanes".to_string(),
        "/deliveries".to_string(),
        "/session".to_string(),
    ] {
        let (s, body) = api.get(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        all[path] = body;
    }
    all
}

#[tokio::test]
async fn state_changing_routes_refuse_other_sites_and_non_json() {
    let st = Station::start("").await;
    let api = st.supervisor().await;
    let cookie = api.cookie.clone().unwrap();
    let own = format!("http://{}", st.addr());

    let batch = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "lane": "main"}))
        .await;
    let other = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, ok) = api
        .post(
            &format!("/batches/{batch}/entries"),
            json!({"client_id": "C1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ok}");
    let (_, flagged) = api
        .post(
            &format!("/batches/{batch}/entries"),
            json!({"client_id": "C2"}),
        )
        .await;
    assert_eq!(flagged["verdict"], "no_open_enrollment", "{flagged}");
    let (s, unassigned) = st
        .client()
        .post("/lanes/side/scans", json!({"code": "C3"}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{unassigned}");
    let scan_id = unassigned["unassigned"]["scan_id"].as_i64().unwrap();
    let entry = ok["id"].as_str().unwrap();

    let routes: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/session".into(), json!({"pin": common::PIN})),
        (Method::DELETE, "/session".into(), json!({})),
        (
            Method::POST,
            "/batches".into(),
            json!({"project_id": "P1", "service_code": "484"}),
        ),
        (
            Method::POST,
            format!("/batches/{batch}/entries"),
            json!({"client_id": "C1"}),
        ),
        (
            Method::DELETE,
            format!("/batches/{batch}/entries/{entry}"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/batches/{batch}/remove-flagged"),
            json!({}),
        ),
        (Method::POST, format!("/batches/{batch}/reload"), json!({})),
        (Method::POST, format!("/batches/{batch}/post"), json!({})),
        (
            Method::PUT,
            "/lanes/main".into(),
            json!({"batch_id": other}),
        ),
        (
            Method::POST,
            "/lanes/main/scans".into(),
            json!({"code": "C1"}),
        ),
        (
            Method::DELETE,
            format!("/scans/unassigned/{scan_id}"),
            json!({}),
        ),
        (Method::POST, "/deliveries/1/retry".into(), json!({})),
        (
            Method::POST,
            format!("/batches/{batch}/retry-delivery"),
            json!({}),
        ),
    ];

    let before = snapshot(&api, &batch).await;
    let http = common::http();
    let send = |method: &Method, path: &str, headers: &[(&str, &str)], body: Option<String>| {
        let mut req = http
            .request(method.clone(), format!("{}{path}", st.base))
            .header("cookie", &cookie);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        req.send()
    };
    let json_type = ("content-type", "application/json");
    let mut refused = 0;
    for (method, path, body) in &routes {
        let body = Some(body.to_string());
        let cases: [Case; 5] = [
            (
                &[("origin", "http://evil.example"), json_type],
                StatusCode::FORBIDDEN,
                "cross_site",
            ),
            (
                &[("origin", "http://127.0.0.1:1"), json_type],
                StatusCode::FORBIDDEN,
                "cross_site",
            ),
            (
                &[("sec-fetch-site", "cross-site"), json_type],
                StatusCode::FORBIDDEN,
                "cross_site",
            ),
            (
                &[("content-type", "text/plain")],
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
            ),
            (
                &[
                    ("origin", &own),
                    ("content-type", "text/plain;charset=UTF-8"),
                ],
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
            ),
        ];
        for (headers, status, code) in cases {
            let resp = send(method, path, headers, body.clone()).await.unwrap();
            assert_eq!(resp.status(), status, "{method} {path} {headers:?}");
            let answer: Value = resp.json().await.unwrap();
            assert_eq!(
                answer["code"], code,
                "{method} {path} {headers:?}: {answer}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, routes.len() * 5);
    assert_eq!(
        snapshot(&api, &batch).await,
        before,
        "a refused request changed something"
    );

    // The station's own page gets through (so the refusals above are the guard's doing).
    let resp = send(
        &Method::POST,
        &format!("/batches/{batch}/remove-flagged"),
        &[
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
            json_type,
        ],
        Some("{}".into()),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = send(
        &Method::POST,
        &format!("/batches/{batch}/post"),
        &[("origin", &own), json_type],
        Some("{}".into()),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(snapshot(&api, &batch).await, before);
    st.stop().await;
}

#[tokio::test]
async fn scanners_and_scripts_without_origin_still_post_json_scans() {
    let st = Station::start("").await;
    let resp = common::http()
        .post(format!("{}/lanes/main/scans", st.base))
        .json(&json!({"code": "C1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::ACCEPTED,
        "kept as unassigned: no batch on the lane"
    );
    // The same scan as a form a cross-site page could send is refused.
    let resp = common::http()
        .post(format!("{}/lanes/main/scans", st.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=C1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    st.stop().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let st = Station::start("").await;
    let root = st.base.trim_end_matches("/api/v1").to_string();
    let http = common::http();
    let answers = [
        http.get(format!("{}/healthz", st.base))
            .send()
            .await
            .unwrap(),
        http.get(format!("{}/batches", st.base))
            .send()
            .await
            .unwrap(),
        http.get(format!("{}/no-such-route", st.base))
            .send()
            .await
            .unwrap(),
        http.get(format!("{root}/")).send().await.unwrap(),
        http.post(format!("{}/session", st.base))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap(),
    ];
    for resp in answers {
        let h = resp.headers();
        let what = format!("{} {}", resp.status(), resp.url());
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert!(h.get("server").is_none(), "{what}: no server version");
    }
    st.stop().await;
}
