//! `scanstation demo`: the embedded default for a first try. A temporary state folder, synthetic
//! HUD HMIS CSV data imported through the normal import path, a supervisor PIN printed on start,
//! an open "Hot Meals" batch on lane `main`, stdin lines taken as scans on lane `main`, and the UI
//! at http://127.0.0.1:8080. Everything goes through the same code as `serve`.

use std::path::Path;

use anyhow::Context;
use rand::RngExt;
use std::io::BufRead;

use crate::app::{App, NewBatchRequest};
use crate::config::Config;
use crate::domain::rules::Verdict;
use crate::store::batches::ScanOutcome;
use crate::store::Store;
use crate::synth::{write_hud_csv, SynthSpec};

const DEMO_CLIENTS: usize = 500;
const DEMO_SEED: u64 = 2026;

fn demo_config(dir: &Path, listen: &str, pin_hash: &str) -> String {
    format!(
        r#"
[station]
id = "demo"
timezone = "America/Chicago"
[storage]
database = "{db}"
[web]
listen = "{listen}"
idle_lock_seconds = 300
[[supervisor]]
name = "Demo supervisor"
pin_hash = "{pin_hash}"
hmis_user_id = "DEMO"
[[service]]
code = "484"
name = "Hot Meals"
unit = "count"
units = 1
unit_value = "0.00"
[[service]]
code = "485"
name = "Showers"
unit = "count"
[[service]]
code = "200"
name = "Bed Night"
unit = "count"
hud_record_type = 200
hud_type_provided = 200
[upstream]
kind = "none"
"#,
        db = dir.join("scanstation.db").display()
    )
}

/// What a line staff member sees for a verdict.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "OK",
        Verdict::NoOpenEnrollment => "NOT ENROLLED",
        Verdict::Duplicate => "ALREADY SERVED",
        Verdict::UnknownClient => "CARD NOT RECOGNISED",
        Verdict::InvalidCode => "UNREADABLE CARD",
    }
}

pub async fn run(listen: &str) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("scanstation-demo-")
        .tempdir()
        .context("cannot create a temporary state folder")?;
    let pin: String = {
        let mut rng = rand::rng();
        (0..6)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    let hash = crate::pin::hash_pin(&pin).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = demo_config(dir.path(), listen, &hash);
    let settings = Config::parse(&text, Path::new("demo.toml"))?
        .check()
        .map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let today = chrono::Utc::now().with_timezone(&settings.tz).date_naive();

    let data = dir.path().join("hmis");
    std::fs::create_dir_all(&data)?;
    let summary = write_hud_csv(&data, &SynthSpec::new(DEMO_CLIENTS, DEMO_SEED, today))
        .context("cannot write the synthetic HMIS data")?;
    let store = Store::open(&settings.database)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another scanstation running?)"))?;
    let addr = listener.local_addr()?;
    let app = App::new(settings, store);
    let imported = app
        .import_and_reload(data.clone(), None, "import")
        .await
        .map_err(|e| anyhow::anyhow!("cannot import the synthetic data: {e}"))?;
    let batch = app
        .create_batch(
            NewBatchRequest {
                project_id: summary.main_project().to_string(),
                service_code: "484".into(),
                name: Some(format!("Hot Meals {today}")),
                lane: Some("main".into()),
                ..NewBatchRequest::default()
            },
            "demo",
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the demo batch: {e}"))?
        .batch;
    let report = imported.report;

    let try_ids = |ids: &[String]| ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    println!("scanstation demo");
    println!("  state folder (deleted on exit): {}", dir.path().display());
    println!(
        "  synthetic HMIS data: {} clients, {} enrollments ({} files imported)",
        summary.clients,
        summary.enrollments,
        report.files.len()
    );
    println!("  open batch on lane main: {} ({})", batch.name, batch.id);
    let scheme = if app.settings.web.https() {
        "https"
    } else {
        "http"
    };
    println!("  UI: {scheme}://{addr}/   supervisor PIN: {pin}");
    println!("  type a client ID and Enter to scan it on lane main; Ctrl-C to stop. Try:");
    println!(
        "    enrolled:            {}",
        try_ids(&summary.open_in_main)
    );
    println!(
        "    exited:              {}",
        try_ids(&summary.exited_from_main)
    );
    println!(
        "    other project only:  {}",
        try_ids(&summary.other_project_only)
    );
    println!("    unknown:             NOBODY1");

    let shutdown = crate::daemon::shutdown_on_signals()?;
    tokio::spawn(stdin_scans(app.clone()));
    let result = crate::daemon::run(app, listener, shutdown).await;
    drop(dir);
    result
}

/// Each stdin line is a scan on lane `main`; the verdict is printed like the lane screen shows it.
///
/// Stdin is read on a plain thread, not tokio's blocking pool: the runtime waits for its blocking
/// tasks when it shuts down, so a read parked on the terminal would hold Ctrl-C until Enter. A plain
/// thread is simply left behind when the process exits.
async fn stdin_scans(app: App) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(16);
    let spawned = std::thread::Builder::new()
        .name("demo-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let failed = line.is_err();
                if tx.blocking_send(line).is_err() || failed {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        println!("(cannot read stdin: {e}; still serving the UI)");
        return;
    }
    loop {
        match rx.recv().await {
            Some(Ok(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                match app.scan("main", &line, "stdin").await {
                    Ok(ScanOutcome::Entry { entry, served }) => println!(
                        "{:<20} {}  ({served} served)",
                        verdict_label(entry.verdict),
                        entry.display_name.as_deref().unwrap_or("")
                    ),
                    Ok(ScanOutcome::Unassigned(_)) => {
                        println!("NO BATCH OPEN        scan kept for the supervisor")
                    }
                    Err(e) => println!("ERROR                {e}"),
                }
            }
            None => {
                println!("(stdin closed: still serving the UI; Ctrl-C to stop)");
                return;
            }
            Some(Err(e)) => {
                println!("(cannot read stdin: {e}; still serving the UI)");
                return;
            }
        }
    }
}
