//! `scanstation scanners`: list the input devices and serial ports a scanner could be, with what
//! IT needs to write the `[[scanner]]` config (name, vendor:product, stable by-id path).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::hid::keyboard_like;

/// Words in a device name that say "barcode scanner".
const SCANNER_WORDS: &[&str] = &[
    "scan",
    "barcode",
    "bar code",
    "symbol",
    "honeywell",
    "zebra",
    "datalogic",
    "newland",
    "metrologic",
    "hand held products",
    "opticon",
    "code corp",
    "netum",
    "tera",
    "inateck",
    "eyoyo",
    "wasp",
    "posiflex",
];

pub fn looks_like_scanner(name: &str) -> bool {
    let n = name.to_lowercase();
    SCANNER_WORDS.iter().any(|w| n.contains(w))
}

/// Symlinks in `dir` (e.g. /dev/input/by-id) by the node they point at.
fn links_in(dir: &Path) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut map: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let link = e.path();
            if let Ok(target) = std::fs::canonicalize(&link) {
                map.entry(target).or_default().push(link);
            }
        }
    }
    for v in map.values_mut() {
        v.sort();
    }
    map
}

fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// vendor:product and product name of a tty from sysfs (USB devices only).
fn tty_usb_info(node: &Path) -> Option<(String, String)> {
    let name = node.file_name()?.to_str()?;
    let mut dir = std::fs::canonicalize(format!("/sys/class/tty/{name}/device")).ok()?;
    for _ in 0..4 {
        if let (Some(v), Some(p)) = (
            read_trim(&dir.join("idVendor")),
            read_trim(&dir.join("idProduct")),
        ) {
            let product = read_trim(&dir.join("product")).unwrap_or_default();
            return Some((format!("{v}:{p}"), product));
        }
        dir = dir.parent()?.to_path_buf();
    }
    None
}

struct HidCandidate {
    path: PathBuf,
    name: String,
    vid_pid: String,
    by_id: Vec<PathBuf>,
    likely: bool,
}

/// Stable names for device nodes: the package's udev links (/dev/scanstation/hid-..., serial-...)
/// first, then the kernel's by-id links.
fn stable_links(by_id: &str) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut map = links_in(Path::new("/dev/scanstation"));
    for (target, links) in links_in(Path::new(by_id)) {
        map.entry(target).or_default().extend(links);
    }
    map
}

fn hid_candidates() -> (Vec<HidCandidate>, usize) {
    let by_id = stable_links("/dev/input/by-id");
    let mut unreadable = 0;
    let mut out = Vec::new();
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev/input")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("event"))
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.trim_start_matches("event").parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    });
    for path in nodes {
        let dev = match evdev::raw_stream::RawDevice::open(&path) {
            Ok(d) => d,
            Err(_) => {
                unreadable += 1;
                continue;
            }
        };
        if !keyboard_like(&dev) {
            continue;
        }
        let name = dev.name().unwrap_or("").to_string();
        let id = dev.input_id();
        let canon = std::fs::canonicalize(&path).unwrap_or(path.clone());
        out.push(HidCandidate {
            likely: looks_like_scanner(&name),
            vid_pid: format!("{:04x}:{:04x}", id.vendor(), id.product()),
            by_id: by_id.get(&canon).cloned().unwrap_or_default(),
            name,
            path,
        });
    }
    (out, unreadable)
}

struct SerialCandidate {
    node: PathBuf,
    by_id: Vec<PathBuf>,
    usb: Option<(String, String)>,
}

fn serial_candidates() -> Vec<SerialCandidate> {
    let by_id = stable_links("/dev/serial/by-id");
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with("ttyACM")
                            || n.starts_with("ttyUSB")
                            || n.starts_with("rfcomm")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    for target in by_id.keys() {
        let tty = target
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("tty") || n.starts_with("rfcomm"));
        if tty && !nodes.contains(target) {
            nodes.push(target.clone());
        }
    }
    nodes.sort();
    nodes
        .into_iter()
        .map(|node| SerialCandidate {
            by_id: by_id.get(&node).cloned().unwrap_or_default(),
            usb: tty_usb_info(&node),
            node,
        })
        .collect()
}

/// `scanstation scanners`: list candidate HID and serial devices.
pub fn print_candidates() -> anyhow::Result<()> {
    let (hid, unreadable) = hid_candidates();
    println!("Keyboard-mode (HID) input devices:");
    if hid.is_empty() {
        println!("  none found");
    }
    for c in &hid {
        let mark = if c.likely {
            "  <- looks like a scanner"
        } else {
            ""
        };
        println!(
            "  {}  \"{}\"  {}{}",
            c.path.display(),
            c.name,
            c.vid_pid,
            mark
        );
        for l in &c.by_id {
            println!("      stable path: {}", l.display());
        }
    }
    if unreadable > 0 {
        println!(
            "  ({unreadable} input devices could not be opened: run as root or as a member of the \
             input group to see them all)"
        );
    }
    println!();
    println!("Serial ports:");
    let serial = serial_candidates();
    if serial.is_empty() {
        println!("  none found");
    }
    for c in &serial {
        match &c.usb {
            Some((vp, product)) => {
                println!("  {}  \"{}\"  {}", c.node.display(), product, vp)
            }
            None => println!("  {}", c.node.display()),
        }
        for l in &c.by_id {
            println!("      stable path: {}", l.display());
        }
    }
    println!();
    println!("Config examples (prefer the stable paths: they survive re-plugging and reboots):");
    if let Some(c) = hid.iter().find(|c| c.likely).or(hid.first()) {
        let path = c.by_id.first().unwrap_or(&c.path);
        println!(
            "  [[scanner]]\n  kind = \"hid\"\n  path = \"{}\"   # or match = \"{}\"\n  lane = \"main\"\n",
            path.display(),
            c.vid_pid
        );
    }
    if let Some(c) = serial.first() {
        let path = c.by_id.first().unwrap_or(&c.node);
        println!(
            "  [[scanner]]\n  kind = \"serial\"\n  path = \"{}\"\n  baud = 9600\n  lane = \"main\"",
            path.display()
        );
    }
    if hid.is_empty() && serial.is_empty() {
        println!("  (plug a scanner in and run this again)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_names_are_recognised() {
        assert!(looks_like_scanner(
            "Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner"
        ));
        assert!(looks_like_scanner("Honeywell Imaging & Mobility 1900"));
        assert!(!looks_like_scanner("AT Translated Set 2 keyboard"));
    }
}
