//! `scanstation serve`: open the store (migrations), bind the HTTP port, start scanners and the
//! upstream worker, tell systemd we are ready, and stop cleanly on SIGTERM or Ctrl-C.

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::config::Settings;
use crate::store::Store;

/// The daemon, from a checked config, until SIGTERM/SIGINT.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database)?;
    let listener = TcpListener::bind(settings.web.listen)
        .await
        .with_context(|| format!("cannot listen on {} (web.listen)", settings.web.listen))?;
    let app = App::new(settings, store);
    run(app, listener, shutdown_on_signals()?).await
}

/// Run every part of the station on an already bound listener until `shutdown` turns true.
pub async fn run(
    app: App,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    run_with_sessions(app, listener, Default::default(), shutdown).await
}

/// [`run`] with the supervisor sessions given (tests read the PIN check queue's counters).
pub async fn run_with_sessions(
    app: App,
    listener: TcpListener,
    sessions: std::sync::Arc<crate::web::auth::Sessions>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let tls = prepare_tls(&app)?;
    for warning in app.settings.secret_warnings() {
        log::warn!("{warning}");
    }
    let scanners = tokio::spawn(crate::scanners::run(app.clone(), shutdown.clone()));
    let upstream = tokio::spawn(crate::upstream::run(app.clone(), shutdown.clone()));
    let watchdog = tokio::spawn(watchdog(app.clone(), shutdown.clone()));
    crate::systemd::notify_ready();
    log::info!(
        "scanstation {} started: station {}, {}://{addr}, {} scanner(s), upstream {}",
        env!("CARGO_PKG_VERSION"),
        app.settings.station_id(),
        if tls.is_some() { "https" } else { "http" },
        app.settings.scanners.len(),
        app.settings.upstream.kind.as_str()
    );
    crate::web::serve(app, listener, tls, sessions, shutdown).await?;
    crate::systemd::notify_stopping();
    // Scanners release their grabs and the worker finishes its write before we exit.
    let _ = scanners.await;
    let _ = upstream.await;
    let _ = watchdog.await;
    log::info!("scanstation stopped");
    Ok(())
}

/// The HTTPS set-up `[web]` asks for (the self-signed certificate goes beside the database), with
/// its fingerprint logged for IT to compare with what the tablets show.
fn prepare_tls(app: &App) -> anyhow::Result<Option<crate::web::tls::ServerTls>> {
    let tls = crate::web::tls::prepare(&app.settings.web, app.settings.state_dir())
        .context("cannot set up HTTPS ([web] tls, tls_cert, tls_key)")?;
    if let Some(t) = &tls {
        log::info!(
            "HTTPS certificate {} SHA-256 fingerprint {}",
            t.info.cert_file.display(),
            t.info.fingerprint_sha256
        );
    }
    Ok(tls)
}

/// A shutdown signal that turns true on SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> anyhow::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => log::info!("SIGTERM: stopping"),
            _ = int.recv() => log::info!("SIGINT: stopping"),
        }
        let _ = tx.send(true);
    });
    Ok(rx)
}

/// `WATCHDOG=1` to systemd, sent only when the scan path answers: each tick runs a query through
/// the same store handle (and blocking pool) every scan uses. A wedged store, a deadlock or a
/// stopped process stops the pings, and systemd restarts the daemon. (This task is spawned on the
/// runtime on purpose: it is the runtime and the store it must vouch for, not only the thread.)
async fn watchdog(app: App, mut shutdown: watch::Receiver<bool>) {
    let Some(every) = crate::systemd::watchdog_interval() else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let alive = app.store.call(crate::store::ping).await;
                match alive {
                    Ok(_) => crate::systemd::watchdog_ping(),
                    Err(e) => log::error!("watchdog: the store does not answer: {e}"),
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
