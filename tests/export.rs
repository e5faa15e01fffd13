//! `scanstation export hud-csv|clienttrack-csv`: posted services from a real SQLite file.

mod upstream_support;

use std::io::Read;

use chrono::NaiveDate;
use scanstation::export::{export, ExportKind, HUD_EXPORT_COLUMNS, HUD_SERVICES_COLUMNS};
use upstream_support::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let headers = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (headers, rows)
}

fn station() -> (
    tempfile::TempDir,
    scanstation::config::Settings,
    Vec<String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), "kind = \"none\"", "");
    let conn = db(&settings);
    post_batch(&conn, "MEALS", 3, 100, "none", "484", "2024-05-01");
    let (beds_may, _) = post_batch(&conn, "BEDS1", 2, 100, "none", "200", "2024-05-02");
    post_batch(&conn, "BEDS2", 4, 100, "none", "200", "2024-06-10");
    (dir, settings, beds_may)
}

#[test]
fn hud_csv_has_one_export_row_and_only_hud_services_in_range() {
    let (dir, settings, beds_may) = station();
    let conn = db(&settings);
    let out = dir.path().join("hud.zip");
    let n = export(
        &conn,
        &settings,
        ExportKind::HudCsv,
        &out,
        Some(d("2024-05-01")),
        Some(d("2024-05-31")),
    )
    .unwrap()
    .services;
    assert_eq!(
        n, 2,
        "the meals have no HUD record type; June is out of range"
    );

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["Export.csv", "Services.csv"]);
    let mut export_csv = Vec::new();
    zip.by_name("Export.csv")
        .unwrap()
        .read_to_end(&mut export_csv)
        .unwrap();
    let mut services_csv = Vec::new();
    zip.by_name("Services.csv")
        .unwrap()
        .read_to_end(&mut services_csv)
        .unwrap();

    let (eh, erows) = read_csv(&export_csv);
    assert_eq!(eh, HUD_EXPORT_COLUMNS);
    assert_eq!(erows.len(), 1);
    let export_id = erows[0][0].clone();
    assert!(!export_id.is_empty() && export_id.len() <= 32);
    assert_eq!(erows[0][10], "2024-05-01", "ExportStartDate");
    assert_eq!(erows[0][11], "2024-05-31", "ExportEndDate");
    assert_eq!(erows[0][12], "scanstation");

    let (sh, srows) = read_csv(&services_csv);
    assert_eq!(sh, HUD_SERVICES_COLUMNS);
    // The column list of the HUD FY2024 specification, when the shared test data is here.
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/hmis-csv/spec/fy2024_csv_columns.tsv");
    if spec.exists() {
        let text = std::fs::read_to_string(spec).unwrap();
        for (file, ours) in [("Export", &eh), ("Services", &sh)] {
            let cols: Vec<String> = text
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    (f.first() == Some(&file)).then(|| f[3].to_string())
                })
                .collect();
            assert_eq!(&cols, ours, "{file}.csv columns");
        }
    } else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{} is missing: under CI=true the shared test data must be present",
            spec.display()
        );
        eprintln!(
            "note: {} absent; FY2024 column check against the spec skipped",
            spec.display()
        );
    }
    assert_eq!(srows.len(), 2);
    let want_ids: Vec<String> = beds_may.iter().map(|s| s.replace('-', "")).collect();
    let got_ids: Vec<String> = srows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(got_ids, want_ids, "ServicesID is the service's stable id");
    for r in &srows {
        assert_eq!(r[3], "2024-05-02", "DateProvided yyyy-mm-dd");
        assert_eq!(r[4], "200");
        assert_eq!(r[5], "200");
        assert!(
            r[13].starts_with("20") && r[13].len() == 19,
            "DateCreated {}",
            r[13]
        );
        assert_eq!(r[15], "BS7");
        assert_eq!(r[16], "", "DateDeleted");
        assert_eq!(r[17], export_id, "every row carries the ExportID");
    }
}

#[test]
fn clienttrack_csv_in_range_with_unpadded_dates() {
    let (dir, settings, _) = station();
    let conn = db(&settings);
    let out = dir.path().join("ct.csv");
    let n = export(
        &conn,
        &settings,
        ExportKind::ClienttrackCsv,
        &out,
        Some(d("2024-05-02")),
        None,
    )
    .unwrap()
    .services;
    assert_eq!(n, 6);
    let (h, rows) = read_csv(&std::fs::read(&out).unwrap());
    assert_eq!(h.len(), 16);
    assert_eq!(h[0], "Service_ServiceCodeID");
    assert_eq!(h[15], "Service_RestrictOrg");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0][4], "5/2/2024");
    assert_eq!(rows[5][4], "6/10/2024");
    assert!(rows.iter().all(|r| r[6] == "C"));

    // Everything, and an empty range.
    let all = export(
        &conn,
        &settings,
        ExportKind::ClienttrackCsv,
        &out,
        None,
        None,
    )
    .unwrap()
    .services;
    assert_eq!(all, 9);
    let none = export(
        &conn,
        &settings,
        ExportKind::HudCsv,
        &dir.path().join("empty.zip"),
        Some(d("2023-01-01")),
        Some(d("2023-12-31")),
    )
    .unwrap()
    .services;
    assert_eq!(none, 0);
    let err = export(
        &conn,
        &settings,
        ExportKind::HudCsv,
        &dir.path().join("x.zip"),
        Some(d("2024-02-01")),
        Some(d("2024-01-01")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("after"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// ---- ClientTrack's batch upload, byte for byte -----------------------------------------------

use scanstation::export::write_clienttrack_csv;
use scanstation::store::outbox::PostedService;

fn clienttrack_settings(dir: &std::path::Path, extra: &str) -> scanstation::config::Settings {
    settings(
        dir,
        &format!("kind = \"none\"\norg_id = \"STG\"\n{extra}"),
        "",
    )
}

fn service(code: &str, client: &str, enroll: &str, date: &str) -> PostedService {
    PostedService {
        id: uuid::Uuid::new_v4().to_string(),
        batch_id: "B1".into(),
        personal_id: client.into(),
        enrollment_id: enroll.into(),
        project_id: "P1".into(),
        service_code: code.into(),
        date_provided: date.into(),
        unit: "count".into(),
        units: 1.0,
        unit_value: "0.00".into(),
        hud_record_type: None,
        hud_type_provided: None,
        posted_by: "Maria".into(),
        posted_by_user_id: Some("BS7".into()),
        // 10:00 in Chicago on the service date.
        posted_at: format!("{date}T15:00:00.000Z"),
    }
}

fn sample() -> Vec<u8> {
    let ours = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/clienttrack/batch_upload_sample.csv");
    let bytes = std::fs::read(&ours).unwrap();
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/clienttrack/batch_upload_sample.csv");
    match std::fs::read(&shared) {
        Ok(original) => assert_eq!(bytes, original, "the copy equals the shared original"),
        Err(_) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "{} is missing: under CI=true the shared test data must be present",
                shared.display()
            );
            eprintln!("note: {} absent; using the copy only", shared.display());
        }
    }
    bytes
}

#[test]
fn clienttrack_file_is_byte_for_byte_the_real_upload_sample() {
    let dir = tempfile::tempdir().unwrap();
    let settings = clienttrack_settings(dir.path(), "");
    let sample = sample();
    // The sample's services, as the station would have posted them.
    let (_, rows) = read_csv(&sample);
    let services: Vec<PostedService> = rows
        .iter()
        .map(|r| {
            let date = chrono::NaiveDate::parse_from_str(&r[4], "%m/%d/%Y").unwrap();
            service(&r[0], &r[1], &r[2], &date.to_string())
        })
        .collect();
    assert_eq!(services.len(), 19);
    let mut out = Vec::new();
    write_clienttrack_csv(&mut out, &settings, &services).unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        String::from_utf8(sample.clone()).unwrap()
    );
    assert_eq!(out, sample, "byte for byte: header, CRLF, field forms");
}

#[test]
fn clienttrack_restrict_org_from_config_dollars_keep_their_value() {
    let dir = tempfile::tempdir().unwrap();
    let settings = clienttrack_settings(dir.path(), "restrict_org = \"Restrict To User\"");
    let mut fund = service("543", "508", "540", "2024-05-02");
    fund.unit = "dollars".into();
    fund.unit_value = "25.50".into();
    let mut minutes = service("702", "628", "100515", "2024-05-02");
    minutes.unit = "minutes".into();
    minutes.units = 30.0;
    minutes.unit_value = "1.00".into();
    let mut out = Vec::new();
    write_clienttrack_csv(&mut out, &settings, &[fund, minutes]).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[1],
        "543,508,540,,5/2/2024,5/2/2024,D,1,25.50,BS7,5/2/2024,BS7,5/2/2024,BS7,STG,Restrict To User"
    );
    assert_eq!(
        lines[2],
        "702,628,100515,,5/2/2024,5/2/2024,M,30,0,BS7,5/2/2024,BS7,5/2/2024,BS7,STG,Restrict To User"
    );
}

#[test]
fn clienttrack_refuses_a_service_without_enrollment_and_mixed_programs() {
    let dir = tempfile::tempdir().unwrap();
    let settings = clienttrack_settings(dir.path(), "");
    let no_enrollment = service("484", "508", " ", "2024-05-02");
    let mut out = Vec::new();
    let err = write_clienttrack_csv(&mut out, &settings, std::slice::from_ref(&no_enrollment))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no enrollment (EnrollID)"), "{err}");
    assert!(err.contains(&no_enrollment.id), "{err}");
    assert!(out.is_empty(), "nothing written");
    let mut other = service("484", "628", "100515", "2024-05-02");
    other.project_id = "P2".into();
    let err = write_clienttrack_csv(
        &mut out,
        &settings,
        &[service("484", "508", "540", "2024-05-02"), other],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("one program"), "{err}");
    assert!(out.is_empty());
}

#[test]
fn clienttrack_export_writes_one_file_per_program() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), "kind = \"none\"", "");
    let conn = db(&settings);
    post_batch(&conn, "MEALS", 2, 100, "none", "484", "2024-05-01");
    post_batch(&conn, "BEDS", 3, 100, "none", "200", "2024-05-02");
    conn.execute(
        "UPDATE services SET project_id = 'P2' WHERE batch_id = 'BEDS'",
        [],
    )
    .unwrap();
    let out = dir.path().join("ct.csv");
    let done = export(
        &conn,
        &settings,
        ExportKind::ClienttrackCsv,
        &out,
        None,
        None,
    )
    .unwrap();
    assert_eq!(done.services, 5);
    assert_eq!(
        done.files,
        vec![dir.path().join("ct-P1.csv"), dir.path().join("ct-P2.csv")]
    );
    let (_, p1) = read_csv(&std::fs::read(&done.files[0]).unwrap());
    let (_, p2) = read_csv(&std::fs::read(&done.files[1]).unwrap());
    assert_eq!((p1.len(), p2.len()), (2, 3));
    assert!(!out.exists());
}
