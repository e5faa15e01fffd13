//! The synthetic export (src/synth.rs) through the real import: counts and the sample IDs'
//! outcomes as the verdict rules would see them.

use chrono::NaiveDate;
use rusqlite::Connection;
use scanstation::import::{data_status, import_path, ImportOptions};
use scanstation::synth::{write_hud_csv, SynthSpec};

/// Whether the client has an open enrollment in `project` on `date` (EntryDate <= D <= ExitDate).
fn open_in(conn: &Connection, client: &str, project: &str, date: &str) -> bool {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM enrollments e WHERE e.personal_id = ?1 AND e.project_id = ?2
           AND e.entry_date <= ?3
           AND NOT EXISTS (SELECT 1 FROM exits x WHERE x.enrollment_id = e.enrollment_id
                           AND x.exit_date < ?3))",
        [client, project, date],
        |r| r.get(0),
    )
    .unwrap()
}

fn known(conn: &Connection, client: &str) -> bool {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM clients WHERE personal_id = ?1)",
        [client],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn synthetic_export_imports_with_the_promised_outcomes() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export");
    let sum = write_hud_csv(&csv, &SynthSpec::new(3000, 42, today)).unwrap();
    let mut conn = scanstation::store::open_connection(&dir.path().join("s.db")).unwrap();
    let rep = import_path(&mut conn, &csv, &ImportOptions::default()).unwrap();
    assert!(
        rep.files
            .iter()
            .all(|f| f.skipped.is_empty() && f.warnings.is_empty()),
        "{rep}"
    );
    let st = data_status(&conn).unwrap();
    assert_eq!(
        (
            st.projects as usize,
            st.clients as usize,
            st.enrollments as usize,
            st.exits as usize
        ),
        (sum.projects.len(), sum.clients, sum.enrollments, sum.exits)
    );
    let main = sum.main_project();
    let d = today.to_string();
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    for id in &sum.open_in_main {
        assert!(open_in(&conn, id, main, &d), "{id}");
    }
    for id in &sum.exited_from_main {
        assert!(known(&conn, id) && !open_in(&conn, id, main, &d), "{id}");
    }
    for id in &sum.other_project_only {
        assert!(
            known(&conn, id) && !open_in(&conn, id, main, &yesterday),
            "{id}"
        );
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM enrollments WHERE personal_id = ?1 AND project_id = ?2",
                [id.as_str(), main],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{id}");
    }
    for id in &sum.exiting_today {
        assert!(
            open_in(&conn, id, main, &d) && !open_in(&conn, id, main, &tomorrow),
            "{id}"
        );
    }

    // With the station limited to the main project, every client is still known.
    let opts = ImportOptions {
        projects: vec![main.to_string()],
        ..Default::default()
    };
    let rep = import_path(&mut conn, &csv, &opts).unwrap();
    assert!(rep.files.iter().all(|f| f.skipped.is_empty()), "{rep}");
    let st = data_status(&conn).unwrap();
    assert_eq!((st.projects, st.clients as usize), (1, sum.clients));
    for id in &sum.other_project_only {
        assert!(known(&conn, id));
    }
    let other: i64 = conn
        .query_row(
            "SELECT count(*) FROM enrollments WHERE project_id <> ?1",
            [main],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(other, 0);
}
