//! Serial scanners end to end: the whole daemon (`scanstation::daemon::run`: HTTP API, scanner
//! tasks, real SQLite file) with scanners on real pseudo-terminals behind symlinks standing in
//! for /dev/serial/by-id/...; scans are read back through the HTTP API.

mod common;

use common::serial::{self, FakePort};

fn codes(entries: &[serde_json::Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_reach_the_lane_batch_through_unplug_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("usb-Honeywell_1900-if00");
    let mut port = FakePort::plug(&link);
    let station = serial::station(dir.path(), &[(&link, "main")], "").await;
    let api = station.supervisor().await;
    let batch = api.batch_on_lane("main", &station.today()).await;
    let sc = api.wait_scanner(0, "connected").await;
    assert_eq!(sc["lane"], "main");
    assert_eq!(sc["kind"], "serial");

    // CR, LF and CRLF terminators.
    port.write(b"C001\r");
    port.write(b"C002\n");
    port.write(b"C003\r\n");
    let entries = api.wait_entries(&batch, 3).await;
    assert_eq!(codes(&entries), ["C001", "C002", "C003"]);
    for e in &entries {
        assert_eq!(e["source"], "serial", "{e}");
        assert_ne!(e["verdict"], "invalid_code", "{e}");
    }
    assert_eq!(entries[0]["client_id"], "C001");

    // Garbage: noise is dropped, a frame with a NUL becomes an unreadable card.
    port.write(b"\0\0\0\r");
    port.write(b"C0\x0004\r");
    let entries = api.wait_entries(&batch, 4).await;
    assert_eq!(entries[3]["verdict"], "invalid_code", "{}", entries[3]);

    // Unplug (pty closed, symlink gone), then re-plug behind the same path.
    port.write(b"C00");
    port.unplug();
    let sc = api.wait_scanner(0, "missing").await;
    assert!(sc["reason"].is_string(), "{sc}");
    assert!(sc["last_scan_at"].is_string(), "{sc}");
    let mut port = FakePort::plug(&link);
    api.wait_scanner(0, "connected").await;
    port.write(b"C004\r");
    let entries = api.wait_entries(&batch, 5).await;
    assert_eq!(
        entries.len(),
        5,
        "the half frame cut by the unplug is not an entry"
    );
    assert_eq!(entries[4]["code"], "C004");
    assert_eq!(entries[4]["client_id"], "C004");

    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scanners_feed_two_lanes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (la, lb) = (dir.path().join("scanner-a"), dir.path().join("scanner-b"));
    let (mut a, mut b) = (FakePort::plug(&la), FakePort::plug(&lb));
    let station = serial::station(dir.path(), &[(&la, "door"), (&lb, "side")], "").await;
    let api = station.supervisor().await;
    let today = station.today();
    let (ba, bb) = (
        api.batch_on_lane("door", &today).await,
        api.batch_on_lane("side", &today).await,
    );
    api.wait_scanner(0, "connected").await;
    api.wait_scanner(1, "connected").await;

    let ta = std::thread::spawn(move || {
        for i in 0..10 {
            a.write(format!("A{i}\r").as_bytes());
        }
        a
    });
    let tb = std::thread::spawn(move || {
        for i in 0..10 {
            b.write(format!("B{i}\r\n").as_bytes());
        }
        b
    });
    let _ports = (ta.join().unwrap(), tb.join().unwrap());
    let ea = api.wait_entries(&ba, 10).await;
    let eb = api.wait_entries(&bb, 10).await;
    assert_eq!(
        codes(&ea),
        (0..10).map(|i| format!("A{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        codes(&eb),
        (0..10).map(|i| format!("B{i}")).collect::<Vec<_>>()
    );
    station.stop().await;
}
