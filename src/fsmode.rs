//! File modes for client data at rest: readable by the service user only, whatever the umask.
//!
//! The systemd unit sets `UMask=0077`, but IT also runs `scanstation serve`, `import` and
//! `export` by hand, where a umask of 022 would leave the client list world-readable. So the
//! station sets modes itself rather than trusting the umask:
//! - folders it creates for the database are 0700; folders that already exist are left alone
//!   (the database may sit in a folder IT chose for other files too);
//! - the database is created 0600 before SQLite opens it, and tightened to 0600 if an older
//!   version left it wider. SQLite creates `-wal` and `-shm` with the database file's mode, so
//!   they follow; existing ones are tightened too;
//! - exports and secrets (the TLS key) are written 0600.
//!
//! Secrets the station only reads (the upstream token file, the TLS key) are checked by
//! [`readable_by_others`]: `check-config` and start-up warn about them, they do not refuse.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const PRIVATE_FILE: u32 = 0o600;
pub const PRIVATE_DIR: u32 = 0o700;

/// Create the database's missing folders 0700, create the file 0600 if it does not exist, and
/// take group and other bits off it and its `-wal`/`-shm`. Errors name the path. A file this
/// process may not chmod (another owner) is only warned about: it was readable before, and
/// refusing to open it would stop the station.
pub fn prepare_database(db: &Path) -> Result<(), (PathBuf, io::Error)> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dirs(dir).map_err(|e| (dir.to_path_buf(), e))?;
    }
    if !db.exists() {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE)
            .open(db)
            .or_else(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => Ok(std::fs::File::open(db)?),
                _ => Err(e),
            })
            .map_err(|e| (db.to_path_buf(), e))?;
    }
    for path in [db.to_path_buf(), sibling(db, "-wal"), sibling(db, "-shm")] {
        if let Err(e) = tighten(&path) {
            log::warn!("cannot make {} private (chmod 0600): {e}", path.display());
        }
    }
    Ok(())
}

/// `create_dir_all` with 0700 for every folder it creates.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
}

/// Create (or truncate) `path` as a 0600 file; an existing file is set to 0600 first.
pub fn create_private(path: &Path) -> io::Result<std::fs::File> {
    tighten(path)?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_FILE)
        .open(path)
}

/// Write `bytes` to a new 0600 file at `path`, flushed to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Take group and other bits off an existing file; a missing one is fine.
fn tighten(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            let mode = meta.permissions().mode() & 0o700;
            std::fs::set_permissions(path, Permissions::from_mode(mode))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A warning if `path` (a secret) can be read by users other than its owner and group, e.g.
/// `"/etc/scanstation/upstream.token is readable by every user (mode 0644): chmod 0640 it"`.
pub fn readable_by_others(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o004 != 0).then(|| {
        format!(
            "{} is readable by every user (mode {:04o}): chmod o-rwx it",
            path.display(),
            mode & 0o7777
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn database_folder_and_file_are_private_and_old_ones_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("state/sub/station.db");
        prepare_database(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&tmp.path().join("state/sub")), 0o700);
        assert_eq!(mode(&tmp.path().join("state")), 0o700);

        let wal = sibling(&db, "-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, Permissions::from_mode(0o664)).unwrap();
        prepare_database(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }

    #[test]
    fn a_world_readable_secret_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let token = tmp.path().join("upstream.token");
        std::fs::write(&token, b"secret").unwrap();
        std::fs::set_permissions(&token, Permissions::from_mode(0o644)).unwrap();
        let warning = readable_by_others(&token).unwrap();
        assert!(
            warning.contains("upstream.token") && warning.contains("0644"),
            "{warning}"
        );
        std::fs::set_permissions(&token, Permissions::from_mode(0o640)).unwrap();
        assert_eq!(readable_by_others(&token), None);
    }
}
