//! Shared by the serial tests: fake serial scanners on real pseudo-terminals, a station built
//! from a temp config, and waiting on a condition with a deadline.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A serial scanner: the master side of a pty whose slave is reachable through `link`.
pub struct FakePort {
    master: Option<File>,
    link: PathBuf,
    pub node: PathBuf,
}

impl FakePort {
    /// Plug in: a new pty (raw mode) and `link` pointing at its slave, replaced atomically.
    pub fn plug(link: &Path) -> FakePort {
        let (mut m, mut s) = (0, 0);
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        let mut name = [0 as libc::c_char; 128];
        let rc = unsafe { libc::ttyname_r(s, name.as_mut_ptr(), name.len()) };
        assert_eq!(rc, 0, "ttyname_r");
        let node = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(s, &mut t), 0);
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
            libc::close(s);
        }
        let tmp = link.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&node, &tmp).unwrap();
        std::fs::rename(&tmp, link).unwrap();
        FakePort {
            master: Some(unsafe { File::from_raw_fd(m) }),
            link: link.to_path_buf(),
            node: PathBuf::from(node),
        }
    }

    /// The scanner sends bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        let m = self.master.as_mut().expect("plugged in");
        m.write_all(bytes).unwrap();
        m.flush().unwrap();
    }

    /// Unplug: the pty goes away (the reader gets an error or end of file) and so does the link.
    pub fn unplug(&mut self) {
        self.master = None;
        let _ = std::fs::remove_file(&self.link);
    }
}

/// Another program holding the port: an exclusive flock on it, as serial programs take.
pub fn hold_exclusive(path: &Path) -> File {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "flock: {}", std::io::Error::last_os_error());
    f
}

/// The config text for a station with these serial scanners (path, lane).
pub fn config_text(dir: &Path, scanners: &[(&Path, &str)]) -> String {
    let mut t = format!(
        "[station]\nid = \"test\"\ntimezone = \"America/Chicago\"\n[storage]\ndatabase = \"{}\"\n",
        dir.join("station.db").display()
    );
    for (path, lane) in scanners {
        t.push_str(&format!(
            "[[scanner]]\nkind = \"serial\"\npath = \"{}\"\nlane = \"{lane}\"\nterminator = \"CR\"\n",
            path.display()
        ));
    }
    t
}

/// A station (real SQLite file in `dir`) with these serial scanners.
pub fn test_app(dir: &Path, scanners: &[(&Path, &str)]) -> scanstation::app::App {
    let text = config_text(dir, scanners);
    let settings = scanstation::config::Config::parse(&text, Path::new("test.toml"))
        .unwrap()
        .check()
        .unwrap();
    let store = scanstation::store::Store::open(&dir.join("station.db")).unwrap();
    scanstation::app::App::new(settings, store)
}

/// Poll `f` until it gives a value, or fail after 10 s naming what was awaited.
pub async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
