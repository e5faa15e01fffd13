//! `scanstation demo`, the first thing a new user runs: the real binary, stdin a terminal-like
//! pipe that stays open (nobody presses Enter), then Ctrl-C (SIGINT). It must stop at once and
//! delete its temporary state folder.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn sigint(pid: u32) {
    // SAFETY: kill(2) touches no memory; a stale pid at worst gets ESRCH.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    assert_eq!(
        rc,
        0,
        "kill -INT {pid}: {}",
        std::io::Error::last_os_error()
    );
}

#[test]
fn demo_stops_on_ctrl_c_while_stdin_is_open_and_removes_its_state() {
    let mut child = common::bin::scanstation(["demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scanstation demo");
    let mut stdin = child.stdin.take().expect("stdin piped");
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut state: Option<PathBuf> = None;
    let mut ui = false;
    while !(ui && state.is_some()) {
        let line = rx.recv_timeout(T).expect("demo start-up lines");
        if let Some(p) = line.split("(deleted on exit): ").nth(1) {
            state = Some(PathBuf::from(p.trim()));
        }
        ui |= line.contains("UI: http://");
    }
    let state = state.unwrap();
    assert!(
        state.join("scanstation.db").is_file(),
        "{}",
        state.display()
    );

    // A scan through stdin works, and the read is then parked on the still-open pipe.
    writeln!(stdin, "NOBODY1").unwrap();
    stdin.flush().unwrap();
    loop {
        let line = rx.recv_timeout(T).expect("the scan's verdict line");
        if line.contains("CARD NOT RECOGNISED") {
            break;
        }
    }

    sigint(child.id());
    let status = common::wait::eventually_blocking(T, "demo to exit after Ctrl-C", || {
        child.try_wait().expect("demo status")
    });
    // Still holding stdin open: the exit did not wait for end of input.
    drop(stdin);
    assert!(status.success(), "demo exit status {status:?}");
    assert!(
        !state.exists(),
        "state folder {} left behind",
        state.display()
    );
}
