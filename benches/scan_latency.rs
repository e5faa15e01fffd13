//! Scan latency: from the last byte of a code written to a serial scanner's pty to the `scan`
//! event read by an SSE client (`GET /api/v1/events`), through the whole daemon (serial task,
//! double-read guard, `App::scan` with the scan log and verdict in SQLite with
//! synchronous=FULL, broadcast, axum SSE, reqwest over loopback), p50/p99 over 1,000 scans.
//! Compared in the same run with a bare pty echo round trip (write to the master, a tokio-serial
//! reader on the slave writes it back, read on the master).
//!
//! Also in the same run, to show where the time goes: an fsync probe (append 100 bytes +
//! fdatasync in the database's folder: the floor for one durable commit on that disk), the scanner
//! layer alone (pty -> code handed to a sink, no database) and `App::scan` called directly.
//! Everything runs twice: database on the project's disk (target/tmp) and on tmpfs (/dev/shm, where
//! fsync costs nothing, still synchronous=FULL), so the software's share is visible apart from
//! the disk's.
//!
//! Run: `cargo bench --bench scan_latency` (optional argument: number of scans, default 1000).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::lib::{self, ScannerState};
use common::serial::{self, FakePort};
use common::wait::{eventually, DEADLINE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WARMUP: usize = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p99) = (percentile(&v, 0.50), percentile(&v, 0.99));
    println!(
        "{name:<28} n={:<5} p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        v.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        v.last().unwrap().as_secs_f64() * 1e3
    );
    (p50, p99)
}

/// Bare pty round trip: the same open and read path as the daemon's serial task, echoing back.
async fn echo_round_trips(dir: &std::path::Path, n: usize) -> Vec<Duration> {
    use tokio_serial::SerialPortBuilderExt;
    let link = dir.join("echo");
    let mut master = FakePort::plug(&link);
    let mut slave = tokio_serial::new(link.to_string_lossy(), 9600)
        .open_native_async()
        .unwrap();
    let echo = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            match slave.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    if slave.write_all(&buf[..k]).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    let times = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(n);
        let mut back = [0u8; 5];
        for i in 0..n + WARMUP {
            let code = format!("C{:03}\r", i % 4 + 1);
            master.write(code.as_bytes());
            let t0 = Instant::now();
            master.read_exact(&mut back);
            let dt = t0.elapsed();
            assert_eq!(&back, code.as_bytes());
            if i >= WARMUP {
                out.push(dt);
            }
        }
        master.unplug();
        out
    })
    .await
    .unwrap();
    let _ = echo.await;
    times
}

/// An SSE reader: yields once per complete `event: scan` message.
struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(base: &str) -> Sse {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = http.get(format!("{base}/events")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut s = Sse {
            resp,
            buf: String::new(),
        };
        s.next("hello").await;
        s
    }

    /// Wait for the next complete message of type `name`, skipping others.
    async fn next(&mut self, name: &str) -> String {
        let want = format!("event: {name}");
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let msg: String = self.buf.drain(..end + 2).collect();
                if msg.lines().any(|l| l == want) {
                    return msg;
                }
            }
            let chunk = self
                .resp
                .chunk()
                .await
                .unwrap()
                .expect("event stream ended");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn scan_latencies(dir: &std::path::Path, n: usize) -> (Vec<Duration>, Vec<Duration>) {
    let link = dir.join("usb-Scanner-if00");
    let port = FakePort::plug(&link);
    let station = serial::station(dir, &[(&link, "main")], "").await;
    let sync: i64 = lib::with_conn(&station.app, |c| {
        c.query_row("PRAGMA synchronous", [], |r| r.get(0))
    })
    .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let api = station.supervisor().await;
    let batch = api.batch_on_lane("main", &station.today()).await;
    api.wait_scanner(0, "connected").await;
    let mut sse = Sse::open(&station.base).await;

    // The writer runs on its own thread; each write is timed from its return.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<usize>();
    let writer = std::thread::spawn(move || {
        let mut port = port;
        while let Ok(i) = go_rx.recv() {
            port.write(format!("C{:03}\r", i % 4 + 1).as_bytes());
            let _ = tx.send(Instant::now());
        }
        port
    });
    let mut out = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        go_tx.send(i).unwrap();
        let msg = sse.next("scan").await;
        let t1 = Instant::now();
        let t0 = rx.recv().await.unwrap();
        assert!(msg.contains("\"source\":\"serial\""), "{msg}");
        if i >= WARMUP {
            out.push(t1.saturating_duration_since(t0));
        }
    }
    drop(go_tx);
    let _port = writer.join().unwrap();
    let entries = api.wait_entries(&batch, n + WARMUP).await;
    assert_eq!(entries.len(), n + WARMUP, "every scan is an entry");
    drop(sse);
    api.batch_on_lane("direct", &station.today()).await;
    let core = core_scan(&station.app, "direct", n).await;
    station.stop().await;
    (out, core)
}

/// fdatasync floor: append 100 bytes and fdatasync, n times, in `dir`.
fn fsync_probe(dir: &std::path::Path, n: usize) -> Vec<Duration> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        f.write_all(&[b'x'; 100]).unwrap();
        let t0 = Instant::now();
        f.sync_data().unwrap();
        out.push(t0.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    out
}

/// The scanner layer alone: pty write -> serial task -> guard -> sink call (no database).
async fn scanner_layer(dir: &std::path::Path, n: usize) -> Vec<Duration> {
    #[derive(Clone)]
    struct Stamp(tokio::sync::mpsc::UnboundedSender<Instant>);
    impl lib::ScanSink for Stamp {
        async fn scan(&self, _: &str, _: &str, _: &'static str) -> Result<(), String> {
            let _ = self.0.send(Instant::now());
            Ok(())
        }
    }
    let link = dir.join("layer");
    let mut port = FakePort::plug(&link);
    let app = serial::app(dir, &[(&link, "main")]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let tasks = lib::spawn_scanners(&app, Stamp(tx), &stop_rx);
    eventually(DEADLINE, "scanner connected", || {
        let up = lib::scanner_states(&app)[0].state == ScannerState::Connected;
        async move { up.then_some(()) }
    })
    .await;
    let mut out = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        port.write(format!("C{:03}\r", i % 4 + 1).as_bytes());
        let t0 = Instant::now();
        let t1 = rx.recv().await.unwrap();
        if i >= WARMUP {
            out.push(t1.saturating_duration_since(t0));
        }
    }
    stop.send(true).unwrap();
    for t in tasks {
        let _ = t.await;
    }
    out
}

/// `App::scan` called directly on a station's lane (scan log, verdict, commit, publish), into a
/// batch of its own so it starts as empty as the SSE run's.
async fn core_scan(app: &lib::App, lane: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        let code = format!("C{:03}", i % 4 + 1);
        let t0 = Instant::now();
        lib::scan(app, lane, &code, "serial").await;
        if i >= WARMUP {
            out.push(t0.elapsed());
        }
    }
    out
}

async fn run_all(dir: &std::path::Path, label: &str, n: usize) {
    println!();
    println!("== database on {label}: {}", dir.display());
    let echo = echo_round_trips(dir, n).await;
    let layer = scanner_layer(dir, n).await;
    let fsync = fsync_probe(dir, n);
    let sub = dir.join("station");
    std::fs::create_dir_all(&sub).unwrap();
    let (scans, core) = scan_latencies(&sub, n).await;
    let (e50, e99) = summary("pty echo round trip", echo);
    summary("pty -> scanner sink (no db)", layer);
    summary("fdatasync (100 B append)", fsync);
    let (c50, c99) = summary("App::scan direct", core);
    let (s50, s99) = summary("pty -> scan event (SSE)", scans);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "added over the echo: p50 {:.3} ms, p99 {:.3} ms (target: p99 under 2 ms) -> {}",
        ms(s50.saturating_sub(e50)),
        ms(s99.saturating_sub(e99)),
        if s99.saturating_sub(e99) < Duration::from_millis(2) {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "the same less App::scan's own time (the core's share): p50 {:+.3} ms, p99 {:+.3} ms",
        ms(s50) - ms(e50) - ms(c50),
        ms(s99) - ms(e99) - ms(c99)
    );
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("scan_latency: {n} scans after {WARMUP} warm-up");
        let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        run_all(disk.path(), "disk (target/tmp)", n).await;
        if std::path::Path::new("/dev/shm").is_dir() {
            let shm = tempfile::tempdir_in("/dev/shm").unwrap();
            run_all(shm.path(), "tmpfs (/dev/shm)", n).await;
        }
    });
}
