//! Keyboard-mode (HID) scanners through evdev. A thin device layer: the decoding is
//! [`crate::scanners::keys`].
//!
//! Find the device (by path, `vendor:product` or name), wait until no key is held, grab it so no
//! keystroke reaches the kiosk browser or a console, read events into the decoder, and on unplug
//! (read error) release it and look again with backoff. Someone else holding the grab shows as
//! `busy`. On shutdown the grab is released before the task ends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use evdev::raw_stream::RawDevice;
use evdev::{EventType, KeyCode, LedCode};
use tokio::sync::{mpsc, watch};

use super::{sleep_or_shutdown, Read, StatusHandle, OPEN_RETRY};
use crate::app::ScannerState;
use crate::config::{ScannerKind, ScannerSettings};
use crate::scanners::keys::{self, KeyDecoder, KeyEvent, KeyOutput, DEFAULT_MAX_LEN};

/// How long to wait for held keys to be released before grabbing anyway.
const RELEASE_WAIT: Duration = Duration::from_secs(10);
/// Re-enumerate /dev/input for a `match` at least this often even if the folder did not change.
const RESCAN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub enum Selector {
    Path(PathBuf),
    VendorProduct(u16, u16),
    Name(String),
}

impl Selector {
    /// `path` wins; else `match` as `vvvv:pppp` (hex) or a device name (case-insensitive
    /// substring).
    pub fn from_config(path: Option<&Path>, match_: Option<&str>) -> Option<Selector> {
        if let Some(p) = path {
            return Some(Selector::Path(p.to_path_buf()));
        }
        let m = match_?.trim();
        if let Some((v, p)) = m.split_once(':') {
            let hex =
                |s: &str| (1..=4).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit());
            if hex(v) && hex(p) {
                if let (Ok(v), Ok(p)) = (u16::from_str_radix(v, 16), u16::from_str_radix(p, 16)) {
                    return Some(Selector::VendorProduct(v, p));
                }
            }
        }
        Some(Selector::Name(m.to_string()))
    }

    pub fn matches(&self, name: &str, vendor: u16, product: u16) -> bool {
        match self {
            Selector::Path(_) => true,
            Selector::VendorProduct(v, p) => *v == vendor && *p == product,
            Selector::Name(n) => name.to_lowercase().contains(&n.to_lowercase()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HidOptions {
    pub selector: Option<Selector>,
    pub key_timeout: Duration,
    pub max_len: usize,
}

impl HidOptions {
    pub fn from_config(cfg: &ScannerSettings) -> HidOptions {
        let (path, matches) = match &cfg.kind {
            ScannerKind::Hid { path, matches } => (path.as_deref(), matches.as_deref()),
            ScannerKind::Serial { path, .. } => (Some(path.as_path()), None),
        };
        HidOptions {
            selector: Selector::from_config(path, matches),
            key_timeout: cfg.key_timeout,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

/// True for devices that can type a code: digits and Enter.
pub fn keyboard_like(dev: &RawDevice) -> bool {
    dev.supported_keys().is_some_and(|k| {
        k.contains(KeyCode::KEY_1) && k.contains(KeyCode::KEY_0) && k.contains(KeyCode::KEY_ENTER)
    })
}

/// Candidate event devices for a selector, best first.
fn candidates(sel: &Selector) -> Result<Vec<PathBuf>, (ScannerState, String)> {
    match sel {
        Selector::Path(p) => {
            if p.exists() {
                Ok(vec![p.clone()])
            } else {
                Err((ScannerState::Missing, "not plugged in (path absent)".into()))
            }
        }
        _ => {
            let mut found: Vec<PathBuf> = evdev::raw_stream::enumerate()
                .filter(|(_, d)| {
                    let id = d.input_id();
                    keyboard_like(d)
                        && sel.matches(d.name().unwrap_or(""), id.vendor(), id.product())
                })
                .map(|(p, _)| p)
                .collect();
            found.sort();
            if found.is_empty() {
                Err((ScannerState::Missing, "no matching input device".into()))
            } else {
                Ok(found)
            }
        }
    }
}

fn open_error(e: &std::io::Error) -> (ScannerState, String) {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => (ScannerState::Missing, "not plugged in (path absent)".into()),
        K::PermissionDenied => (
            ScannerState::Error,
            "permission denied (the service user needs the input group)".into(),
        ),
        _ if e.raw_os_error() == Some(libc_enodev()) => {
            (ScannerState::Missing, "device gone".into())
        }
        _ => (ScannerState::Error, format!("cannot open: {e}")),
    }
}

const fn libc_enodev() -> i32 {
    19 // ENODEV on Linux
}
const EBUSY: i32 = 16;

/// Wait (bounded) until no key is held on the device, so grabbing cannot leave a key stuck down
/// for whoever had it before. False when shutting down.
async fn wait_keys_released(dev: &RawDevice, shutdown: &mut watch::Receiver<bool>) -> bool {
    let start = Instant::now();
    loop {
        match dev.get_key_state() {
            Ok(keys) if keys.iter().next().is_some() && start.elapsed() < RELEASE_WAIT => {}
            _ => return true,
        }
        if sleep_or_shutdown(Duration::from_millis(20), shutdown).await {
            return false;
        }
    }
}

enum Opened {
    Grabbed(PathBuf, RawDevice),
    Failed(ScannerState, String),
    Shutdown,
}

async fn open_and_grab(sel: &Selector, shutdown: &mut watch::Receiver<bool>) -> Opened {
    let paths = match candidates(sel) {
        Ok(p) => p,
        Err((s, r)) => return Opened::Failed(s, r),
    };
    let mut last = (
        ScannerState::Missing,
        "no matching input device".to_string(),
    );
    for path in paths {
        let mut dev = match RawDevice::open(&path) {
            Ok(d) => d,
            Err(e) => {
                last = open_error(&e);
                continue;
            }
        };
        if !keyboard_like(&dev) {
            last = (
                ScannerState::Error,
                "not a keyboard-mode device (no digit or Enter keys)".into(),
            );
            continue;
        }
        if !wait_keys_released(&dev, shutdown).await {
            return Opened::Shutdown;
        }
        match dev.grab() {
            Ok(()) => return Opened::Grabbed(path, dev),
            Err(e) if e.raw_os_error() == Some(EBUSY) => {
                last = (
                    ScannerState::Busy,
                    "another program has grabbed the device".into(),
                );
            }
            Err(e) => last = open_error(&e),
        }
    }
    Opened::Failed(last.0, last.1)
}

fn event_time_us(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The modification time of /dev/input, to notice devices coming and going cheaply.
fn input_dir_stamp() -> Option<SystemTime> {
    std::fs::metadata("/dev/input")
        .and_then(|m| m.modified())
        .ok()
}

/// Run one HID scanner until shutdown.
pub async fn run(
    opts: HidOptions,
    name: String,
    out: mpsc::Sender<Read>,
    status: StatusHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(sel) = opts.selector.clone() else {
        status.set(
            ScannerState::Error,
            Some("no path or match configured".into()),
            None,
        );
        let _ = shutdown.wait_for(|s| *s).await;
        return;
    };
    let by_match = !matches!(sel, Selector::Path(_));
    let mut backoff = OPEN_RETRY.retries();
    let mut stamp = None;
    let mut last_scan = Instant::now() - RESCAN;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // For a match, enumerating opens every event device: only when /dev/input changed.
        let look = !by_match || {
            let now = input_dir_stamp();
            now != stamp || last_scan.elapsed() >= RESCAN
        };
        if look {
            stamp = input_dir_stamp();
            last_scan = Instant::now();
            match open_and_grab(&sel, &mut shutdown).await {
                Opened::Shutdown => break,
                Opened::Failed(state, reason) => {
                    if status.set(state, Some(reason.clone()), None) {
                        if state == ScannerState::Missing {
                            log::info!("scanner {name} missing: {reason}");
                        } else {
                            log::warn!("scanner {name}: {reason}");
                        }
                    }
                }
                Opened::Grabbed(path, dev) => {
                    let path_text = path.display().to_string();
                    let since = Instant::now();
                    let caps = dev
                        .get_led_state()
                        .map(|l| l.contains(LedCode::LED_CAPSL))
                        .unwrap_or(false);
                    let decoder =
                        KeyDecoder::new(opts.key_timeout, opts.max_len).with_caps_lock(caps);
                    status.set(ScannerState::Connected, None, Some(path_text.clone()));
                    log::info!("scanner {name} connected ({path_text}, grabbed)");
                    let end = read_device(dev, decoder, &name, &out, &mut shutdown).await;
                    match end {
                        None => {
                            status.set(ScannerState::Missing, Some("stopped".into()), None);
                            log::info!("scanner {name} released (shutting down)");
                            break;
                        }
                        Some(reason) => {
                            status.set(ScannerState::Missing, Some(reason.clone()), None);
                            log::warn!("scanner {name} disconnected ({reason})");
                        }
                    }
                    if since.elapsed() >= Duration::from_secs(2) {
                        backoff.reset();
                    }
                }
            }
        }
        if sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await {
            break;
        }
    }
}

/// Read events until the device fails (Some(reason)) or shutdown (None; grab released).
async fn read_device(
    dev: RawDevice,
    mut decoder: KeyDecoder,
    name: &str,
    out: &mpsc::Sender<Read>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<String> {
    let mut stream = match dev.into_event_stream() {
        Ok(s) => s,
        Err(e) => return Some(format!("cannot read: {e}")),
    };
    loop {
        let ev = tokio::select! {
            r = stream.next_event() => r,
            _ = shutdown.wait_for(|s| *s) => {
                if let Err(e) = stream.device_mut().ungrab() {
                    log::warn!("scanner {name}: releasing the grab failed: {e}");
                }
                return None;
            }
        };
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                if let Some(KeyOutput::Dropped { chars, .. }) = decoder.disconnect() {
                    log::info!("scanner {name}: partial code of {chars} characters dropped");
                }
                let reason = if e.raw_os_error() == Some(libc_enodev()) {
                    "unplugged".to_string()
                } else {
                    format!("read failed: {e}")
                };
                return Some(reason);
            }
        };
        let kev = KeyEvent::new(
            event_time_us(ev.timestamp()),
            ev.event_type().0,
            ev.code(),
            ev.value(),
        );
        let lost = kev.kind == EventType::SYNCHRONIZATION.0 && kev.code == keys::SYN_DROPPED;
        match decoder.feed(kev) {
            Some(KeyOutput::Code(text)) => {
                let read = Read {
                    text,
                    at: Instant::now(),
                };
                if out.send(read).await.is_err() {
                    return None;
                }
            }
            Some(KeyOutput::Dropped { reason, chars }) => {
                log::info!(
                    "scanner {name}: partial code of {chars} characters dropped ({})",
                    reason.as_str()
                );
            }
            None => {}
        }
        if lost {
            // Releases may have been lost with the events: ask the device what is held now.
            if let Ok(held) = stream.device().get_key_state() {
                decoder.set_held_modifiers(
                    held.contains(KeyCode::KEY_LEFTSHIFT) || held.contains(KeyCode::KEY_RIGHTSHIFT),
                    held.contains(KeyCode::KEY_LEFTCTRL) || held.contains(KeyCode::KEY_RIGHTCTRL),
                    held.contains(KeyCode::KEY_LEFTALT) || held.contains(KeyCode::KEY_RIGHTALT),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_from_config() {
        let p = Path::new("/dev/input/by-id/usb-Symbol-event-kbd");
        assert!(matches!(
            Selector::from_config(Some(p), Some("05e0:1200")),
            Some(Selector::Path(x)) if x == p
        ));
        assert!(matches!(
            Selector::from_config(None, Some("05e0:1200")),
            Some(Selector::VendorProduct(0x05e0, 0x1200))
        ));
        assert!(matches!(
            Selector::from_config(None, Some(" 5e0:A ")),
            Some(Selector::VendorProduct(0x05e0, 0x000a))
        ));
        // Not hex, or too long: a name.
        assert!(matches!(
            Selector::from_config(None, Some("Scanner:Left")),
            Some(Selector::Name(n)) if n == "Scanner:Left"
        ));
        assert!(matches!(
            Selector::from_config(None, Some("12345:1")),
            Some(Selector::Name(_))
        ));
        assert!(Selector::from_config(None, None).is_none());
    }

    #[test]
    fn selector_matches() {
        let vp = Selector::VendorProduct(0x05e0, 0x1200);
        assert!(vp.matches("anything", 0x05e0, 0x1200));
        assert!(!vp.matches("anything", 0x05e0, 0x1201));
        let name = Selector::Name("bar code".into());
        assert!(name.matches("Symbol Bar Code Scanner", 1, 2));
        assert!(!name.matches("AT Translated Set 2 keyboard", 1, 2));
    }
}
