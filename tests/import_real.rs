//! Real HMIS exports nobody on the project wrote, through the real import into a real SQLite file:
//! every folder and zip under `../shared/testdata/hmis-csv` (see its PROVENANCE.md for what the
//! source projects' own tests assert, asserted here too), and the greenriver importer's fixtures,
//! copied into tests/fixtures/greenriver so that those run without the shared data.
//!
//! The shared data is found beside the crate (`CARGO_MANIFEST_DIR/../shared/testdata`); when it
//! is absent a test says so and skips, except under `CI=true`, where it fails.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension};
use scanstation::import::{data_status, import_path, ImportError, ImportOptions, Mode};

/// A batch of `service_code` on `date` in `project`, as the application layer would ask the store.
fn new_batch(
    project: &str,
    service_code: &str,
    date: NaiveDate,
) -> scanstation::store::batches::NewBatch {
    scanstation::store::batches::NewBatch {
        project_id: project.to_string(),
        service_code: service_code.to_string(),
        service_name: "Test service".into(),
        service_date: date,
        units: 1.0,
        unit_value: scanstation::domain::money::Money::zero(),
        name: None,
        lane: None,
        created_by: Some("test".into()),
    }
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/hmis-csv")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing: under CI=true the shared test data must be present",
            p.display()
        );
    }
    eprintln!("note: {} absent, skipping", p.display());
    None
}

fn greenriver(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/greenriver")
        .join(case)
}

fn open(dir: &tempfile::TempDir) -> Connection {
    scanstation::store::open_connection(&dir.path().join("station.db")).unwrap()
}

fn all() -> ImportOptions {
    ImportOptions::default()
}

fn one(conn: &Connection, sql: &str, id: &str) -> Option<String> {
    conn.query_row(sql, [id], |r| r.get::<_, Option<String>>(0))
        .optional()
        .unwrap()
        .flatten()
}

fn count(conn: &Connection, sql: &str) -> u64 {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

/// (projects, clients, enrollments, exits, HMIS services).
fn counts(conn: &Connection) -> (u64, u64, u64, u64, u64) {
    let s = data_status(conn).unwrap();
    (
        s.projects,
        s.clients,
        s.enrollments,
        s.exits,
        s.hmis_services,
    )
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

// ---- the shared data -------------------------------------------------------------------------

#[test]
fn hud_datalab_test_kits_fy2024_and_fy2026() {
    for name in ["fy2024_datalab_testkit", "fy2026_datalab_testkit_converted"] {
        let Some(path) = shared(name) else { continue };
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir);
        let rep = import_path(&mut conn, &path, &all()).unwrap();
        assert_eq!(
            rep.export_date, "2023-02-07 12:00:00",
            "mm-dd-yyyy ExportDate"
        );
        assert_eq!(rep.directive, 2);
        let (_, clients, enrollments, exits, services) = counts(&conn);
        assert_eq!(
            (clients, enrollments, exits, services),
            (514, 574, 447, 6385),
            "{name}: {rep}"
        );
        assert!(
            rep.files.iter().all(|f| f.skipped.is_empty()),
            "{name}: {rep}"
        );
        // 81 bed nights fall on the enrollment's ExitDate: all kept, all bed nights.
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM hmis_services s JOIN exits x ON x.enrollment_id = s.enrollment_id
                  WHERE s.date_provided = x.exit_date"
            ),
            81,
            "{name}"
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM hmis_services WHERE record_type <> 200"
            ),
            0
        );
        // The kit says HashStatus 3 (hashed) although its synthetic names are plain: the station
        // follows HashStatus (no name stored) and says, once per file, that they did not look
        // hashed.
        assert_eq!(rep.hash_status, Some(3));
        assert_eq!(rep.notes.len(), 1, "{rep}");
        let w = &rep.file("Client.csv").unwrap().warnings;
        assert_eq!(w.len(), 1, "{rep}");
        assert_eq!(w[0].count, 514);
        assert!(w[0].reason.contains("fix its HashStatus"), "{rep}");
        assert_eq!(
            count(&conn, "SELECT count(*) FROM clients WHERE first_name <> ''"),
            0
        );
    }
}

#[test]
fn hud_enrollment_test_files_directive_3_is_a_full_refresh() {
    let Some(path) = shared("fy2024_enrollment_test_files") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let basic = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis/basic");
    import_path(&mut conn, &basic, &all()).unwrap();
    let rep = import_path(&mut conn, &path, &all()).unwrap();
    assert_eq!(rep.directive, 3);
    assert_eq!(rep.mode, Mode::FullRefresh);
    assert!(rep
        .to_string()
        .contains("ExportDirective 3 (other), treated as a full refresh"));
    assert_eq!(
        counts(&conn),
        (1, 3, 4, 1, 18),
        "basic's rows replaced: {rep}"
    );
}

#[test]
fn hud_validation_files_import_with_bad_rows_skipped() {
    let Some(path) = shared("fy2024_validation_files") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &path, &all()).unwrap();
    let f = |n: &str| rep.file(n).unwrap().clone();
    // Projects: VALID, VALIDATION, ERROR, RRHSSO, RRHHOUSING; a second "VALID" is folded.
    assert_eq!((f("Project.csv").kept, f("Project.csv").folded), (5, 1));
    // Clients: the one without a PersonalID is skipped.
    assert_eq!(f("Client.csv").kept, 4);
    assert_eq!(f("Client.csv").skipped[0].reason, "missing PersonalID");
    // Enrollments: ERROR (no PersonalID) and the second VALID (unknown project FAILURE) skipped.
    let e = f("Enrollment.csv");
    assert_eq!((e.read, e.kept, e.skipped_total()), (8, 6, 2), "{rep}");
    // Exits: the exit before entry is kept with a warning.
    let x = f("Exit.csv");
    assert!(
        x.warnings
            .iter()
            .any(|w| w.reason.starts_with("ExitDate before EntryDate")),
        "{rep}"
    );
    assert_eq!((x.read, x.kept), (8, 5), "{rep}");
    for r in &rep.files {
        assert_eq!(
            r.read,
            r.kept + r.deleted + r.folded + r.older + r.filtered + r.skipped_total(),
            "{rep}"
        );
    }
}

/// The rows of one CSV file inside a zip, as maps from header name to value.
fn zip_csv(zip: &Path, file: &str) -> Vec<HashMap<String, String>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let name = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .find(|n| n.rsplit('/').next() == Some(file))
        .unwrap();
    let mut text = String::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn lsa_sample_picks_the_export_row_the_files_carry_and_bed_nights_in_the_hmis_are_duplicates() {
    let Some(zip) = shared("lsa_sample_fy2026/sample_hmis_data.zip") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &zip, &all()).unwrap();
    eprintln!("{rep}");
    assert_eq!(rep.export_rows, 10);
    assert_eq!(rep.export_id, "LSAv8TestAug192026");
    assert_eq!(rep.export_date, "2026-08-19 20:26:50");
    assert_eq!((rep.directive, rep.mode), (2, Mode::FullRefresh));
    assert_eq!(rep.csv_version, "2026 v1.0");
    assert_eq!(rep.hash_status, Some(1));
    assert!(rep.to_string().contains("Export.csv has 10 rows"), "{rep}");
    let (_, clients, enrollments, exits, services) = counts(&conn);
    assert_eq!(
        (clients, enrollments, exits, services),
        (10_606, 16_494, 14_627, 19_012)
    );
    assert!(
        rep.files.iter().all(|f| f.skipped.is_empty()),
        "nothing skipped: {rep}"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM clients WHERE dob IS NULL"),
        17
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM enrollments e
              WHERE NOT EXISTS (SELECT 1 FROM exits x WHERE x.enrollment_id = e.enrollment_id)"
        ),
        1_867,
        "enrollments still open"
    );
    let st = data_status(&conn).unwrap();
    assert_eq!(st.export_id.as_deref(), Some("LSAv8TestAug192026"));
    assert_eq!(st.csv_version.as_deref(), Some("2026 v1.0"));
    assert_eq!(st.last_import.unwrap().kept, rep.totals().kept);

    // An independent reading of the CSVs: bed nights per date, enrollments and exits.
    let services = zip_csv(&zip, "Services.csv");
    let mut nights: HashMap<String, HashSet<String>> = HashMap::new();
    let mut by_project: HashMap<(String, String), usize> = HashMap::new();
    let enrollment_rows = zip_csv(&zip, "Enrollment.csv");
    let project_of: HashMap<&str, &str> = enrollment_rows
        .iter()
        .map(|e| (e["EnrollmentID"].as_str(), e["ProjectID"].as_str()))
        .collect();
    for s in &services {
        assert_eq!(s["RecordType"], "200", "all bed nights");
        if !s["DateDeleted"].is_empty() {
            continue;
        }
        nights
            .entry(s["DateProvided"].clone())
            .or_default()
            .insert(s["PersonalID"].clone());
        let p = project_of[s["EnrollmentID"].as_str()].to_string();
        *by_project
            .entry((s["DateProvided"].clone(), p))
            .or_default() += 1;
    }
    // The busiest night, in its busiest shelter.
    let (day, project) = by_project
        .iter()
        .max_by_key(|((day, p), n)| (**n, day.clone(), p.clone()))
        .map(|((day, p), _)| (day.clone(), p.clone()))
        .unwrap();
    let date = d(&day);
    let exit_of: HashMap<String, String> = zip_csv(&zip, "Exit.csv")
        .into_iter()
        .filter(|x| x["DateDeleted"].is_empty())
        .map(|x| (x["EnrollmentID"].clone(), x["ExitDate"].clone()))
        .collect();
    let open_here: HashSet<String> = enrollment_rows
        .iter()
        .filter(|e| e["ProjectID"] == project && e["DateDeleted"].is_empty())
        .filter(|e| d(&e["EntryDate"]) <= date)
        .filter(|e| match exit_of.get(&e["EnrollmentID"]) {
            None => true,
            Some(x) => date < d(x),
        })
        .map(|e| e["PersonalID"].clone())
        .collect();
    let slept: &HashSet<String> = &nights[&day];
    // Everyone with a bed night that night, everyone enrolled here, and 40 others.
    let mut scan: Vec<String> = slept.iter().chain(open_here.iter()).cloned().collect();
    scan.extend(
        zip_csv(&zip, "Client.csv")
            .into_iter()
            .map(|c| c["PersonalID"].clone())
            .filter(|c| !slept.contains(c) && !open_here.contains(c))
            .take(40),
    );
    scan.sort();
    scan.dedup();

    let settings = common::config::StationConfig::new(dir.path()).settings();
    let batch =
        scanstation::store::batches::create_batch(&mut conn, new_batch(&project, "200", date))
            .unwrap();
    let mut seen = HashMap::<&str, usize>::new();
    for client in &scan {
        let (entry, _) = scanstation::store::batches::add_entry(
            &mut conn,
            &settings.policy,
            &batch.id,
            scanstation::store::batches::EntryInput::ClientId(client.clone()),
            "manual",
        )
        .unwrap();
        let want = if slept.contains(client) {
            "duplicate"
        } else if open_here.contains(client) {
            "ok"
        } else {
            "no_open_enrollment"
        };
        assert_eq!(
            entry.verdict.as_str(),
            want,
            "{client} on {day} in {project}"
        );
        if want == "duplicate" {
            assert_eq!(entry.reason.as_deref(), Some("service_day"));
            assert_eq!(entry.reason_detail.as_deref(), Some("hmis"));
        } else {
            assert_eq!((entry.reason, entry.reason_detail), (None, None));
        }
        *seen.entry(want).or_default() += 1;
    }
    eprintln!("LSA sample, {day} in {project}: {seen:?}");
    assert!(
        seen["duplicate"] > 10 && seen["no_open_enrollment"] >= 40,
        "{seen:?}"
    );
}

#[test]
fn eva_demo_hashed_names_are_never_shown_and_name_search_says_so() {
    let Some(zip) = shared("eva_demo_fy2026/demo.zip") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &zip, &all()).unwrap();
    eprintln!("{rep}");
    assert_eq!(rep.hash_status, Some(4));
    assert_eq!(rep.csv_version, "2026 v1");
    assert_eq!(rep.notes.len(), 1, "the report warns once");
    assert!(rep.notes[0].contains("hashes"), "{rep}");
    let (_, clients, enrollments, exits, services) = counts(&conn);
    assert_eq!(
        (clients, enrollments, exits, services),
        (4_146, 4_771, 4_295, 4_472),
        "{rep}"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM clients WHERE first_name <> '' OR last_initial <> ''
                OR last_name_key <> ''"
        ),
        0,
        "no hash stored as a name"
    );
    // Client.DateUpdated is a quoted dd-mm-yy; Enrollment.DateUpdated a date alone.
    assert_eq!(
        one(
            &conn,
            "SELECT date_updated FROM clients WHERE personal_id = ?1",
            "2615"
        )
        .as_deref(),
        Some("2021-11-03")
    );
    assert_eq!(
        one(
            &conn,
            "SELECT date_updated FROM clients WHERE personal_id = ?1",
            "2616"
        )
        .as_deref(),
        Some("2019-06-13")
    );
    assert_eq!(
        one(
            &conn,
            "SELECT date_updated FROM enrollments WHERE enrollment_id = ?1",
            "278060"
        )
        .as_deref(),
        Some("2021-05-03")
    );
    // Name search cannot work on hashes and says so; DOB and client ID search still work.
    use scanstation::store::clients::search;
    // The station's lost-card search (the application layer) says why a name finds nobody.
    let app = common::lib::open_app(common::config::StationConfig::new(dir.path()).settings());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(app.search_clients("2cb3", None)).unwrap_err();
    assert_eq!(err.code(), "name_search_unavailable");
    let err = err.to_string();
    assert!(err.contains("name search is unavailable"), "{err}");
    assert!(err.contains("HashStatus 4"), "{err}");
    assert!(search(&conn, "2cb3", None).unwrap().is_empty());
    let by_dob = search(&conn, "", Some(d("1997-01-19"))).unwrap();
    assert!(by_dob.iter().any(|h| h.client_id == "2615"), "{by_dob:?}");
    let by_id = search(&conn, "2615", None).unwrap();
    assert_eq!(by_id[0].display_name, "Client 2615");
    for h in by_dob {
        assert!(h.display_name.starts_with("Client "), "{h:?}");
        assert!(h.display_name.chars().count() <= 12, "{h:?}");
    }
    assert_eq!(data_status(&conn).unwrap().hash_status, Some(4));
}

// ---- the greenriver importer's own fixtures (copied into tests/fixtures/greenriver) ----------

#[test]
fn greenriver_copies_equal_the_shared_originals() {
    let Some(root) = shared("greenriver_fy2026_fixtures") else {
        return;
    };
    let ours = greenriver("");
    for case in std::fs::read_dir(&ours).unwrap() {
        let case = case.unwrap();
        if !case.file_type().unwrap().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(case.path()).unwrap() {
            let f = f.unwrap();
            let original = root.join(case.file_name()).join(f.file_name());
            assert_eq!(
                std::fs::read(f.path()).unwrap(),
                std::fs::read(&original).unwrap(),
                "{}",
                original.display()
            );
        }
    }
}

#[test]
fn greenriver_every_case_imports() {
    // The cases not covered one by one below import too, from the shared folder.
    let Some(root) = shared("greenriver_fy2026_fixtures") else {
        return;
    };
    for case in std::fs::read_dir(&root).unwrap() {
        let case = case.unwrap();
        if !case.file_type().unwrap().is_dir() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir);
        let rep = import_path(&mut conn, &case.path(), &all())
            .unwrap_or_else(|e| panic!("{}: {e}", case.path().display()));
        assert_eq!(rep.directive, 3, "{rep}");
    }
}

#[test]
fn greenriver_loader_errors_skip_rows_with_too_many_fields_and_load_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &greenriver("loader_errors"), &all()).unwrap();
    let c = rep.file("Client.csv").unwrap();
    assert_eq!((c.read, c.kept), (134, 131), "{rep}");
    let wrong = c
        .skipped
        .iter()
        .find(|i| i.reason.starts_with("wrong number of fields"))
        .unwrap();
    assert_eq!((wrong.count, wrong.lines.clone()), (3, vec![7, 34, 61]));
    // Client.csv carries another ExportID than the single Export.csv row: kept, with a warning.
    assert!(
        c.warnings
            .iter()
            .any(|w| w.reason.contains("77ebf652741208fa9a36c52556058416") && w.count == 131),
        "{rep}"
    );
    // The Exit.csv header has an extra column: its one row is skipped by line.
    let x = rep.file("Exit.csv").unwrap();
    assert_eq!(
        (x.read, x.kept, x.skipped[0].lines.clone()),
        (1, 0, vec![2])
    );
    assert_eq!(counts(&conn).1, 131);
    // A LastName with doubled quotes (`""Last1""`) is a last name like any other.
    assert_eq!(
        one(
            &conn,
            "SELECT last_initial FROM clients WHERE personal_id = ?1",
            "6906"
        )
        .as_deref(),
        Some("L")
    );
}

#[test]
fn greenriver_duplicate_primary_keys_are_folded() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &greenriver("duplicate_primary_keys"), &all()).unwrap();
    let f = |n: &str| rep.file(n).unwrap().clone();
    assert_eq!(
        (
            f("Client.csv").read,
            f("Client.csv").kept,
            f("Client.csv").folded
        ),
        (5, 3, 2)
    );
    assert_eq!(
        (
            f("Enrollment.csv").read,
            f("Enrollment.csv").kept,
            f("Enrollment.csv").folded
        ),
        (5, 4, 1)
    );
    assert_eq!(rep.totals().folded, 3);
    assert!(rep.to_string().contains("folded 3"), "{rep}");
    let (_, clients, enrollments, _, _) = counts(&conn);
    assert_eq!((clients, enrollments), (3, 4));
    // Same DateUpdated: the later row wins.
    assert_eq!(
        one(
            &conn,
            "SELECT last_name_key FROM clients WHERE personal_id = ?1",
            "7b8c1279001142afac2fd0bde7a8f6bf"
        )
        .as_deref(),
        Some("thr")
    );
}

#[test]
fn greenriver_deletes_leave_two_live_clients_and_enrollments() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(
        &mut conn,
        &greenriver("enrollment_with_deletes_test_files"),
        &all(),
    )
    .unwrap();
    let (_, clients, enrollments, _, _) = counts(&conn);
    assert_eq!((clients, enrollments), (2, 2), "{rep}");
    assert_eq!(rep.file("Enrollment.csv").unwrap().deleted, 2);
}

#[test]
fn greenriver_restores_clear_date_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(
        &mut conn,
        &greenriver("enrollment_test_with_restores_initial_files"),
        &all(),
    )
    .unwrap();
    assert_eq!(counts(&conn).2, 0, "no live enrollment: {rep}");
    assert_eq!(rep.file("Enrollment.csv").unwrap().deleted, 1);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM hmis_deleted WHERE kind = 'enrollment'"
        ),
        1
    );
    let rep = import_path(
        &mut conn,
        &greenriver("enrollment_test_with_restores_update_files"),
        &all(),
    )
    .unwrap();
    let (_, clients, enrollments, _, services) = counts(&conn);
    assert_eq!((clients, enrollments, services), (2, 2, 13), "{rep}");
    assert_eq!(rep.file("Enrollment.csv").unwrap().restored, 1, "{rep}");
    assert_eq!(rep.file("Client.csv").unwrap().restored, 1, "{rep}");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM hmis_deleted"),
        0,
        "none deleted"
    );
    let st = data_status(&conn).unwrap().last_import.unwrap();
    assert_eq!(st.restored, 2);
}

#[test]
fn greenriver_date_updated_older_does_not_overwrite_same_day_and_newer_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let last = |conn: &Connection| {
        one(
            conn,
            "SELECT last_name_key FROM clients WHERE personal_id = ?1",
            "C-1",
        )
    };
    import_path(&mut conn, &greenriver("date_updated_initial"), &all()).unwrap();
    assert_eq!(last(&conn).as_deref(), Some("one"));
    let rep = import_path(&mut conn, &greenriver("date_updated_older"), &all()).unwrap();
    assert_eq!(last(&conn).as_deref(), Some("one"), "older: {rep}");
    assert_eq!(rep.file("Client.csv").unwrap().older, 1);
    assert!(
        rep.to_string().contains("older than the station's 1"),
        "{rep}"
    );
    // Same day with an earlier time (09:00 after 12:00) still replaces.
    import_path(&mut conn, &greenriver("date_updated_same_day"), &all()).unwrap();
    assert_eq!(last(&conn).as_deref(), Some("sam"));
    import_path(&mut conn, &greenriver("date_updated_newer"), &all()).unwrap();
    assert_eq!(last(&conn).as_deref(), Some("new"));
    // These exports have no Exit.csv (directive 3): nothing else was lost on the way.
    let (projects, clients, enrollments, _, _) = counts(&conn);
    assert_eq!((projects, clients, enrollments), (1, 1, 1));
}

#[test]
fn greenriver_bad_ending_crlf_and_an_older_csv_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let rep = import_path(&mut conn, &greenriver("bad_ending"), &all()).unwrap();
    assert_eq!(rep.csv_version, "2024 v1.3");
    assert_eq!(
        rep.period,
        (Some("2017-09-01".into()), Some("2017-10-03".into()))
    );
    assert_eq!(rep.file("Project.csv").unwrap().kept, 1);
    assert_eq!(
        one(
            &conn,
            "SELECT name FROM projects WHERE project_id = ?1",
            "751"
        )
        .as_deref(),
        Some("Furious Whistle Hill")
    );
}

#[test]
fn a_full_refresh_without_client_enrollment_or_exit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let two = dir.path().join("two");
    std::fs::create_dir_all(&two).unwrap();
    for f in ["Export.csv", "Project.csv", "Client.csv", "Enrollment.csv"] {
        std::fs::copy(greenriver("date_updated_initial").join(f), two.join(f)).unwrap();
    }
    let export = two.join("Export.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    std::fs::write(&export, text.replace(",3,3,1,", ",3,2,1,")).unwrap();
    let err = import_path(&mut conn, &two, &all()).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::MissingFile {
                file: "Exit.csv",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("full refresh"), "{err}");
    assert_eq!(counts(&conn), (0, 0, 0, 0, 0));
}

// ---- HMIS bed nights through scans and reload (the small fixture) ---------------------------

#[test]
fn a_bed_night_the_hmis_has_is_a_duplicate_until_a_delta_deletes_it() {
    use scanstation::store::batches::EntryInput;
    use scanstation::store::batches::{add_entry, create_batch, get_batch, reload_batch};
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis");
    import_path(&mut conn, &fixtures.join("basic"), &all()).unwrap();
    let settings = common::config::StationConfig::new(dir.path()).settings();
    let batch = |conn: &mut Connection, code: &str| {
        create_batch(conn, new_batch("2002", code, d("2024-02-10")))
            .unwrap()
            .id
    };
    // Keisha (C006) is enrolled in the night shelter 2002; the HMIS has her bed night of 2024-02-10.
    let beds = batch(&mut conn, "200");
    let (e, _) = add_entry(
        &mut conn,
        &settings.policy,
        &beds,
        EntryInput::ClientId("C006".into()),
        "manual",
    )
    .unwrap();
    assert_eq!(e.verdict.as_str(), "duplicate");
    assert_eq!(
        (e.reason.as_deref(), e.reason_detail.as_deref()),
        (Some("service_day"), Some("hmis"))
    );
    let json = scanstation::web::json::entry(&e);
    assert_eq!(json["reason"], "service_day");
    assert_eq!(json["reason_detail"], "hmis");
    // A meal the same day is no bed night: ok.
    let meals = batch(&mut conn, "484");
    let (m, _) = add_entry(
        &mut conn,
        &settings.policy,
        &meals,
        EntryInput::ClientId("C006".into()),
        "manual",
    )
    .unwrap();
    assert_eq!(m.verdict.as_str(), "ok");
    assert_eq!(
        scanstation::web::json::entry(&m)["reason"],
        serde_json::Value::Null
    );

    // The HMIS deletes that bed night (a delta with only Services.csv): reload makes it ok.
    let delta = dir.path().join("delta");
    std::fs::create_dir_all(&delta).unwrap();
    std::fs::copy(fixtures.join("delta/Export.csv"), delta.join("Export.csv")).unwrap();
    std::fs::write(
        delta.join("Services.csv"),
        "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateUpdated,DateDeleted,ExportID\n\
         S01,E06,C006,2024-02-10,200,200,2024-05-01 08:00:00,2024-05-01 08:00:00,EXP-2\n",
    )
    .unwrap();
    let rep = import_path(&mut conn, &delta, &all()).unwrap();
    assert_eq!(rep.file("Services.csv").unwrap().deleted, 1, "{rep}");
    reload_batch(&mut conn, &settings.policy, &beds).unwrap();
    let b = get_batch(&conn, &beds, true).unwrap();
    let e = &b.entries.unwrap()[0];
    assert_eq!(e.verdict.as_str(), "ok");
    assert_eq!(
        (e.reason.as_deref(), e.reason_detail.as_deref()),
        (None, None)
    );
    // An older copy of the deleted bed night does not bring it back.
    std::fs::write(
        delta.join("Services.csv"),
        "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateUpdated,DateDeleted,ExportID\n\
         S01,E06,C006,2024-02-10,200,200,2024-02-11 08:00:00,,EXP-2\n",
    )
    .unwrap();
    let rep = import_path(&mut conn, &delta, &all()).unwrap();
    assert_eq!(rep.file("Services.csv").unwrap().older, 1, "{rep}");
    assert!(!scanstation::store::hmis::hmis_bed_night_on(&conn, "C006", d("2024-02-10")).unwrap());
}
