//! The scheduled enrollment pull: `[hmis] import_url` (HTTPS, a zip of HUD HMIS CSV) fetched every
//! `import_interval_minutes` with a conditional request (ETag / Last-Modified kept in `meta`), and
//! imported through the normal atomic import. A failure keeps the old data and shows in `/status`
//! with the data's age.
//!
//! After a successful import every open batch is reloaded (verdicts recomputed against the new
//! data, as `scanstation import` does), and a `data` event tells the screens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::app::{App, PullOutcome};
use crate::config::Settings;

use super::tls::{self, error_chain};

/// The largest download accepted.
pub const MAX_BYTES: u64 = 4 << 30;

/// What one pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// 304: the data has not changed.
    NotModified,
    /// A new file, imported; the import's summary.
    Imported(String),
}

/// Pull now, then every `import_interval_minutes`, until shutdown.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let Some(pull) = app.settings.pull.clone() else {
        return;
    };
    let url = pull.url;
    let client = match pull_client(&app.settings, &url) {
        Ok(c) => c,
        Err(e) => {
            log::error!("enrollment pull: {e}");
            record(&app, PullOutcome::Failed(e)).await;
            return;
        }
    };
    let every = pull.every;
    // After a failure, try again sooner (but not more often than every 5 minutes).
    let after_failure = every.min(Duration::from_secs(300));
    loop {
        let ok = tokio::select! {
            r = pull_once(&app, &client, &url) => r.is_ok(),
            _ = shutdown.changed() => return,
        };
        tokio::select! {
            _ = tokio::time::sleep(if ok { every } else { after_failure }) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The client for the pull: the upstream's CA file and connect timeout; the request timeout
/// applies between reads (a large file may take longer than one request timeout in all).
pub fn pull_client(settings: &Settings, url: &str) -> Result<reqwest::Client, String> {
    if !url.starts_with("https://") {
        crate::config::check_url(url)?;
    }
    let up = &settings.upstream;
    tls::http_client(
        url,
        up.ca_file.as_deref(),
        tls::Timeouts {
            connect: up.connect_timeout,
            request: None,
            read: Some(up.request_timeout),
        },
    )
    .map_err(|e| e.to_string())
}

async fn record(app: &App, outcome: PullOutcome) {
    if let Err(e) = app.record_pull(outcome).await {
        log::error!("enrollment pull: cannot record the outcome: {e}");
    }
}

/// One pull: fetch (conditionally), import, mark open batches, record the outcome in `meta`.
pub async fn pull_once(app: &App, client: &reqwest::Client, url: &str) -> Result<Pulled, String> {
    let r = fetch_and_import(app, client, url).await;
    match &r {
        Ok(Pulled::NotModified) => {
            log::info!("enrollment pull: not modified");
            record(app, PullOutcome::NotModified).await;
        }
        Ok(Pulled::Imported(summary)) => {
            log::info!("enrollment pull: imported ({summary})");
        }
        Err(e) => {
            log::error!("enrollment pull failed, the current data stays: {e}");
            record(app, PullOutcome::Failed(e.clone())).await;
        }
    }
    r
}

async fn fetch_and_import(
    app: &App,
    client: &reqwest::Client,
    url: &str,
) -> Result<Pulled, String> {
    let (etag, last_modified) = app.pull_validators().await.map_err(|e| e.to_string())?;
    let mut req = client.get(url);
    if let Some(e) = &etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    if let Some(lm) = &last_modified {
        req = req.header(IF_MODIFIED_SINCE, lm);
    }
    if let Some(path) = app
        .settings
        .pull
        .as_ref()
        .and_then(|p| p.token_file.as_ref())
    {
        let token = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| format!("cannot read import token file {}: {e}", path.display()))?;
        req = req.bearer_auth(token.lines().next().unwrap_or("").trim());
    }
    let mut resp = req.send().await.map_err(|e| error_chain(&e))?;
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Pulled::NotModified);
    }
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let new_etag = header(ETAG);
    let new_last_modified = header(LAST_MODIFIED);

    let tmp = TempFile(download_path(app.store.path()));
    let mut file = tokio::fs::File::create(&tmp.0)
        .await
        .map_err(|e| format!("cannot create {}: {e}", tmp.0.display()))?;
    let mut total: u64 = 0;
    while let Some(chunk) = resp.chunk().await.map_err(|e| error_chain(&e))? {
        total += chunk.len() as u64;
        if total > MAX_BYTES {
            return Err(format!("{url}: the file is larger than {MAX_BYTES} bytes"));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| format!("cannot write {}: {e}", tmp.0.display()))?;
    }
    file.flush().await.map_err(|e| e.to_string())?;
    drop(file);

    let summary = app
        .import_and_reload(tmp.0.clone(), Some(url.to_string()), "pull")
        .await
        .map_err(|e| e.to_string())?;
    // The data is in; if this record fails, the next pull only fetches the file again.
    record(
        app,
        PullOutcome::Imported {
            etag: new_etag,
            last_modified: new_last_modified,
        },
    )
    .await;
    let r = &summary.report;
    Ok(Pulled::Imported(match &summary.reload_error {
        None => format!(
            "export {}, {:?}, {} open batches reloaded",
            r.export_id, r.mode, summary.reloaded
        ),
        Some(_) => format!(
            "export {}, {:?}, not all open batches reloaded",
            r.export_id, r.mode
        ),
    }))
}

fn download_path(db: &Path) -> PathBuf {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("enrollment-pull-{}.zip", std::process::id()))
}

/// Removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
