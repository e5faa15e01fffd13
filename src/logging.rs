//! Logging: the journal under systemd, readable stderr otherwise. (Stub: built by the packaging work.)

/// Set up logging once at start.
pub fn init(verbose: bool) {
    let _ = verbose;
}
