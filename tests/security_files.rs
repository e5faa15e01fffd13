//! Client data at rest and the config's security checks (issue 13), with the real binary:
//! `import`, `serve` and `export` under umask 022 leave the state folder 0700 and the database,
//! its `-wal`/`-shm` and exports 0600; `serve` logs wrong PINs without the PIN; `check-config`
//! refuses `tls = "off"` on a LAN address and warns about a world-readable token file.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use common::bin::{check_config, scanstation_umask_022, Daemon};
use common::{eventually, fixture, Api, StationConfig};

/// `scanstation ARGS` with umask 022, as IT would run it from a login shell.
fn scanstation(args: &[&str]) -> Command {
    scanstation_umask_022(args)
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

/// A station config in `dir` whose database is in the not yet existing `dir/state`; `edit`
/// changes it (more `[web]` keys, an `[upstream]` table).
fn station(dir: &Path, edit: impl FnOnce(StationConfig) -> StationConfig) -> (PathBuf, PathBuf) {
    let config = edit(StationConfig::new(dir).database_in(&dir.join("state")));
    (config.write(), config.database())
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

    let daemon = Daemon::start(scanstation(&["serve", "--config", config_arg]));
    let mut api = Api::new(&daemon.base());
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
        let log = daemon.log();
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
        let (config, _) = station(dir.path(), |c| c.listen(listen).web("tls = \"off\""));
        let out = check_config(&config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{listen}: {stderr}");
        assert!(stderr.contains("web.tls"), "{listen}: {stderr}");
    }
    // Off on loopback is fine (the kiosk), and auto on a LAN address means HTTPS.
    let (config, _) = station(dir.path(), |c| c.web("tls = \"off\""));
    assert!(check_config(&config).status.success());
    let (config, _) = station(dir.path(), |c| c.listen("192.168.1.20:8443"));
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
        "kind = \"http-json\"\nurl = \"https://hmis.example.org/v1\"\ntoken_file = \"{}\"\n",
        token.display()
    );
    let (config, _) = station(dir.path(), |c| c.upstream(&upstream));
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
