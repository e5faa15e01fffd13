//! The real `scanstation` binary, as IT runs it: one-shot commands, and `serve` as a child
//! process whose start-up line gives its address (so it can listen on 127.0.0.1:0 like the
//! in-process stations).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The binary cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_scanstation");

/// `scanstation ARGS...`, not started yet.
pub fn scanstation<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(BIN);
    c.args(args);
    c
}

/// `scanstation ARGS...` started with umask 022, as IT would run it from a login shell (so
/// files are private because the station makes them so, not because of the test's umask).
pub fn scanstation_umask_022<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = scanstation(args);
    super::sys::child_umask(&mut c, 0o022);
    c
}

/// `scanstation check-config --config CONFIG`, run to the end.
pub fn check_config(config: &Path) -> Output {
    scanstation([OsStr::new("check-config"), OsStr::new("--config")])
        .arg(config)
        .output()
        .expect("run scanstation check-config")
}

/// `scanstation import --config CONFIG DATA`, run to the end.
pub fn import(config: &Path, data: &Path) -> Output {
    scanstation([OsStr::new("import"), OsStr::new("--config")])
        .arg(config)
        .arg(data)
        .output()
        .expect("run scanstation import")
}

/// `scanstation serve` in a child process, killed when dropped however the test ends.
pub struct Daemon {
    child: Child,
    /// `127.0.0.1:port`, from the start-up line.
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Start `scanstation serve --config CONFIG` and wait for the start-up line naming the
    /// address it listens on.
    pub fn serve(config: &Path) -> Daemon {
        let mut cmd = scanstation([OsStr::new("serve"), OsStr::new("--config")]);
        cmd.arg(config);
        Daemon::start(cmd)
    }

    /// [`Daemon::serve`] from a prepared `scanstation serve ...` command (e.g. with a umask,
    /// [`scanstation_umask_022`]); its stdin, stdout and stderr are set here.
    pub fn start(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start scanstation serve");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        // Read stderr to its end (a full pipe would stall the daemon); the first line naming
        // http://ADDR gives the address.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://") {
                    let addr = line[i + 7..].split([',', ' ']).next().unwrap_or("");
                    let _ = tx.send(addr.to_string());
                }
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let mut daemon = Daemon {
            child,
            addr: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => daemon.addr = addr,
            Err(_) => panic!(
                "serve logs its start-up line with the address within 20 s; its log:\n{}",
                daemon.log()
            ),
        }
        daemon
    }

    /// `http://ADDR/api/v1`.
    pub fn base(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the daemon wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// SIGTERM, as systemd stops the service.
    pub fn terminate(&self) {
        super::sys::terminate(self.child.id());
    }

    /// SIGKILL (kill -9), and reap it.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill the daemon");
        self.child.wait().expect("reap the daemon");
    }

    /// Wait until it exits; panics after `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let child = &mut self.child;
        super::wait::eventually_blocking(deadline, "serve to exit", || {
            child.try_wait().expect("daemon status")
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
