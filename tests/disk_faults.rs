//! The disk's own faults, on a real small filesystem, with the real binary (`scanstation serve`):
//! the database sits on a size-limited tmpfs that the test fills to the last byte.
//!
//! The same for a filesystem that turns read-only under the daemon (an ext4 image mounted with
//! `errors=remount-ro`, which the kernel turns read-only on an error) and is then checked and
//! mounted again by IT: the daemon opens the database again by itself.
//!
//! What must hold: a scan on a full disk is refused loudly (an error answer with the stable code
//! `disk_full`, a `scan` event with `refused` for the lane screen, never an acknowledgement that
//! is then lost), the log says why, a post and an import fail atomically, `/status` warns before
//! (and while) space runs out, and once space is freed everything works again without a restart,
//! with nothing lost and `PRAGMA integrity_check` ok. Needs root and `mount`: without them the
//! test fails under `CI=true` and says SKIPPED elsewhere; the lane screen is watched in Chromium.

mod common;

use std::path::{Path, PathBuf};

use common::bin::{self, Daemon};
use common::browser::{chromium_ready, Browser};
use common::disk::{ext4_allowed, mount_allowed, Ext4Disk, SmallDisk};
use common::{eventually, fixture, precondition, Api, StationConfig, DEADLINE};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Empty the WAL into the database and truncate it (as a checkpoint does): from here on every
/// write needs new blocks, so a full disk refuses the very next one.
fn checkpoint(db: &Path) {
    let conn = common::lib::db_at(db);
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("checkpoint");
    assert_eq!(busy, 0, "the checkpoint ran to the end");
}

fn integrity(db: &Path) -> String {
    let conn = common::lib::db_at(db);
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

fn count(db: &Path, sql: &str) -> i64 {
    common::lib::db_at(db)
        .query_row(sql, [], |r| r.get(0))
        .expect("count")
}

/// Read the public event stream until a `scan` event carries `refused`; returns its data.
async fn refused_event(mut events: reqwest::Response) -> Value {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(DEADLINE, events.chunk())
            .await
            .expect("a refused-scan event within the deadline")
            .expect("the event stream")
            .expect("the event stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        for line in text.lines() {
            if let Some(data) = line.strip_prefix("data:") {
                if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                    if v.get("refused").is_some() {
                        return v;
                    }
                }
            }
        }
    }
}

/// The entries' codes of a batch, in scan order, read from the file.
fn entry_codes(db: &Path, batch: &str) -> Vec<String> {
    let conn = common::lib::db_at(db);
    let mut stmt = conn
        .prepare("SELECT code FROM entries WHERE batch_id = ?1 ORDER BY seq")
        .expect("entries");
    stmt.query_map([batch], |r| r.get(0))
        .expect("entries")
        .collect::<Result<_, _>>()
        .expect("codes")
}

/// Wait until the lane screen's banner is in `state`; returns its `data-code` and text.
async fn banner(screen: &Browser, state: &str) -> Value {
    screen
        .wait(
            &format!("the lane screen in state {state}"),
            &format!(
                "const e = document.getElementById('banner'); \
                 return e && e.dataset.verdict === '{state}' ? [e.dataset.code || '', e.innerText] : null"
            ),
            DEADLINE,
        )
        .await
        .unwrap_or_else(|e| panic!("lane screen: {e}"))
}

/// The real daemon over a database in `state` (the small disk), the basic fixture imported, a
/// Hot Meals batch of today on lane `main` with one ok scan (C001) in it.
struct Served {
    /// The lane screen of lane `main`, in Chromium.
    screen: Browser,
    daemon: Daemon,
    api: Api,
    db: PathBuf,
    config: PathBuf,
    batch: String,
}

impl Served {
    async fn start(home: &Path, state: &Path) -> Served {
        let config = StationConfig::new(home).database_in(state);
        let db = config.database();
        let config_path = config.write();
        let out = bin::import(&config_path, &fixture("hmis/basic"));
        assert!(out.status.success(), "first import: {out:?}");
        let daemon = Daemon::serve(&config_path);
        let api = Api::supervisor(&daemon.base()).await;
        let batch = api
            .new_batch(json!({"project_id": "1001", "service_code": "484", "lane": "main"}))
            .await;
        let screen = Browser::start(800, 480).await.expect("Chromium");
        screen
            .goto(&format!("http://{}/?lane=main&lang=en", daemon.addr))
            .await
            .expect("the lane screen");
        banner(&screen, "ready").await;
        let first = api.scan("main", "C001").await;
        assert_eq!(first["verdict"], "ok", "{first}");
        banner(&screen, "ok").await;
        Served {
            screen,
            daemon,
            api,
            db,
            config: config_path,
            batch,
        }
    }

    /// While the disk refuses writes: a scan (C002) gets `status` with `code`, the lane screen's
    /// event stream hears `refused` with the same code, the log says `why`; a post gets the same
    /// answer and the batch stays open with its one entry.
    async fn refused(&self, status: StatusCode, code: &str, why: &str) {
        let events = self
            .api
            .http
            .get(format!("{}/events", self.daemon.base()))
            .send()
            .await
            .expect("the event stream");
        let (s, b) = self
            .api
            .post("/lanes/main/scans", json!({"code": "C002"}))
            .await;
        assert_eq!((s, b["code"].as_str()), (status, Some(code)), "{b}");
        let ev = refused_event(events).await;
        assert_eq!(ev["lane"], "main");
        assert_eq!(ev["refused"]["code"], code);
        // The lane screen says so, in its own state (not a verdict), with the code's message.
        let shown = banner(&self.screen, "refused").await;
        assert_eq!(shown[0], code, "{shown}");
        assert!(
            shown[1]
                .as_str()
                .is_some_and(|t| t.contains("NOT RECORDED")),
            "{shown}"
        );
        eventually(DEADLINE, &format!("the log to say {why:?}"), || async {
            self.daemon.log().contains(why).then_some(())
        })
        .await;

        let post = format!("/batches/{}/post", self.batch);
        let (s, b) = self.api.post(&post, json!({})).await;
        assert_eq!((s, b["code"].as_str()), (status, Some(code)), "{b}");
        let got = self.api.get_ok(&format!("/batches/{}", self.batch)).await;
        assert_eq!(got["state"], "open", "{got}");
        assert_eq!(got["entries"].as_array().map(Vec::len), Some(1), "{got}");
    }

    /// Once the disk is back: C002 scans ok (`eventually`: the daemon may need a moment to open
    /// the database again) and the batch posts both entries.
    async fn works_again(&self) {
        let second = eventually(DEADLINE, "a scan to be taken again", || async {
            let (s, b) = self
                .api
                .post("/lanes/main/scans", json!({"code": "C002"}))
                .await;
            s.is_success().then_some(b)
        })
        .await;
        assert_eq!(second["verdict"], "ok", "{second}");
        banner(&self.screen, "ok").await;
        let (s, b) = self
            .api
            .post(&format!("/batches/{}/post", self.batch), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["posted"], 2, "{b}");
    }

    /// Stop the daemon; then nothing lost, nothing doubled, nothing corrupted: the refused scan
    /// left no trace but its answer, the two acknowledged ones are there once each.
    fn stop_and_check(self) {
        let (db, batch) = (self.db.clone(), self.batch.clone());
        drop(self);
        assert_eq!(entry_codes(&db, &batch), ["C001", "C002"]);
        assert_eq!(count(&db, "SELECT count(*) FROM services"), 2);
        assert_eq!(integrity(&db), "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_scans_loudly_and_everything_works_again_once_space_is_freed() {
    if let Err(why) = mount_allowed() {
        if !precondition(false, &why) {
            return;
        }
    }
    if !chromium_ready() {
        return;
    }
    let home = tempfile::tempdir().expect("temp folder");
    let disk = SmallDisk::tmpfs(24);
    let st = Served::start(home.path(), disk.path()).await;

    // Plenty of space: no warning.
    let status = st.api.get_ok("/status").await;
    assert_eq!(status["disk"]["low_space"], false, "{status}");
    assert!(
        status["disk"]["free_bytes"].as_u64() > Some(1 << 20),
        "{status}"
    );

    // The disk fills up: /status warns, scans and posts are refused.
    checkpoint(&st.db);
    let clients_before = count(&st.db, "SELECT count(*) FROM clients");
    assert!(disk.fill() > 0);
    let status = st.api.get_ok("/status").await;
    assert_eq!(status["disk"]["low_space"], true, "/status warns: {status}");
    assert!(status["disk"]["warning"].as_str().is_some(), "{status}");
    st.refused(StatusCode::INSUFFICIENT_STORAGE, "disk_full", "disk full")
        .await;

    // An import (a second process, as IT runs it) fails and changes nothing.
    let out = bin::import(&st.config, &fixture("hmis/delta"));
    assert!(
        !out.status.success(),
        "an import on a full disk fails: {out:?}"
    );
    assert_eq!(
        count(&st.db, "SELECT count(*) FROM clients"),
        clients_before
    );

    // Space comes back: the same daemon takes scans, posts and imports again.
    disk.free();
    let status = st.api.get_ok("/status").await;
    assert_eq!(status["disk"]["low_space"], false, "{status}");
    assert!(status["disk"]["warning"].is_null(), "{status}");
    st.works_again().await;
    let out = bin::import(&st.config, &fixture("hmis/delta"));
    assert!(out.status.success(), "the import works again: {out:?}");
    st.stop_and_check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filesystem_turned_read_only_refuses_scans_and_the_daemon_recovers_after_repair() {
    if let Err(why) = ext4_allowed() {
        if !precondition(false, &why) {
            return;
        }
    }
    if !chromium_ready() {
        return;
    }
    let home = tempfile::tempdir().expect("temp folder");
    let disk = Ext4Disk::new(32);
    let st = Served::start(home.path(), disk.path()).await;

    // The kernel turns the filesystem read-only under the daemon's open files. Reads still
    // work (`refused` reads the batch back).
    disk.fail();
    st.refused(StatusCode::SERVICE_UNAVAILABLE, "read_only", "read-only")
        .await;
    let status = st.api.get_ok("/status").await;
    assert_eq!(status["disk"]["write_failed"], true, "{status}");
    assert!(status["disk"]["warning"].as_str().is_some(), "{status}");

    // IT checks the filesystem and mounts it again; the daemon is not restarted.
    disk.repair();
    st.works_again().await;
    let status = st.api.get_ok("/status").await;
    assert!(status["disk"]["warning"].is_null(), "{status}");
    assert!(
        st.daemon.log().contains("opened again"),
        "{}",
        st.daemon.log()
    );
    st.stop_and_check();
}
