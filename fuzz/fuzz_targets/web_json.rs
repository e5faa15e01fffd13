//! Every JSON request body (and query string) through the station's real router
//! (`scanstation::web::router`, in-process, with a supervisor session) over a real SQLite store
//! holding the project's fixture export. The first byte picks the route; the rest is the body
//! (or the query). Properties: no input gets a 500 (bad input is the sender's fault, never an
//! internal error), and every error answer is `{"error", "code"}` with both non-empty.
//! `POST /session` is left out: its wrong-PIN delay (by design up to 60 s) would stall the fuzzer.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use scanstation::app::App;
use scanstation::web::auth::{Sessions, COOKIE};
use scanstation::web::login::Login;
use tower::ServiceExt;

struct Bench {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    cookie: String,
    batch: String,
}

fn bench() -> &'static Bench {
    static B: OnceLock<Bench> = OnceLock::new();
    B.get_or_init(|| {
        scanstation::init_tls();
        let dir = scanstation_fuzz::scratch_dir();
        let hash = scanstation::pin::hash_pin("2468").expect("hash a PIN");
        let settings = scanstation_fuzz::settings(dir.path(), Some(&hash));
        let store = scanstation::store::Store::open(&settings.database).expect("store");
        let export = dir.path().join("export");
        std::fs::create_dir(&export).expect("export folder");
        for (name, bytes) in scanstation_fuzz::BASE_EXPORT {
            std::fs::write(export.join(name), bytes).expect("write export");
        }
        store
            .with(|c| scanstation::import::import_path(c, &export, &Default::default()))
            .expect("import the fixture");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let app = App::new(settings.clone(), store);
        let sessions = Arc::new(Sessions::default());
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let token = match rt.block_on(sessions.login("2468".into(), &settings.supervisors)) {
            Login::Ok { token, .. } => token,
            _ => panic!("the fuzz PIN logs in"),
        };
        let router = scanstation::web::router(app, sessions, rx);
        let cookie = format!("{COOKIE}={token}");
        let mut b = Bench {
            _dir: dir,
            rt,
            router,
            cookie,
            batch: String::new(),
        };
        let (status, body) = b.send(
            Method::POST,
            "/api/v1/batches",
            br#"{"project_id":"1001","service_code":"484","lane":"main"}"#.to_vec(),
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("batch JSON");
        b.batch = v["id"].as_str().expect("batch id").to_string();
        b
    })
}

impl Bench {
    fn send(&self, method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, String) {
        let Ok(req) = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "127.0.0.1")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &self.cookie)
            .body(Body::from(body))
        else {
            return (StatusCode::BAD_REQUEST, String::new());
        };
        self.rt.block_on(async {
            let resp = self.router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("a whole answer");
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let b = bench();
    let body = rest.to_vec();
    let (method, uri) = match which % 8 {
        0 => (Method::POST, "/api/v1/batches".to_string()),
        1 => (Method::POST, format!("/api/v1/batches/{}/entries", b.batch)),
        2 => (Method::PUT, "/api/v1/lanes/main".to_string()),
        3 => (Method::POST, "/api/v1/lanes/main/scans".to_string()),
        4 => (Method::POST, format!("/api/v1/batches/{}/reload", b.batch)),
        // Query strings and path segments: the input (when it is a valid URI) after the route.
        5 => {
            let q = String::from_utf8_lossy(rest);
            (Method::GET, format!("/api/v1/clients?{q}"))
        }
        6 => {
            let q = String::from_utf8_lossy(rest);
            (Method::GET, format!("/api/v1/deliveries?{q}"))
        }
        _ => {
            let q = String::from_utf8_lossy(rest);
            (Method::POST, format!("/api/v1/lanes/{q}/scans"))
        }
    };
    let body = if which % 8 >= 5 && which % 8 != 7 {
        Vec::new()
    } else {
        body
    };
    let body = if which % 8 == 7 {
        br#"{"code":"A1"}"#.to_vec()
    } else {
        body
    };
    let (status, text) = b.send(method, &uri, body);
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "500 for {uri} with {:?}: {text}",
        String::from_utf8_lossy(rest)
    );
    if status.is_client_error() && !text.is_empty() {
        let v: serde_json::Value = serde_json::from_str(&text).expect("an error answer is JSON");
        assert!(v["error"].as_str().is_some_and(|s| !s.is_empty()), "{text}");
        assert!(v["code"].as_str().is_some_and(|s| !s.is_empty()), "{text}");
    }
});
