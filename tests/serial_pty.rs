//! Serial scanners over real pseudo-terminals, scanner layer only: the scanner tasks run as in
//! the daemon, and their codes go to a recording sink instead of the station core. Each "scanner"
//! is a pty pair: the test writes to the master, the daemon opens the slave through a symlink
//! that stands in for /dev/serial/by-id/... Unplugging closes the master and removes the symlink;
//! re-plugging makes a new pty behind the same symlink.
//!
//! The end-to-end tests through the HTTP API are in `serial_api.rs`.

mod common;

use common::lib::ScannerState;
use common::serial::{hold_exclusive, FakePort, Rig};

#[tokio::test]
async fn cr_lf_and_crlf_frames_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner-a");
    let mut pty = FakePort::plug(&link);
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Connected).await;

    pty.write(b"A1\r");
    pty.write(b"B2\n");
    pty.write(b"C3\r\n");
    pty.write(b"D4\r\nE5");
    pty.write(b"5\r");
    let got = rig.rec.wait_codes("main", 5).await;
    assert_eq!(got, ["A1", "B2", "C3", "D4", "E55"]);
    let all = rig.rec.all();
    assert!(all.iter().all(|(_, _, s)| *s == "serial"));
    let status = rig.status(0);
    assert!(status.last_scan_at.is_some());
    assert_eq!(status.lane, "main");
    rig.stop().await;
}

#[tokio::test]
async fn a_double_read_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner-a");
    let mut pty = FakePort::plug(&link);
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Connected).await;
    // The same card twice within the 1.5 s window, then another card.
    pty.write(b"Q7\r");
    pty.write(b"Q7\r");
    pty.write(b"R8\r");
    let got = rig.rec.wait_codes("main", 2).await;
    assert_eq!(got, ["Q7", "R8"]);
    rig.stop().await;
}

#[tokio::test]
async fn unplug_and_replug_behind_the_same_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("usb-Scanner_1234-if00");
    let mut pty = FakePort::plug(&link);
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Connected).await;
    pty.write(b"BEFORE1\r");
    rig.rec.wait_codes("main", 1).await;

    // Unplug in the middle of a frame.
    pty.write(b"HALF");
    pty.unplug();
    rig.wait_state(0, ScannerState::Missing).await;
    let s = rig.status(0);
    assert!(s.reason.is_some(), "a missing scanner says why");

    // Re-plug: a new pty node behind the same path.
    let mut pty = FakePort::plug(&link);
    rig.wait_state(0, ScannerState::Connected).await;
    pty.write(b"AFTER2\r");
    let got = rig.rec.wait_codes("main", 2).await;
    assert_eq!(got, ["BEFORE1", "AFTER2"]);
    rig.stop().await;
}

#[tokio::test]
async fn garbage_never_stops_the_scanner() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner-a");
    let mut pty = FakePort::plug(&link);
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Connected).await;
    pty.write(b"\0\0\0\r"); // noise: dropped
    pty.write(b"12\x0034\r"); // text with a NUL: an unreadable card
    pty.write(b"\xff\xfe\r"); // invalid UTF-8 only: dropped
    pty.write(b"AB\xc3\x28\n"); // invalid UTF-8 inside text: unreadable
    pty.write(&[b'7'; 300]); // runaway: over the cap
    pty.write(b"\r");
    pty.write(b"OK9\r");
    let got = rig.rec.wait_codes("main", 3).await;
    assert_eq!(got, ["12\u{FFFD}34", "AB\u{FFFD}(", "OK9"]);
    assert_eq!(rig.status(0).state, ScannerState::Connected);
    rig.stop().await;
}

#[tokio::test]
async fn two_scanners_on_two_lanes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let la = dir.path().join("scanner-a");
    let lb = dir.path().join("scanner-b");
    let mut a = FakePort::plug(&la);
    let mut b = FakePort::plug(&lb);
    let rig = Rig::start(dir, &[(&la, "east"), (&lb, "west")]);
    rig.wait_state(0, ScannerState::Connected).await;
    rig.wait_state(1, ScannerState::Connected).await;
    let ta = std::thread::spawn(move || {
        for i in 0..20 {
            a.write(format!("E{i}\r").as_bytes());
        }
        a
    });
    let tb = std::thread::spawn(move || {
        for i in 0..20 {
            b.write(format!("W{i}\r\n").as_bytes());
        }
        b
    });
    let (_a, _b) = (ta.join().unwrap(), tb.join().unwrap());
    let east = rig.rec.wait_codes("east", 20).await;
    let west = rig.rec.wait_codes("west", 20).await;
    assert_eq!(east, (0..20).map(|i| format!("E{i}")).collect::<Vec<_>>());
    assert_eq!(west, (0..20).map(|i| format!("W{i}")).collect::<Vec<_>>());
    rig.stop().await;
}

#[tokio::test]
async fn a_port_held_by_another_program_shows_busy() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner-a");
    let mut pty = FakePort::plug(&link);
    let holder = hold_exclusive(&link);
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Busy).await;
    drop(holder);
    rig.wait_state(0, ScannerState::Connected).await;
    pty.write(b"Z9\r");
    assert_eq!(rig.rec.wait_codes("main", 1).await, ["Z9"]);
    rig.stop().await;
}

#[tokio::test]
async fn missing_at_start_then_plugged_in() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("not-yet");
    let rig = Rig::start(dir, &[(&link, "main")]);
    rig.wait_state(0, ScannerState::Missing).await;
    let mut pty = FakePort::plug(&link);
    rig.wait_state(0, ScannerState::Connected).await;
    pty.write(b"LATE5\r");
    assert_eq!(rig.rec.wait_codes("main", 1).await, ["LATE5"]);
    rig.stop().await;
}
