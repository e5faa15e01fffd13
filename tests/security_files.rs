//! Client data at rest and the config's security checks (issue 13), with the real binary:
//! `import`, `serve` and `export` under umask 022 leave the state folder 0700 and the database,
//! its `-wal`/`-shm` and exports 0600; `serve` logs wrong PINs without the PIN; `check-config`
//! refuses `tls = "off"` on a LAN address and warns about a world-readable token file.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use common::{eventually, fixture};

const BIN: &str = env!("CARGO_BIN_EXE_scanstation");

/// `scanstation ARGS` with umask 022, as IT would run it from a login shell.
fn scanstation(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    // SAFETY: umask is async-signal-safe and touches nothing but the child's own mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    cmd
}

/// The permission bits, in octal as `ls -l` people read them ("600").
fn mode(path: &Path) -> String {
    let bits = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777;
    format!("{bits:o}")
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// A station config in `dir` whose database is in the not yet existing `dir/state`.
fn station(dir: &Path, edit: impl FnOnce(String) -> String) -> (PathBuf, PathBuf) {
    let state = dir.join("state");
    let config = dir.join("scanstation.toml");
    std::fs::write(&config, edit(common::config_text(&state, ""))).unwrap();
    (config, state.join("station.db"))
}

fn check_config(config: &Path) -> Output {
    scanstation(&["check-config", "--config", config.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Kills the daemon when the test ends, however it ends.
struct Daemon(std::process::Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn import_serve_and_export_keep_client_data_private_under_umask_022() {
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = station(dir.path(), |t| t);
    let config_arg = config.to_str().unwrap();
    let out = scanstation(&["import", "--config", config_arg])
        .arg(fixture("station"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mode(db.parent().unwrap()),
        "700",
        "state folder after import"
    );
    assert_eq!(mode(&db), "600", "database after import");

    let mut child = scanstation(&["serve", "--config", config_arg])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let daemon = Daemon(child);
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://") {
                    let addr = line[i + 7..].split([',', ' ']).next().unwrap().to_string();
                    let _ = tx.send(addr);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("serve logs its start-up line with the address");
    let mut api = common::Api {
        base: format!("http://{addr}/api/v1"),
        http: common::http(),
        cookie: None,
    };
    // A write while serve runs: the WAL and its index exist now.
    let (s, body) = api.post("/lanes/main/scans", json!({"code": "C1"})).await;
    assert!(s.is_success(), "{body}");
    for path in [db.clone(), sibling(&db, "-wal"), sibling(&db, "-shm")] {
        assert_eq!(mode(&path), "600", "{} while serve runs", path.display());
    }
    assert_eq!(mode(db.parent().unwrap()), "700");

    // A wrong PIN is logged, the PIN itself never.
    let (s, _) = api.login("97531").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let logged = eventually(Duration::from_secs(10), "the wrong-PIN log line", || {
        let log = log.lock().unwrap().clone();
        async move { log.contains("wrong supervisor PIN").then_some(log) }
    })
    .await;
    assert!(
        !logged.contains("97531"),
        "the PIN is in the log:\n{logged}"
    );
    drop(daemon);

    let csv = dir.path().join("services.csv");
    let out = scanstation(&["export", "clienttrack-csv", "--config", config_arg, "--out"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&csv), "600", "export");
}

#[test]
fn check_config_refuses_tls_off_on_a_lan_address() {
    let dir = tempfile::tempdir().unwrap();
    for listen in ["192.168.1.20:8443", "0.0.0.0:8443"] {
        let (config, _) = station(dir.path(), |t| {
            t.replace(
                "listen = \"127.0.0.1:0\"",
                &format!("listen = \"{listen}\"\ntls = \"off\""),
            )
        });
        let out = check_config(&config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{listen}: {stderr}");
        assert!(stderr.contains("web.tls"), "{listen}: {stderr}");
    }
    // Off on loopback is fine (the kiosk), and auto on a LAN address means HTTPS.
    let (config, _) = station(dir.path(), |t| {
        t.replace("idle_lock", "tls = \"off\"\nidle_lock")
    });
    assert!(check_config(&config).status.success());
    let (config, _) = station(dir.path(), |t| {
        t.replace("listen = \"127.0.0.1:0\"", "listen = \"192.168.1.20:8443\"")
    });
    let out = check_config(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("HTTPS"), "{stdout}");
}

#[test]
fn check_config_warns_about_a_world_readable_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("upstream.token");
    std::fs::write(&token, "secret\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let upstream = format!(
        "[upstream]\nkind = \"http-json\"\nurl = \"https://hmis.example.org/v1\"\ntoken_file = \"{}\"\n",
        token.display()
    );
    let (config, _) = station(dir.path(), |t| format!("{t}\n{upstream}"));
    let out = check_config(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("warning") && stdout.contains("upstream.token") && stdout.contains("0644"),
        "{stdout}"
    );
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o640)).unwrap();
    let stdout = String::from_utf8_lossy(&check_config(&config).stdout).to_string();
    assert!(!stdout.contains("warning"), "{stdout}");
}
