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
    run(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&disk.dir))?;
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
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
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

/// Can this machine make and mount an ext4 image (root, `mkfs.ext4`, `e2fsck`, loop devices)?
pub fn ext4_allowed() -> Result<(), String> {
    mount_allowed()?;
    for tool in ["mkfs.ext4", "e2fsck", "losetup"] {
        run(Command::new("sh").args(["-c", &format!("command -v {tool}")]))
            .map_err(|_| format!("{tool} is not installed (Debian package e2fsprogs/mount)"))?;
    }
    if !Path::new("/dev/loop-control").exists() {
        return Err("no loop devices (/dev/loop-control)".into());
    }
    Ok(())
}

/// A small ext4 image, loop-mounted with `errors=remount-ro` as an appliance's data disk would
/// be: [`Ext4Disk::fail`] makes the kernel turn it read-only under the open files (as a failing
/// disk does); [`Ext4Disk::repair`] is what IT does then (check the filesystem, mount it again).
pub struct Ext4Disk {
    image: PathBuf,
    dir: PathBuf,
    /// The loop devices attached so far (a repair mounts the image through a fresh one: the old
    /// device still carries the failed filesystem until the daemon lets go of it).
    loops: std::cell::RefCell<Vec<String>>,
    _holder: tempfile::TempDir,
}

impl Ext4Disk {
    pub fn new(mib: u32) -> Ext4Disk {
        let holder = tempfile::tempdir().expect("a temp folder");
        let image = holder.path().join("disk.img");
        let dir = holder.path().join("mnt");
        std::fs::create_dir(&dir).expect("a mount point");
        let f = std::fs::File::create(&image).expect("the image");
        f.set_len(u64::from(mib) << 20).expect("size the image");
        run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image)).expect("mkfs.ext4");
        let disk = Ext4Disk {
            image,
            dir,
            loops: Default::default(),
            _holder: holder,
        };
        disk.mount();
        disk
    }

    fn mount(&self) {
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&self.image)
            .output()
            .expect("losetup");
        assert!(out.status.success(), "losetup: {out:?}");
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        run(Command::new("mount")
            .args(["-o", "errors=remount-ro", &dev])
            .arg(&self.dir))
        .expect("mount the ext4 image");
        self.loops.borrow_mut().push(dev);
        run(Command::new("chmod").arg("700").arg(&self.dir)).expect("chmod the mount");
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The kernel's own reaction to a filesystem error: the filesystem turns read-only under
    /// every open file (`/sys/fs/ext4/<dev>/trigger_fs_error`).
    pub fn fail(&self) {
        let out = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE"])
            .arg(&self.dir)
            .output()
            .expect("findmnt");
        let source = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let dev = Path::new(&source)
            .file_name()
            .expect("a loop device")
            .to_string_lossy()
            .to_string();
        std::fs::write(
            format!("/sys/fs/ext4/{dev}/trigger_fs_error"),
            "disk fault test",
        )
        .expect("trigger an ext4 error");
    }

    /// IT's repair: detach the failed mount (the daemon still holds its files), check the
    /// filesystem, mount it again on the same path.
    pub fn repair(&self) {
        run(Command::new("umount").arg("-l").arg(&self.dir)).expect("detach the failed mount");
        let out = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(&self.image)
            .output()
            .expect("e2fsck");
        // 0: clean, 1: errors corrected.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "e2fsck: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        self.mount();
    }
}

impl Drop for Ext4Disk {
    fn drop(&mut self) {
        let _ = run(Command::new("umount").arg("-l").arg(&self.dir));
        for dev in self.loops.borrow().iter() {
            // A device still in use is detached when its last user lets go.
            let _ = run(Command::new("losetup").args(["-d", dev]));
        }
    }
}
