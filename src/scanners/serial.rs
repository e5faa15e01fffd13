//! Serial (CDC-ACM, USB-serial, RS-232) scanners through tokio-serial.
//!
//! Open the configured path exclusively (TIOCEXCL and an exclusive flock), read frames, and when
//! the port goes away (unplug: read error or end of file) close it and retry with backoff until
//! the path opens again; a `/dev/serial/by-id` symlink that comes back pointing at a new node is
//! picked up the same way. Garbage never ends the task: noise frames are dropped with a log line,
//! frames with some text and some garbage go to the core as unreadable cards.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, watch};
use tokio_serial::SerialPortBuilderExt;

use super::frame::{classify, FrameEvent, FrameSplitter, FrameText};
use super::{sleep_or_shutdown, Read, StatusHandle, OPEN_RETRY};
use crate::app::ScannerState;
use crate::config::{ScannerKind, ScannerSettings};
use crate::scanners::keys::DEFAULT_MAX_LEN;

/// A partial frame older than this is dropped when more bytes come.
const STALE_FRAME: Duration = Duration::from_secs(1);
/// A connection that lived at least this long resets the retry delay.
const STABLE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct SerialOptions {
    pub path: PathBuf,
    pub baud: u32,
    pub max_len: usize,
}

impl SerialOptions {
    pub fn from_config(cfg: &ScannerSettings) -> SerialOptions {
        let (path, baud) = match &cfg.kind {
            ScannerKind::Serial { path, baud } => (path.clone(), *baud),
            ScannerKind::Hid { path, .. } => (path.clone().unwrap_or_default(), 9600),
        };
        SerialOptions {
            path,
            baud,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

/// Why a connection ended.
enum End {
    Shutdown,
    Lost(String),
}

/// Sort an open error into a board state and a reason for people.
fn open_error(e: &tokio_serial::Error, path: &std::path::Path) -> (ScannerState, String) {
    use std::io::ErrorKind as Io;
    use tokio_serial::ErrorKind as K;
    if !path.exists() {
        return (ScannerState::Missing, "not plugged in (path absent)".into());
    }
    match e.kind {
        K::Io(Io::NotFound) => (ScannerState::Missing, "not plugged in (path absent)".into()),
        K::NoDevice if e.description.contains("lock") || e.description.contains("busy") => (
            ScannerState::Busy,
            "another program holds the port".to_string(),
        ),
        K::NoDevice => (ScannerState::Busy, format!("port busy: {}", e.description)),
        // A node left behind by an unplugged device, until its last user closes it.
        K::Unknown
            if e.description.contains("No such device")
                || e.description.contains("Input/output error") =>
        {
            (ScannerState::Missing, "device gone (unplugged)".into())
        }
        K::Io(Io::PermissionDenied) => (
            ScannerState::Error,
            "permission denied (the service user needs the dialout group)".into(),
        ),
        _ => (
            ScannerState::Error,
            format!("cannot open: {}", e.description),
        ),
    }
}

fn now_us(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Run one serial scanner until shutdown.
pub async fn run(
    opts: SerialOptions,
    name: String,
    out: mpsc::Sender<Read>,
    status: StatusHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = OPEN_RETRY.retries();
    let origin = Instant::now();
    let path_text = opts.path.display().to_string();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let opened = tokio_serial::new(path_text.as_str(), opts.baud)
            .timeout(Duration::from_millis(0))
            .open_native_async();
        match opened {
            Ok(mut port) => {
                // Belt and braces: the builder opens exclusively by default.
                if let Err(e) = port.set_exclusive(true) {
                    log::warn!("scanner {name}: could not make the port exclusive: {e}");
                }
                let since = Instant::now();
                status.set(ScannerState::Connected, None, Some(path_text.clone()));
                log::info!("scanner {name} connected ({path_text})");
                let mut splitter = FrameSplitter::new(opts.max_len, STALE_FRAME);
                let (end, frames) =
                    read_port(&mut port, &mut splitter, &name, &out, &mut shutdown, origin).await;
                drop(port);
                if let Some(n) = splitter.reset() {
                    log::info!("scanner {name}: partial frame of {n} bytes dropped on disconnect");
                }
                match end {
                    End::Shutdown => {
                        status.set(ScannerState::Missing, Some("stopped".into()), None);
                        log::info!("scanner {name} closed (shutting down)");
                        break;
                    }
                    End::Lost(reason) => {
                        status.set(ScannerState::Missing, Some(reason.clone()), None);
                        log::warn!("scanner {name} disconnected ({reason})");
                    }
                }
                if since.elapsed() >= STABLE || frames > 0 {
                    backoff.reset();
                }
            }
            Err(e) => {
                let (state, reason) = open_error(&e, &opts.path);
                if status.set(state, Some(reason.clone()), None) {
                    if state == ScannerState::Missing {
                        log::info!("scanner {name} missing: {reason}");
                    } else {
                        log::warn!("scanner {name}: {reason}");
                    }
                }
            }
        }
        if sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await {
            break;
        }
    }
}

/// Read until the port fails or shutdown; returns why it ended and how many frames it gave.
async fn read_port(
    port: &mut tokio_serial::SerialStream,
    splitter: &mut FrameSplitter,
    name: &str,
    out: &mpsc::Sender<Read>,
    shutdown: &mut watch::Receiver<bool>,
    origin: Instant,
) -> (End, usize) {
    let mut buf = [0u8; 512];
    let mut frames = 0;
    loop {
        let n = tokio::select! {
            r = port.read(&mut buf) => match r {
                Ok(0) => return (End::Lost("end of file (unplugged)".into()), frames),
                Ok(n) => n,
                Err(e) => return (End::Lost(format!("read failed: {e}")), frames),
            },
            _ = shutdown.wait_for(|s| *s) => return (End::Shutdown, frames),
        };
        let at = Instant::now();
        for ev in splitter.push(now_us(origin), &buf[..n]) {
            let text = match ev {
                FrameEvent::Frame(bytes) => match classify(&bytes) {
                    FrameText::Text(t) => t,
                    FrameText::Unreadable { text, len } => {
                        log::warn!("unreadable frame on scanner {name} ({len} bytes)");
                        text
                    }
                    FrameText::Noise { len } => {
                        log::info!("scanner {name}: {len} bytes of line noise dropped");
                        continue;
                    }
                },
                FrameEvent::TooLong { len } => {
                    log::warn!("scanner {name}: frame of {len} bytes over the length cap dropped");
                    continue;
                }
                FrameEvent::Stale { len } => {
                    log::info!("scanner {name}: unterminated {len} bytes dropped");
                    continue;
                }
            };
            frames += 1;
            if out.send(Read { text, at }).await.is_err() {
                return (End::Shutdown, frames);
            }
        }
    }
}
