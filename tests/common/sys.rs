//! The harness's only `unsafe`: the libc calls std has no safe form of (pseudo-terminals, flock,
//! signals to a process or a process group, a child's umask). Each block says why it is sound.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// A new pseudo-terminal in raw mode: the master end, and the path of its slave (the slave fd
/// itself is closed; the device stays while the master is open).
pub fn openpty_raw() -> (File, PathBuf) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two fds into the given ints; the name, termios and winsize
    // pointers may be null (then they are neither read nor written).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just returned by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: the buffer is valid for `name.len()` bytes; ttyname_r NUL-terminates on success.
    let rc = unsafe { libc::ttyname_r(slave.as_raw_fd(), name.as_mut_ptr(), name.len()) };
    assert_eq!(rc, 0, "ttyname_r");
    // SAFETY: ttyname_r succeeded, so `name` holds a NUL-terminated string.
    let node = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: termios is plain data (all-zero is a valid value to be overwritten); tcgetattr
    // fills it from a valid fd, cfmakeraw and tcsetattr only read and write that struct.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(slave.as_raw_fd(), &mut t), 0, "tcgetattr");
        libc::cfmakeraw(&mut t);
        assert_eq!(
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t),
            0,
            "tcsetattr"
        );
    }
    drop(slave);
    (master, PathBuf::from(node))
}

/// Take an exclusive, non-blocking flock on an open file, as serial programs do.
pub fn flock_exclusive(f: &File) {
    // SAFETY: flock on a valid fd owned by `f`; it touches no memory.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "flock: {}", std::io::Error::last_os_error());
}

/// SIGTERM to one process.
pub fn terminate(pid: u32) {
    // SAFETY: kill(2) touches no memory; a stale pid at worst gets ESRCH.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    assert_eq!(
        rc,
        0,
        "kill -TERM {pid}: {}",
        std::io::Error::last_os_error()
    );
}

/// SIGKILL to a whole process group (a child started with `process_group(0)` and everything
/// it started).
pub fn kill_group(pgid: u32) {
    // SAFETY: kill(2) with a negative pid signals the group; it touches no memory.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

/// Start the child with this umask (e.g. 0o022, a login shell's), whatever the test's own is.
pub fn child_umask(cmd: &mut Command, mask: u32) {
    let mask = mask as libc::mode_t;
    // SAFETY: the hook runs in the forked child before exec; umask(2) is async-signal-safe,
    // allocates nothing and touches only the child's own file mode mask.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        });
    }
}
