//! Real small filesystems for the disk-fault tests: a size-limited tmpfs (fills up for real) and
//! a loop-mounted ext4 image (the kernel can turn it read-only under open files, as it does when
//! a disk fails). Needs root and `mount`; [`mount_allowed`] tells whether this machine can.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Root, and a tmpfs can be mounted here (a container without CAP_SYS_ADMIN cannot).
pub fn mount_allowed() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("the disk-fault tests mount filesystems: they need root".into());
    }
    let probe = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut disk = SmallDisk {
        dir: probe.path().to_path_buf(),
        mounted: false,
        _holder: None,
    };
    run(Command::new("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"]).arg(&disk.dir))?;
    disk.mounted = true;
    Ok(())
}

/// A tmpfs of a fixed size mounted on a temp folder; unmounted when dropped.
pub struct SmallDisk {
    dir: PathBuf,
    mounted: bool,
    _holder: Option<tempfile::TempDir>,
}

impl SmallDisk {
    /// Mount a tmpfs of `mib` MiB.
    pub fn tmpfs(mib: u32) -> SmallDisk {
        let holder = tempfile::tempdir().expect("a mount point");
        let dir = holder.path().to_path_buf();
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=0700"), "tmpfs"])
            .arg(&dir))
        .expect("mount a tmpfs");
        SmallDisk {
            dir,
            mounted: true,
            _holder: Some(holder),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Fill the filesystem to the last byte with `filler` (ENOSPC ends it); returns its size.
    pub fn fill(&self) -> u64 {
        let path = self.dir.join("filler");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open the filler");
        let mut written = 0u64;
        for chunk in [1 << 20, 4096, 512, 1] {
            let buf = vec![0xA5u8; chunk];
            while let Ok(n) = f.write(&buf) {
                if n == 0 {
                    break;
                }
                written += n as u64;
            }
        }
        let _ = f.sync_all();
        written
    }

    /// Free what [`SmallDisk::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            // Lazy: a daemon that is still stopping may hold files open.
            let _ = run(Command::new("umount").arg("-l").arg(&self.dir));
        }
    }
}
