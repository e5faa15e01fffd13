//! Fake serial scanners on real pseudo-terminals. The test writes to the master; the station
//! opens the slave through a symlink that stands in for /dev/serial/by-id/... Unplugging closes
//! the master and removes the link; plugging in again makes a new pty behind the same link.
//!
//! Also: a station with serial scanners (the whole daemon), and a rig running the scanner tasks
//! alone with a recording sink instead of the station core.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::lib::{self, App, ScanSink, ScannerState, ScannerStatus};
use super::station::Station;
use super::wait::{eventually, DEADLINE};

/// A serial scanner: the master side of a pty whose slave is reachable through `link`.
pub struct FakePort {
    master: Option<File>,
    link: PathBuf,
    pub node: PathBuf,
}

impl FakePort {
    /// Plug in: a new pty (raw mode) and `link` pointing at its slave, replaced atomically.
    pub fn plug(link: &Path) -> FakePort {
        let (master, node) = super::sys::openpty_raw();
        let tmp = link.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&node, &tmp).expect("symlink to the pty");
        std::fs::rename(&tmp, link).expect("link in place");
        FakePort {
            master: Some(master),
            link: link.to_path_buf(),
            node,
        }
    }

    /// The scanner sends bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        let m = self.master.as_mut().expect("plugged in");
        m.write_all(bytes).expect("write to the pty");
        m.flush().expect("flush the pty");
    }

    /// Read exactly `buf.len()` bytes the other side sent back (blocking).
    pub fn read_exact(&mut self, buf: &mut [u8]) {
        self.master
            .as_mut()
            .expect("plugged in")
            .read_exact(buf)
            .expect("read from the pty");
    }

    /// Unplug: the pty goes away (the reader gets an error or end of file) and so does the link.
    pub fn unplug(&mut self) {
        self.master = None;
        let _ = std::fs::remove_file(&self.link);
    }
}

/// Another program holding the port: an exclusive flock on it, as serial programs take.
pub fn hold_exclusive(path: &Path) -> File {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .expect("open the port");
    super::sys::flock_exclusive(&f);
    f
}

/// The whole station (the daemon's `run`) in `dir` with the hmis/basic enrollment data and these
/// serial scanners (path, lane); `keys` are more lines of each `[[scanner]]` table.
pub async fn station(dir: &Path, scanners: &[(&Path, &str)], keys: &str) -> Station {
    Station::builder_at(dir)
        .import(&super::fixture("hmis/basic"))
        .config(|mut c| {
            for (path, lane) in scanners {
                c = c.serial_scanner(path, lane, keys);
            }
            c
        })
        .start()
        .await
}

/// The app of a station in `dir` with these serial scanners (terminator CR), nothing running.
pub fn app(dir: &Path, scanners: &[(&Path, &str)]) -> App {
    let mut c = super::StationConfig::new(dir).station_id("test");
    for (path, lane) in scanners {
        c = c.serial_scanner(path, lane, "terminator = \"CR\"");
    }
    lib::open_app(c.settings())
}

/// (lane, raw, source) of each code handed over.
pub type Handed = Vec<(String, String, &'static str)>;

/// A scan sink that records what the scanner layer hands over.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Handed>>);

impl ScanSink for Recorder {
    async fn scan(&self, lane: &str, raw: &str, source: &'static str) -> Result<(), String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((
            lane.to_string(),
            raw.to_string(),
            source,
        ));
        Ok(())
    }
}

impl Recorder {
    pub fn all(&self) -> Handed {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn codes(&self, lane: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|(l, _, _)| l == lane)
            .map(|(_, c, _)| c)
            .collect()
    }
    /// Wait until `n` codes arrived on `lane`; returns them.
    pub async fn wait_codes(&self, lane: &str, n: usize) -> Vec<String> {
        eventually(DEADLINE, &format!("{n} codes on lane {lane}"), || {
            let c = self.codes(lane);
            async move { (c.len() >= n).then_some(c) }
        })
        .await
    }
}

/// The scanner tasks of a station, as in the daemon, handing codes to a [`Recorder`].
pub struct Rig {
    pub app: App,
    pub rec: Recorder,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub fn start(dir: tempfile::TempDir, scanners: &[(&Path, &str)]) -> Rig {
        let app = app(dir.path(), scanners);
        let rec = Recorder::default();
        let (stop, rx) = tokio::sync::watch::channel(false);
        let tasks = lib::spawn_scanners(&app, rec.clone(), &rx);
        Rig {
            app,
            rec,
            stop,
            tasks,
            _dir: dir,
        }
    }

    /// Scanner `index`'s status now.
    pub fn status(&self, index: usize) -> ScannerStatus {
        lib::scanner_states(&self.app)[index].clone()
    }

    pub async fn wait_state(&self, index: usize, state: ScannerState) {
        eventually(DEADLINE, &format!("scanner {index} {state:?}"), || {
            let now = self.status(index).state;
            async move { (now == state).then_some(()) }
        })
        .await
    }

    pub async fn stop(self) {
        self.stop.send(true).expect("scanner tasks listening");
        for t in self.tasks {
            tokio::time::timeout(Duration::from_secs(5), t)
                .await
                .expect("scanner task stops on shutdown")
                .expect("scanner task ends cleanly");
        }
    }
}
