//! The `scanstation` binary as IT and a new user run it: hash-pin, check-config, import (counts;
//! file:line:column and a non-zero exit on bad input), and `import` from a second process while
//! `serve` takes scans on the same SQLite file.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::bin::{scanstation, Daemon};
use common::{fixture, StationConfig};
use reqwest::StatusCode;
use serde_json::json;

fn write_config(dir: &Path) -> std::path::PathBuf {
    StationConfig::new(dir).write()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn hash_pin_prints_a_hash_that_verifies() {
    let mut child = scanstation(["hash-pin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"482913\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    use argon2::PasswordVerifier;
    let a = argon2::Argon2::default();
    assert!(a.verify_password(b"482913", hash.as_str()).is_ok());
    assert!(a.verify_password(b"482914", hash.as_str()).is_err());

    let mut child = scanstation(["hash-pin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"12a\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "a PIN is digits");
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 or more digits"));
}

#[test]
fn check_config_names_every_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(dir.path());
    let out = scanstation(["check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (station test-1"));

    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("America/Chicago", "Mars/Olympus")
        .replace("[web]", "[web]\nport = 80");
    std::fs::write(&bad, text).unwrap();
    let out = scanstation(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(
        err.contains("station.timezone") && err.contains("web.port"),
        "{err}"
    );

    let out = scanstation(["check-config", "--config", "/nonexistent/scanstation.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/scanstation.toml")
    );
}

#[test]
fn import_prints_counts_and_refuses_bad_input_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let out = common::bin::import(&config, &fixture("station"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Client.csv") && text.contains("Enrollment.csv"),
        "{text}"
    );

    // A bad EntryDate on line 3 (column 4): refused, nothing changed.
    let bad = dir.path().join("bad");
    copy_dir(&fixture("station-delta"), &bad);
    let enr = std::fs::read_to_string(bad.join("Enrollment.csv")).unwrap();
    let mut lines: Vec<String> = enr.lines().map(String::from).collect();
    let second = lines[1].replacen("E7,C2,P1,2020-06-01", "E8,C2,P1,2020-13-01", 1);
    lines.push(second);
    std::fs::write(bad.join("Enrollment.csv"), lines.join("\r\n") + "\r\n").unwrap();
    let out = common::bin::import(&config, &bad);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Enrollment.csv:3:4"), "{err}");
    let db = common::lib::db_at(&dir.path().join("station.db"));
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM enrollments WHERE enrollment_id = 'E7'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "the refused delta changed nothing");
}

#[tokio::test]
async fn import_runs_while_serve_takes_scans() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let st = common::bin::import(&config, &fixture("station"));
    assert!(st.status.success());

    // The start-up line names the bound address (web.listen is 127.0.0.1:0 here).
    let mut daemon = Daemon::serve(&config);
    let mut api = common::Api::new(&daemon.base());
    assert_eq!(api.login(common::PIN).await.0, StatusCode::OK);
    let id = api
        .new_batch(json!({"project_id": "P1", "service_code": "484", "lane": "main"}))
        .await;
    assert_eq!(
        api.post(
            &format!("/batches/{id}/entries"),
            json!({"client_id": "C2"})
        )
        .await
        .1["verdict"],
        "no_open_enrollment"
    );

    // A second process imports the delta while scans keep arriving.
    let delta = fixture("station-delta");
    let import = std::thread::spawn(move || common::bin::import(&config, &delta));
    let scanner = common::Api::new(&api.base);
    let mut codes = 0;
    while !import.is_finished() || codes < 20 {
        let (s, e) = scanner
            .post("/lanes/main/scans", json!({"code": format!("X{codes}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        codes += 1;
    }
    let out = import.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reloaded 1 open batch"));
    // The daemon sees the new data and the reload: C2 is now enrolled in P1.
    let (_, b) = api.get(&format!("/batches/{id}")).await;
    assert_eq!(b["entries"][0]["verdict"], "ok", "{b}");
    assert_eq!(b["entries"].as_array().unwrap().len(), 1 + codes);

    // SIGTERM, with a live event stream open: the daemon ends the stream and exits 0.
    let events = common::http()
        .get(format!("{}/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    daemon.terminate();
    let status = daemon.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    drop(events);
}
