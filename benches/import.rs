//! Import speed and memory: a synthetic export of 100,000 clients / ~200,000 enrollments
//! (src/synth.rs) imported with `import_path` into a fresh SQLite file (WAL, synchronous=FULL, as
//! the store opens it), against the `sqlite3` CLI's `.import` of the same Enrollment.csv into a
//! bare table (same journal settings). Target: no slower than sqlite3; peak RSS under 64 MiB.
//!
//! Each import runs in a child process (this binary re-executed with `SCANSTATION_BENCH_CHILD`)
//! so that its peak RSS (VmHWM) is its own. `cargo bench --bench import`; set
//! `SCANSTATION_BENCH_CLIENTS` to change the size, `SCANSTATION_BENCH_RUNS` the repetitions,
//! `SCANSTATION_BENCH_DIR` to keep the generated files there. One import by hand:
//! `SCANSTATION_BENCH_CHILD=1 target/release/deps/import-* DB_FILE EXPORT_DIR`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use scanstation::import::{import_path, ImportOptions};
use scanstation::synth::{write_hud_csv, SynthSpec};

const CHILD_ENV: &str = "SCANSTATION_BENCH_CHILD";

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// In the child: import `csv` into a fresh `db`, print "seconds rows hwm_kib".
fn child(db: &Path, csv: &Path) {
    let start = Instant::now();
    let mut conn = scanstation::store::open_connection(db).expect("open database");
    let rep = import_path(&mut conn, csv, &ImportOptions::default()).expect("import");
    drop(conn);
    let secs = start.elapsed().as_secs_f64();
    let rows: u64 = rep.files.iter().map(|f| f.read).sum();
    println!("{secs} {rows} {}", vm_hwm_kib().unwrap_or(0));
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn run_import(exe: &Path, db: &Path, csv: &Path) -> (f64, u64, u64) {
    remove_db(db);
    let out = Command::new(exe)
        .env(CHILD_ENV, "1")
        .arg(db)
        .arg(csv)
        .stderr(Stdio::inherit())
        .output()
        .expect("run the import child");
    assert!(out.status.success(), "import child failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    let mut it = line.split_whitespace();
    let secs: f64 = it
        .next()
        .and_then(|s| s.parse().ok())
        .expect("child output");
    let rows: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let hwm: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (secs, rows, hwm)
}

/// `wal`: the station's journal settings; otherwise the CLI's defaults (rollback journal).
fn run_sqlite3(db: &Path, csv: &Path, wal: bool) -> Option<f64> {
    remove_db(db);
    let pragmas = if wal {
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
    } else {
        ""
    };
    let script = format!(
        "{pragmas}.mode csv\n.import '{}' enrollment\nSELECT count(*) FROM enrollment;\n",
        csv.join("Enrollment.csv").display()
    );
    let start = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    {
        use std::io::Write;
        child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    }
    let out = child.wait_with_output().ok()?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return None;
    }
    Some(secs)
}

/// A copy of the export with the rows of Client, Enrollment and Exit in random order (exports are
/// not always sorted by ID; random key order is the harder case for the B-trees).
fn shuffled_copy(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("create shuffled dir");
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for e in std::fs::read_dir(src).expect("read export dir") {
        let e = e.expect("dir entry");
        let name = e.file_name();
        let text = std::fs::read_to_string(e.path()).expect("read csv");
        let shuffle = ["Client.csv", "Enrollment.csv", "Exit.csv"]
            .iter()
            .any(|n| name.to_str() == Some(n));
        if !shuffle {
            std::fs::write(dest.join(&name), text).expect("write csv");
            continue;
        }
        let mut lines: Vec<&str> = text.lines().collect();
        // Fisher-Yates on the data rows (the synthetic files have no multi-line fields).
        for i in (2..lines.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = 1 + (state % i as u64) as usize;
            lines.swap(i, j);
        }
        let mut out = lines.join("\n");
        out.push('\n');
        std::fs::write(dest.join(&name), out).expect("write csv");
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if std::env::var_os(CHILD_ENV).is_some() {
        child(Path::new(&args[1]), Path::new(&args[2]));
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` runs us with no such flag: be quick.
    let bench = args.iter().any(|a| a == "--bench");
    let env_num = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let clients = env_num(
        "SCANSTATION_BENCH_CLIENTS",
        if bench { 100_000 } else { 2_000 },
    );
    if !bench {
        println!("smoke run (small data, maybe a debug build): figures mean nothing; use `cargo bench --bench import`");
    }
    let runs = env_num("SCANSTATION_BENCH_RUNS", if bench { 3 } else { 1 }).max(1);

    // SCANSTATION_BENCH_DIR keeps the files (for profiling a child by hand).
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir_path = std::env::var_os("SCANSTATION_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let csv = dir_path.join("export");
    let today = chrono::Local::now().date_naive();
    let start = Instant::now();
    let sum = write_hud_csv(&csv, &SynthSpec::new(clients, 1, today)).expect("synth");
    let synth_secs = start.elapsed().as_secs_f64();
    let size: u64 = std::fs::read_dir(&csv)
        .expect("read export dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "synth: {} clients, {} enrollments, {} exits ({:.1} MiB of CSV) in {:.2} s",
        sum.clients,
        sum.enrollments,
        sum.exits,
        size as f64 / 1048576.0,
        synth_secs
    );

    let exe = std::env::current_exe().expect("current exe");
    let db = dir_path.join("station.db");
    let mut imports = Vec::new();
    let mut peak = 0;
    let mut rows = 0;
    for i in 0..runs {
        let (secs, r, hwm) = run_import(&exe, &db, &csv);
        println!(
            "  import run {}: {:.3} s, peak RSS {:.1} MiB",
            i + 1,
            secs,
            hwm as f64 / 1024.0
        );
        imports.push(secs);
        peak = peak.max(hwm);
        rows = r;
    }
    // Rows in random order: the B-trees' hard case (minutes at 1M: SCANSTATION_BENCH_SHUFFLED=1
    // to include it above 200k clients).
    let shuffle = clients <= 200_000 || std::env::var_os("SCANSTATION_BENCH_SHUFFLED").is_some();
    let shuffled = dir_path.join("shuffled");
    if shuffle {
        shuffled_copy(&csv, &shuffled);
    }
    let mut imports_shuffled = Vec::new();
    for i in (0..runs).filter(|_| shuffle) {
        let (secs, _, hwm) = run_import(&exe, &db, &shuffled);
        println!(
            "  import run {} (rows in random order): {:.3} s, peak RSS {:.1} MiB",
            i + 1,
            secs,
            hwm as f64 / 1024.0
        );
        imports_shuffled.push(secs);
        peak = peak.max(hwm);
    }
    let mut sqlite = Vec::new();
    let mut sqlite_default = Vec::new();
    for i in 0..runs {
        let bare = dir_path.join("bare.db");
        match (
            run_sqlite3(&bare, &csv, true),
            run_sqlite3(&bare, &csv, false),
        ) {
            (Some(wal), Some(default)) => {
                println!(
                    "  sqlite3 .import run {}: {wal:.3} s (WAL, synchronous=FULL), {default:.3} s (CLI defaults)",
                    i + 1
                );
                sqlite.push(wal);
                sqlite_default.push(default);
            }
            _ => {
                println!("  sqlite3 CLI not available or failed (apt-get install -y sqlite3): no comparison");
                break;
            }
        }
    }
    let import = median(&mut imports);
    if !imports_shuffled.is_empty() {
        println!(
            "import with rows in random order: {:.3} s",
            median(&mut imports_shuffled)
        );
    }
    let peak_mib = peak as f64 / 1024.0;
    let rss_note = if peak_mib < 64.0 { "ok" } else { "MISSED" };
    if sqlite.is_empty() {
        println!(
            "import: {import:.3} s ({:.0} rows/s); peak RSS {peak_mib:.1} MiB (target < 64: {rss_note})",
            rows as f64 / import
        );
    } else {
        let sq = median(&mut sqlite);
        let sq_default = median(&mut sqlite_default);
        println!(
            "sqlite3 .import with the CLI's default journal: {sq_default:.3} s (ratio {:.2})",
            import / sq_default
        );
        let ratio = import / sq;
        let note = if ratio <= 1.0 { "ok" } else { "MISSED" };
        println!(
            "import: {import:.3} s ({:.0} rows/s), sqlite3 .import: {sq:.3} s, ratio {ratio:.2} \
             (target <= 1.0: {note}); peak RSS {peak_mib:.1} MiB (target < 64: {rss_note})",
            rows as f64 / import
        );
    }
}
