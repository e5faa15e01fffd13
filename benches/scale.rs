//! The station at 100k and 1M clients (issue 15), each figure beside its baseline or goal,
//! measured in one run on this machine:
//! - lost-card search p50/p99 (name prefixes, DOB) at 100k and 1M (goal: p50 under 10 ms);
//! - scan latency (`App::scan`, the whole use case) p50/p99/max: quiet, during a full import in a
//!   second process (`scanstation import`), during the in-process pull (`App::import_and_reload`)
//!   (goal: p99 within 3x of quiet, no scan over 250 ms);
//! - a delta of 1,000 changed enrollments into the 1M station (goal: under 1 s);
//! - idle RSS of `scanstation serve`, empty and with 1M clients (goal: under 15 and 40 MiB).
//!
//! The synthetic exports (src/synth.rs) are generated once into `target/bench-data` and reused.
//! Import speed against sqlite3 `.import` is `benches/import.rs`; `bash benches/run.sh` runs both.
//! `cargo bench --bench scale`; `SCANSTATION_BENCH_SIZES=100000` to skip the million.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::bin::Daemon;
use common::lib::App;
use common::StationConfig;
use scanstation::synth::{write_hud_csv, SynthSpec};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50, p99, max of `v`, printed on one line.
fn line(name: &str, mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let (p50, p99, max) = (pct(&v, 0.5), pct(&v, 0.99), *v.last().unwrap());
    println!(
        "  {name:<44} n={:<5} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        v.len(),
        ms(p50),
        ms(p99),
        ms(max)
    );
    (p50, p99, max)
}

/// The synthetic export of `clients`, generated once into `target/bench-data`.
fn export(clients: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("synth-{clients}"));
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::America::Chicago)
            .date_naive();
        let t = Instant::now();
        let sum = write_hud_csv(&dir, &SynthSpec::new(clients, 1, today)).expect("synth");
        println!(
            "generated {} clients, {} enrollments, {} exits in {:.1} s into {}",
            sum.clients,
            sum.enrollments,
            sum.exits,
            t.elapsed().as_secs_f64(),
            dir.display()
        );
        std::fs::write(&done, b"").expect("marker");
    }
    dir
}

/// A delta export (ExportDirective 1) changing `n` enrollments of `full`: each row's DateUpdated
/// moves a day on and its EntryDate a day back.
fn delta_of(full: &Path, n: usize, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let export = std::fs::read_to_string(full.join("Export.csv")).unwrap();
    let mut lines = export.lines();
    let header = lines.next().unwrap();
    let col = header
        .split(',')
        .position(|h| h == "ExportDirective")
        .unwrap();
    let mut row: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    row[col] = "1".into();
    std::fs::write(
        out.join("Export.csv"),
        format!("{header}\n{}\n", row.join(",")),
    )
    .unwrap();
    let text = std::fs::read_to_string(full.join("Enrollment.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let entry = cols.iter().position(|h| *h == "EntryDate").unwrap();
    let updated = cols.iter().position(|h| *h == "DateUpdated").unwrap();
    let day_moved = |s: &str, days: i64| -> String {
        let (date, rest) = s.split_at(10.min(s.len()));
        match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(d) => format!("{}{rest}", d + chrono::Duration::days(days)),
            Err(_) => s.to_string(),
        }
    };
    let mut outl = vec![header.to_string()];
    let step = (text.len() / 200 / n).max(1);
    for l in lines.step_by(step).take(n) {
        let mut f: Vec<String> = l.split(',').map(String::from).collect();
        f[entry] = day_moved(&f[entry], -1);
        f[updated] = day_moved(&f[updated], 1);
        outl.push(f.join(","));
    }
    assert_eq!(outl.len(), n + 1, "enough enrollments for the delta");
    std::fs::write(out.join("Enrollment.csv"), outl.join("\n") + "\n").unwrap();
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `scanstation serve` on `config`, asked for `/status` twice, then left alone a moment: RSS.
fn idle_rss(config: &Path) -> f64 {
    let daemon = Daemon::serve(config);
    for _ in 0..2 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&daemon.addr).expect("connect to serve");
        s.write_all(b"GET /api/v1/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("ask for /status");
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        assert!(answer.starts_with(b"HTTP/1."), "serve answers");
    }
    std::thread::sleep(Duration::from_secs(2));
    let kib = vm_rss_kib(daemon.pid());
    drop(daemon);
    kib as f64 / 1024.0
}

/// Scan the next clients of `ids` through `App::scan` until `until` says stop; latencies.
async fn scans_while(
    app: &App,
    ids: &[String],
    next: &mut usize,
    mut until: impl FnMut(usize) -> bool,
) -> Vec<Duration> {
    let mut out = Vec::new();
    while !until(out.len()) {
        let id = &ids[*next % ids.len()];
        *next += 1;
        let t = Instant::now();
        app.scan("bench", id, "bench").await.expect("scan");
        out.push(t.elapsed());
    }
    out
}

async fn station(clients: usize) {
    let data = export(clients);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("station-{clients}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = StationConfig::new(&dir);
    let config = cfg.write();
    let app = common::lib::open_app(cfg.settings());
    println!("\n== {clients} clients ({})", data.display());
    let t = Instant::now();
    let report = app
        .import_and_reload(data.clone(), None, "bench")
        .await
        .expect("import");
    let rows: u64 = report.report.files.iter().map(|f| f.read).sum();
    println!(
        "  full import (in-process, first)              {:.2} s, {rows} rows",
        t.elapsed().as_secs_f64()
    );

    // Search: name prefixes and DOBs of random clients.
    let conn = common::lib::db(&app);
    let sample: Vec<(String, String, Option<String>)> = conn
        .prepare(
            "SELECT first_name, last_name_key, dob FROM clients
              WHERE first_name <> '' ORDER BY random() LIMIT 300",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT personal_id FROM clients ORDER BY random() LIMIT 3000")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    let mut names = Vec::new();
    let mut dobs = Vec::new();
    let mut hits = 0;
    for (first, key, dob) in &sample {
        let q = format!(
            "{} {}",
            first.chars().take(3).collect::<String>(),
            key.chars().take(2).collect::<String>()
        );
        let t = Instant::now();
        hits += app.search_clients(&q, None).await.expect("search").len();
        names.push(t.elapsed());
        if let Some(d) = dob
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            let t = Instant::now();
            hits += app.search_clients("", Some(d)).await.expect("search").len();
            dobs.push(t.elapsed());
        }
    }
    let (n50, _, _) = line("search \"mar go\" (first 3 + last 2 letters)", names);
    let (d50, _, _) = line("search by DOB", dobs);
    println!(
        "  search p50 goal < 10 ms: names {}, DOB {} ({hits} hits in all)",
        if ms(n50) < 10.0 { "met" } else { "MISSED" },
        if ms(d50) < 10.0 { "met" } else { "MISSED" }
    );

    // Scans: quiet, during a second-process import, during the in-process pull.
    let project = common::lib::with_conn(&app, |c| {
        c.query_row(
            "SELECT project_id FROM projects ORDER BY project_id LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    });
    app.create_batch(
        scanstation::app::NewBatchRequest {
            project_id: project,
            service_code: "484".into(),
            service_date: None,
            units: None,
            unit_value: None,
            name: Some("bench".into()),
            lane: Some("bench".into()),
        },
        "bench",
    )
    .await
    .expect("batch");
    let mut next = 0;
    let _warm = scans_while(&app, &ids, &mut next, |n| n >= 100).await;
    let quiet = scans_while(&app, &ids, &mut next, |n| n >= 1000).await;
    let (_, q99, _) = line("scan, quiet", quiet);

    let mut child = common::bin::scanstation(["import", "--config"])
        .arg(&config)
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("scanstation import");
    let t = Instant::now();
    let mut exited = false;
    let during = scans_while(&app, &ids, &mut next, |_| {
        exited = exited || child.try_wait().expect("import status").is_some();
        exited
    })
    .await;
    let second = t.elapsed();
    assert!(child.wait().unwrap().success(), "second-process import");
    let (_, s99, smax) = line(
        &format!(
            "scan, during `scanstation import` ({:.1} s)",
            second.as_secs_f64()
        ),
        during,
    );

    let pull = {
        let (app, data) = (app.clone(), data.clone());
        tokio::spawn(async move { app.import_and_reload(data, None, "bench").await })
    };
    let t = Instant::now();
    let during = scans_while(&app, &ids, &mut next, |_| pull.is_finished()).await;
    let pulled = t.elapsed();
    pull.await.unwrap().expect("in-process import");
    let (_, p99, pmax) = line(
        &format!(
            "scan, during the in-process pull ({:.1} s)",
            pulled.as_secs_f64()
        ),
        during,
    );
    let verdict = |p99: Duration, max: Duration| {
        let ratio = p99.as_secs_f64() / q99.as_secs_f64();
        format!(
            "p99 {ratio:.2}x quiet (goal <= 3): {}, max {:.1} ms (goal <= 250): {}",
            if ratio <= 3.0 { "met" } else { "MISSED" },
            ms(max),
            if ms(max) <= 250.0 { "met" } else { "MISSED" }
        )
    };
    println!("  during the second-process import: {}", verdict(s99, smax));
    println!("  during the in-process pull:       {}", verdict(p99, pmax));

    // A delta of 1,000 changed enrollments.
    let delta = dir.join("delta");
    delta_of(&data, 1000, &delta);
    let db = common::lib::database(&app.settings);
    let t = Instant::now();
    let rep = scanstation::import::import_station(&db, &delta, &Default::default())
        .expect("delta import");
    let secs = t.elapsed().as_secs_f64();
    let kept = rep.file("Enrollment.csv").map(|f| f.kept).unwrap_or(0);
    println!(
        "  delta of 1,000 changed enrollments           {secs:.3} s ({kept} kept; goal < 1 s: {})",
        if secs < 1.0 { "met" } else { "MISSED" }
    );
    drop(app);
    let rss = idle_rss(&config);
    let goal = if clients >= 1_000_000 { 40.0 } else { 15.0 };
    println!(
        "  idle RSS of serve with {clients} clients: {rss:.1} MiB (goal < {goal}: {})",
        if rss < goal { "met" } else { "MISSED" }
    );
}

fn main() {
    // `cargo test --benches` runs benches without --bench: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: run with `cargo bench --bench scale`");
        return;
    }
    let sizes: Vec<usize> = std::env::var("SCANSTATION_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let config = StationConfig::new(empty.path()).write();
    let rss = idle_rss(&config);
    println!(
        "idle RSS of serve, empty station: {rss:.1} MiB (goal < 15: {})",
        if rss < 15.0 { "met" } else { "MISSED" }
    );
    for n in sizes {
        rt.block_on(station(n));
    }
}
