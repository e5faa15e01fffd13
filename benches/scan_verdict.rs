//! Benchmark (issue 2b): one scan's verdict — scan log + lookups + entry insert + commit with
//! synchronous=FULL — on 100k clients / ~200k enrollments, against a bare rusqlite indexed lookup
//! plus a committed insert on the same file. The two are interleaved op by op so both see the
//! same disk and cache. Target: the scan within 1.5x of the bare operation at p99.
//!
//! Run: `cargo bench --bench scan_verdict` (or `bash benches/run.sh` for every benchmark).

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::params;
use scanstation::config::Config;
use scanstation::domain::lane::LaneName;
use scanstation::import::{import_path, ImportOptions};
use scanstation::store::batches::{self, NewBatch};
use scanstation::synth::{write_hud_csv, SynthSpec};

const CLIENTS: usize = 100_000;
const SCANS: usize = 2_000;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let text = format!(
        "[station]\nid = \"bench\"\n[storage]\ndatabase = \"{}\"\n[[service]]\ncode = \"484\"\nname = \"Hot Meals\"\n",
        db.display()
    );
    let settings = Config::parse(&text, Path::new("bench.toml"))
        .unwrap()
        .check()
        .unwrap();
    let today = chrono::Utc::now().with_timezone(&settings.tz).date_naive();
    let data = dir.path().join("hmis");
    std::fs::create_dir_all(&data).unwrap();
    let summary = write_hud_csv(&data, &SynthSpec::new(CLIENTS, 7, today)).unwrap();
    let mut conn = scanstation::store::open_connection(&db).unwrap();
    import_path(&mut conn, &data, &ImportOptions::default()).unwrap();
    let lane = LaneName::parse("bench").unwrap();
    let batch = batches::create_batch(
        &mut conn,
        NewBatch {
            project_id: summary.main_project().to_string(),
            service_code: "484".into(),
            service_name: "Hot Meals".into(),
            service_date: today,
            units: 1.0,
            unit_value: scanstation::domain::money::Money::zero(),
            name: None,
            lane: Some(lane.clone()),
            created_by: None,
        },
    )
    .unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT personal_id FROM clients ORDER BY random() LIMIT ?1")
        .unwrap()
        .query_map([SCANS as i64], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    conn.execute_batch(
        "CREATE TABLE bare_log (id INTEGER PRIMARY KEY, personal_id TEXT NOT NULL, at TEXT NOT NULL)",
    )
    .unwrap();

    let mut scan = Vec::with_capacity(SCANS);
    let mut bare = Vec::with_capacity(SCANS);
    let mut verdicts = std::collections::HashMap::new();
    for id in &ids {
        // Bare: an indexed lookup and a committed insert.
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        let known = tx
            .prepare_cached("SELECT 1 FROM clients WHERE personal_id = ?1")
            .unwrap()
            .exists([id])
            .unwrap();
        tx.prepare_cached("INSERT INTO bare_log (personal_id, at) VALUES (?1, ?2)")
            .unwrap()
            .execute(params![id, known.to_string()])
            .unwrap();
        tx.commit().unwrap();
        bare.push(t.elapsed());

        // The station's scan: scan log, facts, verdict, entry, commit.
        let t = Instant::now();
        let out = batches::record_scan(&mut conn, &settings.policy, &lane, id, "bench").unwrap();
        scan.push(t.elapsed());
        if let batches::ScanOutcome::Entry { entry, .. } = out {
            *verdicts.entry(entry.verdict.as_str()).or_insert(0) += 1;
        }
    }
    assert_eq!(
        verdicts.values().sum::<usize>(),
        SCANS,
        "every scan reached the batch"
    );
    let _ = batch;
    scan.sort();
    bare.sort();
    let (s50, s99, b50, b99) = (
        pct(&scan, 0.5),
        pct(&scan, 0.99),
        pct(&bare, 0.5),
        pct(&bare, 0.99),
    );
    let ratio = s99.as_secs_f64() / b99.as_secs_f64();
    println!(
        "scan verdict on {} clients / {} enrollments, {SCANS} scans, synchronous=FULL, file {}",
        summary.clients,
        summary.enrollments,
        db.display()
    );
    println!("  verdicts: {verdicts:?}");
    println!(
        "  station scan:       p50 {:>8.3} ms  p99 {:>8.3} ms",
        s50.as_secs_f64() * 1e3,
        s99.as_secs_f64() * 1e3
    );
    println!(
        "  bare lookup+insert: p50 {:>8.3} ms  p99 {:>8.3} ms",
        b50.as_secs_f64() * 1e3,
        b99.as_secs_f64() * 1e3
    );
    println!(
        "  p99 ratio {ratio:.2} (target <= 1.50): {}",
        if ratio <= 1.5 { "met" } else { "MISSED" }
    );
}
