//! The config file of a test station, built in one place.
//!
//! Every station starts from the same text: station `test-1` in America/Chicago, the database
//! `station.db` in the station's folder, the web server on 127.0.0.1:0 with a 120 s idle lock,
//! two supervisors (Maria, [`PIN`], HMIS user BS7; Ana, [`OTHER_PIN`]) and two services (484 Hot
//! Meals, one unit of 0.00; 200 Bed Night, a HUD bed night). The builder changes what a test
//! needs: the station id, the idle lock, the database's folder, `web.listen` and more `[web]` keys
//! (`tls`, ...), serial scanners, an `[upstream]` table, more tables.

use std::path::{Path, PathBuf};

use super::lib::{self, Settings};
use super::pin::{pin_hash, OTHER_PIN, PIN};

/// The config of a test station whose files live in `dir`.
#[derive(Debug, Clone)]
pub struct StationConfig {
    dir: PathBuf,
    database_dir: Option<PathBuf>,
    station_id: String,
    listen: String,
    idle_lock_seconds: u64,
    web: String,
    scanners: Vec<String>,
    upstream: Option<String>,
    extra: String,
}

impl StationConfig {
    pub fn new(dir: &Path) -> StationConfig {
        StationConfig {
            dir: dir.to_path_buf(),
            database_dir: None,
            station_id: "test-1".into(),
            listen: "127.0.0.1:0".into(),
            idle_lock_seconds: 120,
            web: String::new(),
            scanners: Vec::new(),
            upstream: None,
            extra: String::new(),
        }
    }

    pub fn station_id(mut self, id: &str) -> Self {
        self.station_id = id.into();
        self
    }

    /// The database (and so the state folder: the self-signed certificate goes there too) in
    /// `dir` instead of the station's folder; the daemon makes `dir` when it is missing.
    pub fn database_in(mut self, dir: &Path) -> Self {
        self.database_dir = Some(dir.to_path_buf());
        self
    }

    /// `web.listen` (default `127.0.0.1:0`). Only configs that are checked, never served, listen
    /// elsewhere than loopback (tests talk to loopback only).
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.into();
        self
    }

    /// More keys of the `[web]` table, e.g. `tls = "on"` (lines of TOML).
    pub fn web(mut self, keys: &str) -> Self {
        self.web.push_str(keys);
        self.web.push('\n');
        self
    }

    /// `web.idle_lock_seconds` (default 120).
    pub fn idle_lock(mut self, seconds: u64) -> Self {
        self.idle_lock_seconds = seconds;
        self
    }

    /// A `[[scanner]]` of kind serial at `path` feeding `lane`; `keys` are more lines of its
    /// table (e.g. `terminator = "CR"`).
    pub fn serial_scanner(mut self, path: &Path, lane: &str, keys: &str) -> Self {
        self.scanners.push(format!(
            "[[scanner]]\nkind = \"serial\"\npath = \"{}\"\nlane = \"{lane}\"\n{keys}\n",
            path.display()
        ));
        self
    }

    /// The body of the `[upstream]` table.
    pub fn upstream(mut self, body: &str) -> Self {
        self.upstream = Some(body.into());
        self
    }

    /// More TOML, appended after everything else (whole tables, e.g. `[hmis]`).
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self.extra.push('\n');
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The station's SQLite file.
    pub fn database(&self) -> PathBuf {
        self.database_dir
            .as_deref()
            .unwrap_or(&self.dir)
            .join("station.db")
    }

    /// Where [`StationConfig::write`] puts the file.
    pub fn path(&self) -> PathBuf {
        self.dir.join("scanstation.toml")
    }

    pub fn text(&self) -> String {
        let mut t = format!(
            r#"
[station]
id = "{id}"
timezone = "America/Chicago"
[storage]
database = "{db}"
[web]
listen = "{listen}"
idle_lock_seconds = {idle}
{web}[[supervisor]]
name = "Maria"
pin_hash = "{h1}"
hmis_user_id = "BS7"
[[supervisor]]
name = "Ana"
pin_hash = "{h2}"
[[service]]
code = "484"
name = "Hot Meals"
unit = "count"
units = 1
unit_value = "0.00"
[[service]]
code = "200"
name = "Bed Night"
unit = "count"
hud_record_type = 200
hud_type_provided = 200
"#,
            id = self.station_id,
            db = self.database().display(),
            listen = self.listen,
            idle = self.idle_lock_seconds,
            web = self.web,
            h1 = pin_hash(PIN),
            h2 = pin_hash(OTHER_PIN),
        );
        for s in &self.scanners {
            t.push_str(s);
        }
        if let Some(u) = &self.upstream {
            t.push_str("[upstream]\n");
            t.push_str(u);
            t.push('\n');
        }
        t.push_str(&self.extra);
        t
    }

    /// Write the config file into the station's folder; returns its path.
    pub fn write(&self) -> PathBuf {
        let path = self.path();
        std::fs::write(&path, self.text()).expect("write the test config");
        path
    }

    /// The checked settings, as the daemon reads them.
    pub fn settings(&self) -> Settings {
        lib::settings(&self.text())
    }
}
