//! systemd integration: READY, STOPPING, STATUS and WATCHDOG notifications (`sd_notify(3)`).
//!
//! Every function here is a no-op outside systemd (no `$NOTIFY_SOCKET`), so `serve` behaves the same
//! when started by hand. Errors sending a notification are logged, never fatal: a daemon that serves
//! scans but cannot reach the service manager is still better than one that exits.
//!
//! The unit (`systemd/scanstation.service`) is `Type=notify` with `WatchdogSec=`; systemd kills and
//! restarts the daemon when no `WATCHDOG=1` arrives within that time. To make the watchdog mean
//! "scans can be served", a ping is sent only after a query went through the same store handle and
//! blocking pool that every scan uses (`daemon::watchdog`). See [`watchdog_ping`].

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!(target: "scanstation::systemd", "cannot notify systemd: {e}");
    }
}

/// Tell systemd the daemon is ready: call once, after the database migrations ran and the HTTP
/// listener is bound (so that units ordered `After=scanstation.service`, such as the kiosk, find a
/// working server). No-op outside systemd.
pub fn notify_ready() {
    send(&[NotifyState::Ready, NotifyState::Status("serving")]);
}

/// Tell systemd we are stopping (call on SIGTERM/SIGINT, before draining). No-op outside systemd.
pub fn notify_stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// Set the one-line status shown by `systemctl status scanstation` (no client data in it).
/// No-op outside systemd.
pub fn notify_status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// How often to call [`watchdog_ping`]: half of the unit's `WatchdogSec=`, or `None` when systemd
/// set no watchdog for this process (started by hand, or `WatchdogSec=0`).
///
/// Read it once at start (it comes from `$WATCHDOG_USEC`/`$WATCHDOG_PID`).
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|d| !d.is_zero())
        .map(|d| (d / 2).max(Duration::from_millis(1)))
}

/// Send `WATCHDOG=1`: "I am alive and serving scans". No-op outside systemd.
///
/// How the caller uses it: call [`watchdog_interval`] once; if it is `Some(every)`, tick at that
/// interval and ping only when a round trip through the scan path's store handle answered. A
/// wedged store (deadlock, stuck database call), a stalled runtime or SIGSTOP stops the pings, and
/// systemd then kills and restarts the daemon (`Restart=on-failure`). A timer that pings
/// unconditionally would prove nothing. The ping is one datagram on a Unix socket.
pub fn watchdog_ping() {
    send(&[NotifyState::Watchdog]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::process::Command;

    /// Run `child_sends_notifications` in a child process (this test binary again) with the given
    /// environment, so no test mutates the environment of the shared test process.
    fn run_child(env: &[(&str, String)]) -> std::process::Output {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = Command::new(exe);
        cmd.args([
            "--exact",
            "systemd::tests::child_sends_notifications",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .env("SCANSTATION_SYSTEMD_CHILD", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// The child half: sends READY, WATCHDOG and STOPPING, prints the watchdog interval.
    #[test]
    #[ignore = "run as a child process by notifications_reach_the_socket"]
    fn child_sends_notifications() {
        if std::env::var_os("SCANSTATION_SYSTEMD_CHILD").is_none() {
            return;
        }
        notify_ready();
        watchdog_ping();
        notify_stopping();
        println!("INTERVAL={:?}", watchdog_interval());
    }

    #[test]
    fn notifications_reach_the_socket_and_interval_is_half_watchdogsec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();

        // WATCHDOG_PID unset: the watchdog is for whoever reads it.
        let out = run_child(&[
            ("NOTIFY_SOCKET", path.display().to_string()),
            ("WATCHDOG_USEC", "10000000".into()),
        ]);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("INTERVAL=Some(5s)"), "{stdout}");

        let mut buf = [0u8; 256];
        let mut recv = || {
            let n = sock.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        let ready = recv();
        assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
        assert_eq!(recv(), "WATCHDOG=1\n");
        let stopping = recv();
        assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    }

    #[test]
    fn watchdog_of_another_process_or_none_is_ignored() {
        // A watchdog meant for another process (e.g. a parent shell) is not ours.
        let out = run_child(&[
            ("WATCHDOG_USEC", "10000000".into()),
            ("WATCHDOG_PID", "1".into()),
        ]);
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("INTERVAL=None"));
        // Outside systemd: every call is a silent no-op and there is no watchdog.
        let out = run_child(&[]);
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("INTERVAL=None"));
    }
}
