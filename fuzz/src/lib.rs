//! Helpers shared by the fuzz targets (docs/FUZZING.md). Every target calls the station's own
//! code (the `scanstation` library); what lives here only sets the stage: a store with the
//! project's fixture export in it, and a digest of every table to check that a refused import
//! changed nothing.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use scanstation::import::{import_path, ImportError, ImportOptions};

/// The export every import target starts from: `tests/fixtures/hmis/basic`, the project's own
/// small synthetic export with all seven files the station reads.
pub const BASE_EXPORT: [(&str, &[u8]); 7] = [
    (
        "Export.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Export.csv"),
    ),
    (
        "Organization.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Organization.csv"),
    ),
    (
        "Project.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Project.csv"),
    ),
    (
        "Client.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Client.csv"),
    ),
    (
        "Enrollment.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Enrollment.csv"),
    ),
    (
        "Exit.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Exit.csv"),
    ),
    (
        "Services.csv",
        include_bytes!("../../tests/fixtures/hmis/basic/Services.csv"),
    ),
];

/// A temp folder on tmpfs when there is one (the fuzzer writes a file per input).
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("a temp folder")
}

/// A station database with the base export imported, and a folder to write inputs into.
pub struct ImportBench {
    pub dir: tempfile::TempDir,
    pub conn: Connection,
    export_dir: PathBuf,
}

impl ImportBench {
    pub fn new() -> ImportBench {
        let dir = scratch_dir();
        let conn = scanstation::store::open_connection(&dir.path().join("station.db"))
            .expect("the station database opens");
        let export_dir = dir.path().join("export");
        std::fs::create_dir(&export_dir).expect("export folder");
        let mut bench = ImportBench {
            dir,
            conn,
            export_dir,
        };
        bench.write_export(None);
        let dir = bench.export_dir.clone();
        import_path(&mut bench.conn, &dir, &ImportOptions::default())
            .expect("the base export imports");
        bench
    }

    /// Write the base export, with `replace` = (file name, bytes) instead of that file.
    fn write_export(&self, replace: Option<(&str, &[u8])>) {
        for (name, bytes) in BASE_EXPORT {
            let bytes = match replace {
                Some((n, b)) if n == name => b,
                _ => bytes,
            };
            std::fs::write(self.export_dir.join(name), bytes).expect("write an export file");
        }
    }

    /// Import the base export with `file` replaced by `bytes`; checks that a refused import
    /// left every table as it was.
    pub fn import_with(&mut self, file: &str, bytes: &[u8]) {
        self.write_export(Some((file, bytes)));
        let dir = self.export_dir.clone();
        self.import_checked(&dir);
    }

    /// Import `bytes` as a .zip export; checks that a refused import changed nothing.
    pub fn import_zip(&mut self, bytes: &[u8]) {
        let path = self.dir.path().join("export.zip");
        std::fs::write(&path, bytes).expect("write the zip");
        self.import_checked(&path);
    }

    fn import_checked(&mut self, path: &Path) {
        let before = digest(&self.conn);
        match import_path(&mut self.conn, path, &ImportOptions::default()) {
            Ok(_) => {}
            Err(e) => {
                check_error_names_place(&e);
                let after = digest(&self.conn);
                assert!(before == after, "a refused import changed the store: {e}");
            }
        }
    }
}

impl Default for ImportBench {
    fn default() -> Self {
        ImportBench::new()
    }
}

/// An error message is one a person can act on: never empty.
fn check_error_names_place(e: &ImportError) {
    assert!(
        !e.to_string().trim().is_empty(),
        "empty import error: {e:?}"
    );
}

/// Every row of every table, as text (small stores only: the fuzz bench's): the main file's and
/// the enrollment snapshot's (attached as `hmis`).
pub fn digest(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for schema in ["main", "hmis"] {
        let mut tables = conn
            .prepare(&format!(
                "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
            ))
            .expect("list tables");
        let names: Vec<String> = tables
            .query_map([], |r| r.get(0))
            .expect("list tables")
            .collect::<Result<_, _>>()
            .expect("table names");
        for name in names {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {schema}.\"{name}\" ORDER BY rowid"))
                .or_else(|_| conn.prepare(&format!("SELECT * FROM {schema}.\"{name}\"")))
                .expect("read a table");
            let cols = stmt.column_count();
            let mut rows = stmt.query([]).expect("read rows");
            while let Some(row) = rows.next().expect("a row") {
                let mut line = format!("{schema}.{name}:");
                for i in 0..cols {
                    let v = match row.get_ref(i).expect("a value") {
                        ValueRef::Null => "NULL".to_string(),
                        ValueRef::Integer(n) => n.to_string(),
                        ValueRef::Real(f) => f.to_string(),
                        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
                        ValueRef::Blob(b) => format!("{b:?}"),
                    };
                    line.push_str(&v);
                    line.push('|');
                }
                out.push(line);
            }
        }
    }
    out
}

/// The settings the export and web targets use: a station with two services (one a HUD bed
/// night) and, with a PIN hash, one supervisor, its database in `dir`.
pub fn settings(dir: &Path, pin_hash: Option<&str>) -> scanstation::config::Settings {
    let supervisor = match pin_hash {
        Some(h) => format!(
            "[[supervisor]]\nname = \"Maria\"\npin_hash = \"{h}\"\nhmis_user_id = \"BS7\"\n"
        ),
        None => String::new(),
    };
    let text = format!(
        r#"[station]
id = "fuzz-1"
timezone = "America/Chicago"
[storage]
database = "{db}"
[web]
listen = "127.0.0.1:0"
{supervisor}[hmis]
max_backdate_days = 14
[[service]]
code = "484"
name = "Hot Meals"
[[service]]
code = "200"
name = "Bed Night"
hud_record_type = 200
hud_type_provided = 200
[upstream]
region_id = "R1"
org_id = "O1"
"#,
        db = dir.join("station.db").display()
    );
    scanstation::config::Config::parse(&text, Path::new("fuzz.toml"))
        .expect("fuzz config parses")
        .check()
        .expect("fuzz config is valid")
}

/// The settings of the export targets (no supervisor), made once per process.
pub fn export_settings() -> &'static scanstation::config::Settings {
    static S: std::sync::OnceLock<(tempfile::TempDir, scanstation::config::Settings)> =
        std::sync::OnceLock::new();
    &S.get_or_init(|| {
        let dir = scratch_dir();
        let s = settings(dir.path(), None);
        (dir, s)
    })
    .1
}

/// A posted service as the store would hand it to an export, made from fuzz input.
#[derive(Debug, arbitrary::Arbitrary)]
pub struct FuzzService {
    pub id: String,
    pub personal_id: String,
    pub enrollment_id: String,
    pub service_code: String,
    /// Days from 2000-01-01 (service dates are real dates: they were checked when the batch was
    /// made).
    pub day: u16,
    pub unit: u8,
    /// Units in hundredths (a batch's units are a checked, finite number).
    pub units_hundredths: u32,
    pub unit_value_cents: u32,
    pub hud: Option<(u16, u16)>,
    pub posted_by: String,
    pub posted_by_user_id: Option<String>,
    /// Seconds since 2000-01-01 UTC, or a stored text that may not parse.
    pub posted_at: Result<u32, String>,
}

impl FuzzService {
    /// The posted service, all of project `project`.
    pub fn posted(&self, project: &str) -> scanstation::store::outbox::PostedService {
        let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
        let date = epoch + chrono::Days::new(u64::from(self.day));
        let unit = ["count", "dollars", "minutes", "hours"][usize::from(self.unit % 4)];
        let posted_at = match &self.posted_at {
            Ok(secs) => (epoch.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
                + chrono::Duration::seconds(i64::from(*secs)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            Err(text) => text.clone(),
        };
        scanstation::store::outbox::PostedService {
            id: self.id.clone(),
            batch_id: "b1".into(),
            personal_id: self.personal_id.clone(),
            enrollment_id: self.enrollment_id.clone(),
            project_id: project.into(),
            service_code: self.service_code.clone(),
            date_provided: date.format("%Y-%m-%d").to_string(),
            unit: unit.into(),
            units: f64::from(self.units_hundredths) / 100.0,
            unit_value: format!(
                "{}.{:02}",
                self.unit_value_cents / 100,
                self.unit_value_cents % 100
            ),
            hud_record_type: self.hud.map(|h| u32::from(h.0)),
            hud_type_provided: self.hud.map(|h| u32::from(h.1)),
            posted_by: self.posted_by.clone(),
            posted_by_user_id: self.posted_by_user_id.clone(),
            posted_at,
        }
    }
}
