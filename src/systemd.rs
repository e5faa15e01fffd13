//! systemd integration: READY and WATCHDOG notifications. (Stub: built by the packaging work.)

/// Tell systemd the daemon is ready (migrations ran, HTTP port bound). No-op outside systemd.
pub fn notify_ready() {}

/// Tell systemd we are stopping.
pub fn notify_stopping() {}
