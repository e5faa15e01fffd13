//! HUD HMIS CSV import against a real SQLite file, with the fixtures in tests/fixtures/hmis/.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use scanstation::import::{data_status, import_path, ImportError, ImportOptions, Mode};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hmis")
        .join(name)
}

fn open(dir: &tempfile::TempDir) -> Connection {
    scanstation::store::open_connection(&dir.path().join("station.db")).unwrap()
}

fn all() -> ImportOptions {
    ImportOptions::default()
}

/// Every row of the enrollment tables and the import's metadata, as text, for before/after
/// comparisons.
fn snapshot(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [
        ("import_meta", "key"),
        ("projects", "project_id"),
        ("clients", "personal_id"),
        ("enrollments", "enrollment_id"),
        ("exits", "exit_id"),
        ("hmis_services", "services_id"),
        ("hmis_deleted", "kind, id"),
    ] {
        let mut st = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut s = String::from(table);
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("|{v:?}"));
                }
                Ok(s)
            })
            .unwrap();
        for r in rows {
            out.push(r.unwrap());
        }
    }
    out
}

fn counts(conn: &Connection) -> (u64, u64, u64, u64) {
    let s = data_status(conn).unwrap();
    (s.projects, s.clients, s.enrollments, s.exits)
}

fn one(conn: &Connection, sql: &str, id: &str) -> Option<String> {
    use rusqlite::OptionalExtension;
    conn.query_row(sql, [id], |r| r.get::<_, Option<String>>(0))
        .optional()
        .unwrap()
        .flatten()
}

/// Copy a fixture folder into a temp folder so a test can change one file.
fn copy_fixture(name: &str, to: &Path) -> PathBuf {
    let dest = to.join(name);
    std::fs::create_dir_all(&dest).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dest.join(e.file_name())).unwrap();
    }
    dest
}

/// Replace the first occurrence of `from` in a file.
fn edit(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, s.replacen(from, to, 1)).unwrap();
}

#[test]
fn full_refresh_with_bom_crlf_upper_case_headers_and_both_date_orders() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    assert_eq!(rep.export_id, "EXP-1");
    assert_eq!(rep.export_date, "2024-05-01 06:30:00");
    assert_eq!(rep.directive, 2);
    assert_eq!(rep.mode, Mode::FullRefresh);
    let f = |n: &str| rep.file(n).unwrap().clone();
    assert_eq!((f("Project.csv").kept, f("Project.csv").deleted), (2, 1));
    assert_eq!(
        (
            f("Client.csv").read,
            f("Client.csv").kept,
            f("Client.csv").deleted
        ),
        (6, 5, 1)
    );
    assert_eq!(
        (f("Enrollment.csv").kept, f("Enrollment.csv").deleted),
        (6, 1)
    );
    assert_eq!((f("Exit.csv").kept, f("Exit.csv").deleted), (2, 1));
    assert_eq!(f("Organization.csv").kept, 1);
    assert!(rep
        .files
        .iter()
        .all(|f| f.skipped.is_empty() && f.warnings.is_empty()));
    // Services the HMIS already has: an m-d-yyyy DateProvided, a deleted one, a non-bed-night.
    assert_eq!((f("Services.csv").kept, f("Services.csv").deleted), (3, 1));
    assert_eq!(counts(&conn), (2, 5, 6, 2));
    assert_eq!(data_status(&conn).unwrap().hmis_services, 3);
    let night = |id: &str, day: &str| {
        scanstation::store::hmis::hmis_bed_night_on(
            &conn,
            id,
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        )
        .unwrap()
    };
    assert!(night("C006", "2024-02-10") && night("C006", "2024-02-11"));
    assert!(!night("C006", "2024-02-12"), "deleted in the HMIS");
    assert!(
        !night("C001", "2024-02-10"),
        "RecordType 144 is not a bed night"
    );

    let q = |sql: &str, id: &str| one(&conn, sql, id);
    // mm-dd-yyyy DOB, apostrophe in the last name.
    assert_eq!(
        q("SELECT dob FROM clients WHERE personal_id=?1", "C002").as_deref(),
        Some("1975-04-22")
    );
    assert_eq!(
        q(
            "SELECT last_initial FROM clients WHERE personal_id=?1",
            "C002"
        )
        .as_deref(),
        Some("O")
    );
    assert_eq!(
        q(
            "SELECT last_name_key FROM clients WHERE personal_id=?1",
            "C002"
        )
        .as_deref(),
        Some("obr")
    );
    // Quoted field with quotes inside; empty DOB is NULL.
    assert_eq!(
        q(
            "SELECT first_name FROM clients WHERE personal_id=?1",
            "C003"
        )
        .as_deref(),
        Some("Ana \"Annie\"")
    );
    assert_eq!(
        q("SELECT dob FROM clients WHERE personal_id=?1", "C003"),
        None
    );
    assert_eq!(
        q(
            "SELECT last_name_key FROM clients WHERE personal_id=?1",
            "C003"
        )
        .as_deref(),
        Some("del")
    );
    // DOB with a time, accented last name.
    assert_eq!(
        q("SELECT dob FROM clients WHERE personal_id=?1", "C005").as_deref(),
        Some("1990-07-01")
    );
    assert_eq!(
        q(
            "SELECT last_name_key FROM clients WHERE personal_id=?1",
            "C005"
        )
        .as_deref(),
        Some("her")
    );
    assert_eq!(
        q(
            "SELECT entry_date FROM enrollments WHERE enrollment_id=?1",
            "E02"
        )
        .as_deref(),
        Some("2024-02-01")
    );
    assert_eq!(
        q("SELECT exit_date FROM exits WHERE exit_id=?1", "X02").as_deref(),
        Some("2024-03-31")
    );
    assert_eq!(
        q(
            "SELECT household_id FROM enrollments WHERE enrollment_id=?1",
            "E06"
        ),
        None
    );
    assert_eq!(
        q("SELECT name FROM projects WHERE project_id=?1", "2002").as_deref(),
        Some("Night Shelter, Main St")
    );
    // Deleted rows are left out.
    assert_eq!(
        q(
            "SELECT personal_id FROM clients WHERE personal_id=?1",
            "C004"
        ),
        None
    );
    assert_eq!(
        q(
            "SELECT project_id FROM projects WHERE project_id=?1",
            "3003"
        ),
        None
    );
    assert_eq!(q("SELECT exit_id FROM exits WHERE exit_id=?1", "X03"), None);

    let st = data_status(&conn).unwrap();
    assert_eq!(st.export_id.as_deref(), Some("EXP-1"));
    assert_eq!(st.directive, Some(2));
    assert_eq!(st.imported_at.as_deref(), Some(rep.imported_at.as_str()));
    assert!(chrono::DateTime::parse_from_rfc3339(&rep.imported_at).is_ok());
    assert!(rep.imported_at.ends_with('Z'));
    assert!(st.source.unwrap().ends_with("basic"));

    let text = rep.to_string();
    assert!(text.contains("ExportDirective 2 (full refresh)"), "{text}");
    for file in ["Project.csv", "Client.csv", "Enrollment.csv", "Exit.csv"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(file)),
            "{text}"
        );
    }
}

#[test]
fn no_ssn_or_full_last_name_reaches_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(conn);
    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"Maria"), "the scan must find what it looks for");
    for secret in [
        &b"123456789"[..],
        b"987654321",
        b"Gonzalez",
        b"Washington",
        b"Brien",
    ] {
        assert!(!has(secret), "{} stored", String::from_utf8_lossy(secret));
    }
}

fn zip_dir(src: &Path, zip_path: &Path, prefix: &str, upper: bool) {
    let file = std::fs::File::create(zip_path).unwrap();
    let mut zw = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zw.add_directory(prefix, opts).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let mut name = e.file_name().to_string_lossy().into_owned();
        if upper {
            name = name.to_uppercase();
        }
        zw.start_file(format!("{prefix}/{name}"), opts).unwrap();
        zw.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
    }
    zw.finish().unwrap();
}

#[test]
fn fy2026_layout_in_a_zip_subfolder_with_upper_case_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    zip_dir(&fixture("fy2026"), &zip, "hmis_export_2025", true);
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &zip, &all()).unwrap();
    assert_eq!(rep.export_id, "EXP-26");
    assert!(
        rep.file("Organization.csv").is_none(),
        "optional file absent"
    );
    assert_eq!(counts(&conn), (1, 2, 2, 1));
    let q = |sql: &str, id: &str| one(&conn, sql, id);
    assert_eq!(
        q(
            "SELECT entry_date FROM enrollments WHERE enrollment_id=?1",
            "26E2"
        )
        .as_deref(),
        Some("2025-09-15")
    );
    assert_eq!(
        q(
            "SELECT personal_id FROM enrollments WHERE enrollment_id=?1",
            "26E2"
        )
        .as_deref(),
        Some("26B")
    );
    assert_eq!(
        q(
            "SELECT household_id FROM enrollments WHERE enrollment_id=?1",
            "26E1"
        )
        .as_deref(),
        Some("H1")
    );
    assert_eq!(
        q(
            "SELECT last_name_key FROM clients WHERE personal_id=?1",
            "26A"
        )
        .as_deref(),
        Some("mar")
    );
    assert_eq!(
        q("SELECT exit_date FROM exits WHERE exit_id=?1", "26X1").as_deref(),
        Some("2025-09-30")
    );

    // The same folder imports the same way.
    let dir2 = tempfile::tempdir().unwrap();
    let mut conn2 = open(&dir2);
    import_path(&mut conn2, &fixture("fy2026"), &all()).unwrap();
    let strip_meta = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|r| !r.starts_with("import_meta"))
            .collect()
    };
    assert_eq!(strip_meta(snapshot(&conn)), strip_meta(snapshot(&conn2)));
}

#[test]
fn delta_upserts_and_applies_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let rep = import_path(&mut conn, &fixture("delta"), &all()).unwrap();
    assert_eq!(rep.mode, Mode::Delta);
    assert_eq!(rep.directive, 1);
    assert!(rep.to_string().contains("ExportDirective 1 (delta)"));
    let f = |n: &str| rep.file(n).unwrap().clone();
    assert_eq!((f("Client.csv").kept, f("Client.csv").deleted), (2, 1));
    assert_eq!(
        (f("Enrollment.csv").kept, f("Enrollment.csv").deleted),
        (3, 1)
    );
    assert_eq!((f("Exit.csv").kept, f("Exit.csv").deleted), (1, 1));
    assert!(rep.files.iter().all(|f| f.skipped.is_empty()), "{rep}");

    let q = |sql: &str, id: &str| one(&conn, sql, id);
    // Updated client, deleted client, new client.
    assert_eq!(
        q(
            "SELECT first_name FROM clients WHERE personal_id=?1",
            "C002"
        )
        .as_deref(),
        Some("Jim")
    );
    assert_eq!(
        q(
            "SELECT personal_id FROM clients WHERE personal_id=?1",
            "C006"
        ),
        None
    );
    assert_eq!(
        q(
            "SELECT first_name FROM clients WHERE personal_id=?1",
            "C007"
        )
        .as_deref(),
        Some("Sofía")
    );
    // Deleted enrollment; updated one; E09 refers to a client only in the station.
    assert_eq!(
        q(
            "SELECT enrollment_id FROM enrollments WHERE enrollment_id=?1",
            "E02"
        ),
        None
    );
    assert_eq!(
        q(
            "SELECT entry_date FROM enrollments WHERE enrollment_id=?1",
            "E01"
        )
        .as_deref(),
        Some("2024-01-10")
    );
    assert_eq!(
        q(
            "SELECT personal_id FROM enrollments WHERE enrollment_id=?1",
            "E09"
        )
        .as_deref(),
        Some("C001")
    );
    // Deleted exit re-opens E05; new exit closes E01.
    assert_eq!(
        q("SELECT exit_id FROM exits WHERE enrollment_id=?1", "E05"),
        None
    );
    assert_eq!(
        q("SELECT exit_date FROM exits WHERE enrollment_id=?1", "E01").as_deref(),
        Some("2024-04-30")
    );
    // Untouched rows stay.
    assert_eq!(
        q("SELECT exit_date FROM exits WHERE exit_id=?1", "X01").as_deref(),
        Some("2023-12-31")
    );
    assert_eq!(counts(&conn), (2, 5, 7, 2));
    assert_eq!(
        data_status(&conn).unwrap().export_id.as_deref(),
        Some("EXP-2")
    );
}

#[test]
fn full_refresh_replaces_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let first = snapshot(&conn);
    import_path(&mut conn, &fixture("delta"), &all()).unwrap();
    assert_ne!(snapshot(&conn), first);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let strip = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|r| {
                !r.starts_with("import_meta|Text(\"imported_at\")")
                    && !r.starts_with("import_meta|Text(\"last_")
            })
            .collect()
    };
    assert_eq!(strip(snapshot(&conn)), strip(first));
    // The indexes dropped for the load are back.
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM hmis.sqlite_schema WHERE type='index' AND name IN
             ('clients_first','enrollments_client','enrollments_project','exits_enrollment')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn project_filter_keeps_listed_projects_and_all_clients() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let opts = ImportOptions {
        projects: vec!["1001".to_string()],
        ..Default::default()
    };
    let rep = import_path(&mut conn, &fixture("basic"), &opts).unwrap();
    let f = |n: &str| rep.file(n).unwrap().clone();
    assert_eq!((f("Project.csv").kept, f("Project.csv").filtered), (1, 1));
    assert_eq!(
        (f("Enrollment.csv").kept, f("Enrollment.csv").filtered),
        (4, 2)
    );
    assert_eq!((f("Exit.csv").kept, f("Exit.csv").filtered), (1, 1));
    assert!(rep.files.iter().all(|f| f.skipped.is_empty()), "{rep}");
    assert!(rep.to_string().contains("outside station projects"));
    // Keisha (C006) is only enrolled in 2002: still known, so a scan says no_open_enrollment.
    assert_eq!(counts(&conn), (1, 5, 4, 1));
    assert_eq!(
        one(
            &conn,
            "SELECT first_name FROM clients WHERE personal_id=?1",
            "C006"
        )
        .as_deref(),
        Some("Keisha")
    );
    assert_eq!(
        one(
            &conn,
            "SELECT project_id FROM enrollments WHERE project_id=?1",
            "2002"
        ),
        None
    );

    // A delta with the filter: E09 (project 2002) stays out.
    let rep = import_path(&mut conn, &fixture("delta"), &opts).unwrap();
    assert_eq!(rep.file("Enrollment.csv").unwrap().filtered, 1);
    assert_eq!(
        one(
            &conn,
            "SELECT enrollment_id FROM enrollments WHERE enrollment_id=?1",
            "E09"
        ),
        None
    );
    assert!(one(
        &conn,
        "SELECT enrollment_id FROM enrollments WHERE enrollment_id=?1",
        "E08"
    )
    .is_some());
}

#[test]
fn bad_date_names_file_line_column_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let before = snapshot(&conn);
    let bad = copy_fixture("basic", dir.path());
    edit(&bad.join("Enrollment.csv"), "03-10-2024", "2024-13-01");
    let err = import_path(&mut conn, &bad, &all()).unwrap_err();
    assert!(matches!(err, ImportError::Value { .. }));
    assert_eq!(
        err.to_string(),
        "Enrollment.csv:5:4 (EntryDate): expected a date yyyy-mm-dd or mm-dd-yyyy, found \"2024-13-01\""
    );
    assert_eq!(snapshot(&conn), before);

    // The same on a delta, where rows were already written before the bad one.
    let bad = copy_fixture("delta", &dir.path().join("d"));
    edit(&bad.join("Exit.csv"), "2024-04-30", "30/04/2024");
    let err = import_path(&mut conn, &bad, &all()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Exit.csv:3:4 (ExitDate): expected a date yyyy-mm-dd or mm-dd-yyyy, found \"30/04/2024\""
    );
    assert_eq!(snapshot(&conn), before);
}

#[test]
fn a_bad_dob_is_left_empty_with_a_warning_that_does_not_repeat_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let bad = copy_fixture("basic", dir.path());
    edit(&bad.join("Client.csv"), "1980-03-14", "1980-14-03");
    let rep = import_path(&mut conn, &bad, &all()).unwrap();
    let c = rep.file("Client.csv").unwrap();
    assert_eq!(c.kept, 5);
    assert_eq!(c.warnings[0].lines, vec![2]);
    assert!(c.warnings[0].reason.starts_with("DOB not a date"));
    let text = rep.to_string();
    assert!(!text.contains("1980"), "{text}");
    assert_eq!(
        one(
            &conn,
            "SELECT dob FROM clients WHERE personal_id=?1",
            "C001"
        ),
        None
    );
}

#[test]
fn structural_problems_refuse_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let before = snapshot(&conn);

    let no_export = copy_fixture("basic", &dir.path().join("a"));
    std::fs::remove_file(no_export.join("Export.csv")).unwrap();
    let err = import_path(&mut conn, &no_export, &all()).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::MissingFile {
                file: "Export.csv",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Export.csv is missing"), "{err}");

    let no_column = copy_fixture("basic", &dir.path().join("b"));
    edit(&no_column.join("Enrollment.csv"), "EntryDate", "StartDate");
    let err = import_path(&mut conn, &no_column, &all()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Enrollment.csv:1: missing required column EntryDate"
    );

    let twice = copy_fixture("basic", &dir.path().join("c"));
    edit(&twice.join("Exit.csv"), "Destination", "ExitDate");
    let err = import_path(&mut conn, &twice, &all()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Exit.csv:1: column ExitDate appears twice in the header (columns 4 and 5); \
         the station cannot tell which to read"
    );

    let bad_directive = copy_fixture("basic", &dir.path().join("d"));
    edit(&bad_directive.join("Export.csv"), ",3,2,1,", ",3,7,1,");
    let err = import_path(&mut conn, &bad_directive, &all())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Export.csv:2:17 (ExportDirective): expected ExportDirective 1"),
        "{err}"
    );

    let wrong_file = copy_fixture("basic", &dir.path().join("e"));
    std::fs::copy(
        wrong_file.join("Enrollment.csv"),
        wrong_file.join("Client.csv"),
    )
    .unwrap();
    let err = import_path(&mut conn, &wrong_file, &all()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Client.csv:1: missing required column FirstName"
    );

    let err = import_path(&mut conn, &dir.path().join("nowhere"), &all()).unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }));
    let not_zip = dir.path().join("x.zip");
    std::fs::write(&not_zip, b"not a zip").unwrap();
    let err = import_path(&mut conn, &not_zip, &all()).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a folder and not a readable .zip"),
        "{err}"
    );

    assert_eq!(snapshot(&conn), before);
}

#[test]
fn odd_rows_are_skipped_or_warned_and_reported_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &fixture("odd_rows"), &all()).unwrap();
    let f = |n: &str| rep.file(n).unwrap().clone();
    let reasons = |n: &str| -> Vec<(String, u64, Vec<u64>)> {
        f(n).skipped
            .into_iter()
            .map(|i| (i.reason, i.count, i.lines))
            .collect()
    };
    let warnings = |n: &str| -> Vec<(String, Vec<u64>)> {
        f(n).warnings
            .into_iter()
            .map(|i| (i.reason, i.lines))
            .collect()
    };
    // A primary key twice in one file is folded: same DateUpdated, so the later row wins.
    assert_eq!((f("Project.csv").kept, f("Project.csv").folded), (2, 1));
    assert_eq!(
        reasons("Project.csv"),
        vec![("missing ProjectID".into(), 1, vec![4])]
    );
    assert_eq!(
        warnings("Project.csv"),
        vec![("ProjectType not in HUD list 2.02.6 (kept)".into(), vec![5])]
    );
    assert_eq!((f("Client.csv").kept, f("Client.csv").folded), (2, 1));
    assert_eq!(
        reasons("Client.csv"),
        vec![("missing PersonalID".into(), 1, vec![3])]
    );
    assert_eq!(
        (f("Enrollment.csv").kept, f("Enrollment.csv").folded),
        (2, 1)
    );
    assert_eq!(
        reasons("Enrollment.csv"),
        vec![
            ("missing EntryDate".into(), 1, vec![3]),
            (
                "unknown PersonalID (not in Client.csv or skipped there)".into(),
                1,
                vec![4]
            ),
            (
                "unknown ProjectID (not in Project.csv or skipped there)".into(),
                1,
                vec![5]
            ),
            ("missing EnrollmentID".into(), 1, vec![8]),
        ]
    );
    assert_eq!(
        warnings("Enrollment.csv"),
        vec![(
            "RelationshipToHoH not in HUD list 3.15.1 (kept)".into(),
            vec![7]
        )]
    );
    assert_eq!((f("Exit.csv").kept, f("Exit.csv").folded), (2, 1));
    assert_eq!(
        reasons("Exit.csv"),
        vec![
            (
                "unknown EnrollmentID (not in Enrollment.csv or skipped there)".into(),
                1,
                vec![3]
            ),
            ("missing ExitDate".into(), 1, vec![4]),
        ]
    );
    assert_eq!(
        warnings("Exit.csv"),
        vec![(
            "ExitDate before EntryDate (kept: enrollment closed)".into(),
            vec![2]
        )]
    );
    for r in &rep.files {
        assert_eq!(
            r.read,
            r.kept + r.deleted + r.folded + r.older + r.filtered + r.skipped_total(),
            "{rep}"
        );
    }
    assert_eq!(counts(&conn), (2, 2, 2, 2));
    // The later of two rows with the same ID and DateUpdated is the one kept.
    assert_eq!(
        one(
            &conn,
            "SELECT name FROM projects WHERE project_id=?1",
            "1001"
        )
        .as_deref(),
        Some("Duplicate Of Hot Meals")
    );
    assert_eq!(
        one(
            &conn,
            "SELECT personal_id FROM enrollments WHERE enrollment_id=?1",
            "E01"
        )
        .as_deref(),
        Some("C002")
    );
    assert_eq!(
        one(
            &conn,
            "SELECT enrollment_id FROM exits WHERE exit_id=?1",
            "X01"
        )
        .as_deref(),
        Some("E05")
    );
    let text = rep.to_string();
    assert!(
        text.contains("skipped 1: missing EntryDate (line 3)"),
        "{text}"
    );
}

#[test]
fn a_name_that_is_not_utf8_is_kept_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let latin1 = copy_fixture("basic", dir.path());
    let path = latin1.join("Client.csv");
    let bytes = std::fs::read(&path).unwrap();
    let utf8 = "Hernández".as_bytes();
    let at = bytes.windows(utf8.len()).position(|w| w == utf8).unwrap();
    let mut changed = bytes[..at].to_vec();
    changed.extend_from_slice(b"Hern\xe1ndez");
    changed.extend_from_slice(&bytes[at + utf8.len()..]);
    std::fs::write(&path, changed).unwrap();
    let rep = import_path(&mut conn, &latin1, &all()).unwrap();
    let c = rep.file("Client.csv").unwrap();
    assert_eq!(c.kept, 5);
    assert_eq!(
        c.warnings[0].reason,
        "name not UTF-8 (stored with replacement characters)"
    );
    assert_eq!(c.warnings[0].lines, vec![6]);
    assert_eq!(
        one(
            &conn,
            "SELECT last_name_key FROM clients WHERE personal_id=?1",
            "C005"
        )
        .as_deref(),
        Some("her")
    );
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_skipped_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let short_row = copy_fixture("basic", dir.path());
    edit(&short_row.join("Exit.csv"), ",116,,", ",116,");
    let rep = import_path(&mut conn, &short_row, &all()).unwrap();
    let x = rep.file("Exit.csv").unwrap();
    assert_eq!(
        x.skipped,
        vec![scanstation::import::Issue {
            reason: "wrong number of fields (not as many as the header)".into(),
            count: 1,
            lines: vec![2],
        }]
    );
    assert_eq!((x.read, x.kept, x.deleted), (3, 1, 1));
    assert!(rep
        .to_string()
        .contains("skipped 1: wrong number of fields (not as many as the header) (line 2)"));
    assert_eq!(counts(&conn), (2, 5, 6, 1));
}

#[test]
fn several_export_rows_use_the_one_the_files_carry_and_disagreement_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let two = copy_fixture("basic", dir.path());
    let export = two.join("Export.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let older = lines[1]
        .replace("EXP-1", "EXP-0")
        .replace(",3,2,1,", ",3,1,1,");
    lines.insert(1, &older);
    std::fs::write(&export, lines.concat()).unwrap();
    let rep = import_path(&mut conn, &two, &all()).unwrap();
    assert_eq!((rep.export_id.as_str(), rep.export_rows), ("EXP-1", 2));
    assert_eq!(rep.directive, 2, "the directive of the row the files carry");
    assert!(rep.to_string().contains("Export.csv has 2 rows"), "{rep}");
    let before = snapshot(&conn);

    edit(&two.join("Client.csv"), ",u1,,EXP-1", ",u1,,EXP-0");
    let err = import_path(&mut conn, &two, &all()).unwrap_err();
    assert!(matches!(err, ImportError::ExportIdMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "Client.csv:2:27 (ExportID): carries ExportID \"EXP-0\", but Organization.csv:2 carries \
         \"EXP-1\"; the files are not from one export"
    );
    assert_eq!(snapshot(&conn), before);
}

#[test]
fn a_delta_may_leave_files_out_or_send_only_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let delta = dir.path().join("delta");
    std::fs::create_dir_all(&delta).unwrap();
    std::fs::copy(
        fixture("delta").join("Export.csv"),
        delta.join("Export.csv"),
    )
    .unwrap();
    let header = std::fs::read_to_string(fixture("delta").join("Client.csv")).unwrap();
    std::fs::write(delta.join("Client.csv"), header.lines().next().unwrap()).unwrap();
    std::fs::write(delta.join("Enrollment.csv"), "").unwrap();
    let rep = import_path(&mut conn, &delta, &all()).unwrap();
    assert_eq!(rep.mode, Mode::Delta);
    assert_eq!(rep.file("Client.csv").unwrap().read, 0);
    assert_eq!(rep.file("Enrollment.csv").unwrap().read, 0);
    assert!(rep.file("Exit.csv").is_none());
    assert_eq!(counts(&conn), (2, 5, 6, 2));
    let st = data_status(&conn).unwrap();
    assert_eq!(st.export_id.as_deref(), Some("EXP-2"));
    assert_eq!(st.csv_version.as_deref(), Some("2024 v1.3"));
    assert_eq!(st.hash_status, Some(1));
    assert_eq!(st.hmis_services, 3, "Services.csv absent: unchanged");
}

#[test]
fn a_delta_row_older_than_the_station_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    import_path(&mut conn, &fixture("basic"), &all()).unwrap();
    let delta = copy_fixture("delta", dir.path());
    // C002's update (Jim) is now from 2023: the station's James (2024-01-02) is newer.
    edit(
        &delta.join("Client.csv"),
        "C002,Jim,,O'Brien,,1,,1,04-22-1975,1,0,0,1,0,0,0,0,,1,0,0,0,2024-01-02 09:00:00,2024-01-02 09:00:00",
        "C002,Jim,,O'Brien,,1,,1,04-22-1975,1,0,0,1,0,0,0,0,,1,0,0,0,2023-01-02 09:00:00,2023-01-02 09:00:00",
    );
    let rep = import_path(&mut conn, &delta, &all()).unwrap();
    assert_eq!(rep.file("Client.csv").unwrap().older, 1, "{rep}");
    assert_eq!(
        one(
            &conn,
            "SELECT first_name FROM clients WHERE personal_id=?1",
            "C002"
        )
        .as_deref(),
        Some("James")
    );
    assert_eq!(data_status(&conn).unwrap().last_import.unwrap().older, 1);
}

#[test]
fn a_name_that_looks_like_a_hash_is_never_stored_even_in_an_unhashed_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let odd = copy_fixture("basic", dir.path());
    edit(
        &odd.join("Client.csv"),
        "C001,Maria,",
        "C001,2cb30d5ef678412db20875ccf25c63ff,",
    );
    let rep = import_path(&mut conn, &odd, &all()).unwrap();
    let c = rep.file("Client.csv").unwrap();
    assert_eq!(c.kept, 5);
    assert_eq!(c.warnings[0].reason, "name looks like a hash (not stored)");
    assert_eq!(c.warnings[0].lines, vec![2]);
    assert_eq!(
        one(
            &conn,
            "SELECT first_name || last_initial || last_name_key FROM clients WHERE personal_id=?1",
            "C001"
        )
        .as_deref(),
        Some("")
    );
    let hits = scanstation::store::clients::search(&conn, "C001", None).unwrap();
    assert_eq!(hits[0].display_name, "Client C001");
    // An unhashed export: name search still works for the others.
    let hits = scanstation::store::clients::search(&conn, "jam o", None).unwrap();
    assert_eq!(hits[0].display_name, "James O.");
}
