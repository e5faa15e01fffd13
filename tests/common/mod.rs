//! The one test harness: every integration test (and the benches that reuse it) builds its
//! station, config, HTTP client, waits, browser and fake devices from here, in the spirit of
//! ripgrep's `tests/util.rs`. No test file grows machinery of its own.
//!
//! Brief overview:
//! - [`config::StationConfig`]: the config text of a test station (builder; one place for the
//!   TOML every test starts from). PINs are hashed once per process ([`pin`]).
//! - [`station::Station`]: the real daemon (`daemon::run`: HTTP API, kiosk UI, scanners, upstream
//!   worker) in-process on 127.0.0.1:0 over a real SQLite file in a temp folder, with a fixture
//!   imported through the normal import path. It can stop and start again on the same port, serve
//!   HTTPS with its self-signed certificate (`builder().https()`), and shows its login queue
//!   ([`station::Station::throttle`]).
//! - [`http::Api`]: an HTTP client of the station's API with the supervisor's cookie session and
//!   JSON helpers; [`http::https_trusting`]: a client trusting exactly one certificate.
//! - [`wait::eventually`]: poll a condition until a deadline; the failure names what was awaited.
//! - [`bin`]: the real `scanstation` binary as a child process (`serve`, `import`,
//!   `check-config`, ...; with umask 022 as from a login shell).
//! - [`browser::Browser`]: headless Chromium through chromedriver (fantoccini), optionally in a
//!   home whose NSS store trusts one certificate.
//! - [`serial`]: fake serial scanners on real pseudo-terminals; [`upstream`]: a test CA, a real
//!   HTTPS receiver with scripted answers, and the outbox worker on its own runtime.
//! - [`lib`]: every call the tests make into the `scanstation` library, so that a changed
//!   signature is fixed here once.
//!
//! Preconditions (Chromium, `../shared/testdata`) go through [`precondition`]: outside CI a test
//! that cannot run says why and returns; under `CI=true` it fails.
#![allow(dead_code, unused_imports)]

pub mod bin;
pub mod browser;
pub mod config;
pub mod disk;
pub mod http;
pub mod lib;
pub mod pin;
pub mod serial;
pub mod station;
pub mod sys;
pub mod upstream;
pub mod wait;

use std::path::{Path, PathBuf};

pub use config::StationConfig;
pub use http::{http, https_trusting, Api};
pub use pin::{pin_hash, OTHER_PIN, PIN};
pub use station::Station;
pub use wait::{eventually, eventually_blocking, DEADLINE};

/// A fixture folder under tests/fixtures (`station`: projects P1 "Meal Program", P2, clients
/// C1..C6; `hmis/basic`: project 1001 "Hot Meals Program", clients C001..C006).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// True when the run is CI's (`CI=true`): missing preconditions fail there instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Check a precondition of a test: true when it holds. When it does not, the test cannot run:
/// under `CI=true` this panics with `why`; elsewhere it prints `SKIPPED: why` and returns false,
/// and the caller returns early.
pub fn precondition(holds: bool, why: &str) -> bool {
    if holds {
        return true;
    }
    if in_ci() {
        panic!("precondition missing under CI=true: {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

/// The shared test data (`../shared/testdata` beside this checkout), or None after saying why
/// when it is not there (a failure under `CI=true`).
pub fn shared_testdata() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata");
    let found = path.is_dir();
    precondition(
        found,
        &format!(
            "the shared test data is not at {} (../shared/testdata relative to the crate)",
            path.display()
        ),
    )
    .then(|| path.canonicalize().unwrap_or(path))
}
