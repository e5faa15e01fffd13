//! A config file through what `scanstation check-config` runs: `config::load_settings` (read the
//! file, parse the TOML, check every key). Property: a refused config names at least one problem.
#![no_main]

use std::cell::RefCell;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use scanstation::config::{load_settings, ConfigError};

thread_local! {
    static DIR: RefCell<(tempfile::TempDir, PathBuf)> = RefCell::new({
        let dir = scanstation_fuzz::scratch_dir();
        let path = dir.path().join("scanstation.toml");
        (dir, path)
    });
}

fuzz_target!(|data: &[u8]| {
    DIR.with(|d| {
        let d = d.borrow();
        std::fs::write(&d.1, data).expect("write the config");
        match load_settings(&d.1) {
            Ok(settings) => {
                let _ = settings.secret_warnings();
            }
            Err(ConfigError::Invalid { problems }) => {
                assert!(!problems.is_empty(), "refused with no problem named");
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    });
});
