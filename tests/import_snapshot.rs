//! Imports never stop the door (issue 15): the enrollment data is a snapshot file of its own
//! that an import builds aside or changes in one transaction of its own connection. A scan during
//! an import is answered with the data from before or after it, never an error and never after
//! the import; kill -9 in the middle of an import keeps the old data, and the next import is
//! clean; a refused import leaves nothing behind.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::bin::scanstation;
use common::wait::eventually_blocking;
use common::{fixture, Station, StationConfig};
use reqwest::StatusCode;
use scanstation::synth::{write_hud_csv, SynthSpec};
use serde_json::json;

/// The snapshot generation files beside the database (not their -wal / -shm).
fn generations(db: &Path) -> Vec<String> {
    let prefix = format!("{}.hmis-", db.file_name().unwrap().to_string_lossy());
    let mut names: Vec<String> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&prefix)?;
            rest.chars().all(|c| c.is_ascii_digit()).then_some(name)
        })
        .collect();
    names.sort();
    names
}

fn integrity(conn: &rusqlite::Connection, schema: &str) -> String {
    conn.query_row(&format!("PRAGMA {schema}.integrity_check"), [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// A copy of the synthetic export `from` whose Enrollment.csv leaves out `clients`' rows.
fn without_enrollments_of(from: &Path, to: &Path, clients: &[String]) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    let path = to.join("Enrollment.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("EnrollmentID,PersonalID,"), "{header}");
    let mut out = vec![header.to_string()];
    out.extend(
        lines
            .filter(|l| {
                !clients
                    .iter()
                    .any(|c| l.split(',').nth(1) == Some(c.as_str()))
            })
            .map(str::to_string),
    );
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_during_an_import_get_the_data_from_before_or_after_it_and_never_wait() {
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive();
    // Enough clients that an import takes a while in a debug build (seconds).
    let before = dir.path().join("before");
    let mut spec = SynthSpec::new(8_000, 7, today);
    spec.samples = 400;
    let sum = write_hud_csv(&before, &spec).unwrap();
    let pool = sum.open_in_main.clone();
    assert!(pool.len() >= 200, "{} sample clients", pool.len());
    // After the import, the pool's clients have no enrollment any more.
    let after = dir.path().join("after");
    without_enrollments_of(&before, &after, &pool);

    let st = Station::builder().import(&before).start().await;
    let api = st.supervisor().await;
    let (s, b) = api
        .post(
            "/batches",
            json!({"project_id": sum.main_project(), "service_code": "484", "lane": "main",
                   "name": "During the import"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let batch_id = b["id"].as_str().unwrap().to_string();
    let first = api.scan("main", &pool[0]).await;
    assert_eq!(first["verdict"], "ok", "{first}");

    let done = Arc::new(AtomicBool::new(false));
    let import = {
        let (app, done) = (st.app.clone(), done.clone());
        tokio::spawn(async move {
            let r = app.import_and_reload(after, None, "test").await;
            done.store(true, Ordering::SeqCst);
            r
        })
    };
    let mut answered_during = 0;
    let mut verdicts = Vec::new();
    // Scan new clients while the import runs (the last one is kept for after it).
    let (during, last) = pool[1..].split_at(pool.len() - 2);
    let scan = |client: String| {
        let api = &api;
        async move {
            let (s, b) = api.post("/lanes/main/scans", json!({"code": client})).await;
            assert_eq!(s, StatusCode::CREATED, "a scan during the import: {b}");
            let v = b["verdict"].as_str().unwrap().to_string();
            assert!(
                v == "ok" || v == "no_open_enrollment",
                "the data from before (ok) or after (not enrolled): {b}"
            );
            v
        }
    };
    for client in during {
        if done.load(Ordering::SeqCst) {
            break;
        }
        let v = scan(client.clone()).await;
        // The watchdog's ping goes through the same store handle.
        st.app
            .store
            .call(scanstation::store::ping)
            .await
            .expect("the store answers the watchdog");
        if !done.load(Ordering::SeqCst) {
            answered_during += 1;
        }
        verdicts.push(v);
    }
    let summary = import.await.unwrap().expect("the import succeeds");
    assert!(summary.reload_error.is_none());
    assert!(
        answered_during > 0,
        "scans and the watchdog's ping were answered while the import ran"
    );
    verdicts.push(scan(last[0].clone()).await);
    // Once the new data was in, it stayed in: no scan went back to the old data.
    let first_new = verdicts
        .iter()
        .position(|v| v != "ok")
        .expect("the last scan, after the import, sees the new data");
    assert!(
        verdicts[first_new..].iter().all(|v| v != "ok"),
        "{verdicts:?}"
    );
    // The reload judged the scan from before the import again.
    let b = api.get_ok(&format!("/batches/{batch_id}")).await;
    assert_eq!(b["entries"][0]["verdict"], "no_open_enrollment", "{b}");
    assert_eq!(
        generations(&common::lib::database(&st.app.settings)).len(),
        1,
        "the old generation is deleted"
    );
    eprintln!(
        "{answered_during} of {} scans answered while the import ran",
        verdicts.len()
    );
    st.stop().await;
}

#[test]
fn kill_9_in_the_middle_of_an_import_keeps_the_old_data_and_the_next_import_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StationConfig::new(dir.path());
    let config = cfg.clone().write();
    let db = cfg.database();
    let out = common::bin::import(&config, &fixture("station"));
    assert!(out.status.success(), "{out:?}");
    let old = {
        let conn = common::lib::db_at(&db);
        scanstation::import::data_status(&conn).unwrap()
    };
    assert_eq!(generations(&db).len(), 1);

    let big = dir.path().join("big");
    let today = chrono::Utc::now().date_naive();
    write_hud_csv(&big, &SynthSpec::new(40_000, 3, today)).unwrap();
    for round in 0..2 {
        let mut child = scanstation(["import", "--config"])
            .arg(&config)
            .arg(&big)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The next generation being written (round 0: as soon as it exists; round 1: once it
        // holds more than the copy of the old one, i.e. while rows load).
        let min_size = if round == 0 { 0 } else { 1 << 20 };
        eventually_blocking(
            Duration::from_secs(60),
            "the import to build a snapshot",
            || {
                generations(&db).iter().skip(1).find_map(|g| {
                    let len = std::fs::metadata(dir.path().join(g)).ok()?.len();
                    (len > min_size).then_some(())
                })
            },
        );
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed, not finished (round {round})");

        let conn = common::lib::db_at(&db);
        let now = scanstation::import::data_status(&conn).unwrap();
        assert_eq!(now, old, "round {round}: the old data is still in use");
        assert_eq!(integrity(&conn, "main"), "ok");
        assert_eq!(integrity(&conn, "hmis"), "ok");
    }
    assert!(generations(&db).len() > 1, "half-built generations left");

    // The next import runs, and clears what the killed ones left.
    let out = common::bin::import(&config, &fixture("station"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(generations(&db).len(), 1, "{:?}", generations(&db));
    let conn = common::lib::db_at(&db);
    let again = scanstation::import::data_status(&conn).unwrap();
    assert_eq!(
        (again.clients, again.enrollments, again.exits),
        (old.clients, old.enrollments, old.exits)
    );
    assert_eq!(integrity(&conn, "hmis"), "ok");
}

#[test]
fn a_refused_import_leaves_no_generation_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let mut conn = common::lib::db_at(&db);
    common::lib::import(&mut conn, &fixture("station"));
    let before = scanstation::import::data_status(&conn).unwrap();
    let gens = generations(&db);

    // A full refresh whose Enrollment.csv has a date in no accepted format: refused.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    for e in std::fs::read_dir(fixture("station")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), bad.join(e.file_name())).unwrap();
    }
    let enr = bad.join("Enrollment.csv");
    let text = std::fs::read_to_string(&enr).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| h.trim_matches('"').eq_ignore_ascii_case("EntryDate"))
        .unwrap();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[col] = "2024-13-01".into();
    lines[1] = fields.join(",");
    std::fs::write(&enr, lines.join("\n") + "\n").unwrap();
    let err = scanstation::import::import_path(
        &mut conn,
        &bad,
        &scanstation::import::ImportOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("Enrollment.csv:2"), "{err}");
    assert_eq!(scanstation::import::data_status(&conn).unwrap(), before);
    assert_eq!(generations(&db), gens, "the half-built generation is gone");
}

#[test]
fn a_station_from_before_the_snapshot_keeps_its_data() {
    // Schema 2 had the enrollment tables in the main file: build one as that version left it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../migrations/0002_real_exports.sql"))
            .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO projects (project_id, name) VALUES ('1001', 'Hot Meals');
             INSERT INTO clients (personal_id, first_name, last_initial, last_name_key, dob)
                  VALUES ('C1', 'Rosa', 'M', 'mar', '1970-01-02');
             INSERT INTO enrollments (enrollment_id, personal_id, project_id, entry_date)
                  VALUES ('E1', 'C1', '1001', '2024-01-01');
             INSERT INTO meta (key, value) VALUES ('export_id', 'OLD-1'), ('pull.etag', '\"x\"');",
        )
        .unwrap();
    }
    let conn = common::lib::db_at(&db);
    let status = scanstation::import::data_status(&conn).unwrap();
    assert_eq!(
        (status.projects, status.clients, status.enrollments),
        (1, 1, 1)
    );
    assert_eq!(status.export_id.as_deref(), Some("OLD-1"));
    let in_main: i64 = conn
        .query_row(
            "SELECT count(*) FROM main.sqlite_schema WHERE name IN ('clients', 'enrollments')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_main, 0, "the tables moved out of the main file");
    let etag: String = conn
        .query_row(
            "SELECT value FROM main.meta WHERE key = 'pull.etag'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(etag, "\"x\"", "the station's own meta stays");
    assert_eq!(generations(&db).len(), 1);
    drop(conn);
    // Opening it again changes nothing more.
    let conn = common::lib::db_at(&db);
    assert_eq!(scanstation::import::data_status(&conn).unwrap(), status);
}

#[test]
fn a_main_file_restored_without_its_snapshot_starts_empty_and_imports_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let mut conn = common::lib::db_at(&db);
    common::lib::import(&mut conn, &fixture("station"));
    drop(conn);
    for g in generations(&db) {
        std::fs::remove_file(dir.path().join(g)).unwrap();
    }
    let mut conn = common::lib::db_at(&db);
    let status = scanstation::import::data_status(&conn).unwrap();
    assert_eq!((status.clients, status.imported_at), (0, None));
    common::lib::import(&mut conn, &fixture("station"));
    assert!(scanstation::import::data_status(&conn).unwrap().clients > 0);
    assert_eq!(generations(&db).len(), 1);
}

#[tokio::test]
async fn the_reload_after_an_import_keeps_duplicates_across_its_parts() {
    // The reload after an import runs in parts of a few hundred entries (scans go on between
    // them): a client's second scan stays a duplicate however far from the first it is.
    let st = Station::builder()
        .import(&fixture("hmis/basic"))
        .start()
        .await;
    let api = st.supervisor().await;
    let batch = api.batch_on_lane("main", &st.today()).await;
    assert_eq!(api.scan("main", "C001").await["verdict"], "ok");
    for i in 0..450 {
        let v = api.scan("main", &format!("NOBODY{i}")).await;
        assert_eq!(v["verdict"], "unknown_client", "{v}");
    }
    assert_eq!(api.scan("main", "C001").await["verdict"], "duplicate");
    let summary = st
        .app
        .import_and_reload(fixture("hmis/basic"), None, "test")
        .await
        .unwrap();
    assert_eq!(summary.reloaded, 1);
    let b = api.get_ok(&format!("/batches/{batch}")).await;
    let entries = b["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 452);
    assert_eq!(entries[0]["verdict"], "ok");
    assert_eq!(entries[451]["verdict"], "duplicate", "{}", entries[451]);
    assert!(entries[1..451]
        .iter()
        .all(|e| e["verdict"] == "unknown_client"));
    st.stop().await;
}
