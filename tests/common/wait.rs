//! Waiting for something the station does on its own time (a scan to land, a delivery to be
//! made, a scanner to reconnect): poll a condition until it holds or a deadline passes, and fail
//! naming what was awaited. No test sleeps a fixed time and hopes.

use std::future::Future;
use std::time::{Duration, Instant};

/// The usual deadline: long enough for a loaded 2-core CI machine, short enough to fail fast.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(10);

/// Poll `f` until it gives `Some`, and return that; panic after `deadline` naming `what`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for tests without a runtime (the thread sleeps between polls).
pub fn eventually_blocking<T>(
    deadline: Duration,
    what: &str,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}
