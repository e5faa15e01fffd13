//! HID (evdev) and serial barcode scanners feeding lanes. (Stub: built by the scanners work.)

use tokio::sync::watch;

use crate::app::App;

/// Run every configured scanner until `shutdown` turns true; scans go through [`App::scan`].
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let _ = app;
    let _ = shutdown.wait_for(|s| *s).await;
}

/// `scanstation scanners`: list candidate HID and serial devices.
pub fn print_candidates() -> anyhow::Result<()> {
    anyhow::bail!("scanner discovery is not built yet")
}
