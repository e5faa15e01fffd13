//! The scheduled enrollment pull: `[hmis] import_url` (HTTPS, a zip of HUD HMIS CSV) fetched every
//! `import_interval_minutes` with a conditional request (ETag / Last-Modified kept in `meta`), and
//! imported through the normal atomic import. A failure keeps the old data and shows in `/status`
//! with the data's age.
//!
//! After a successful import every open batch is reloaded (verdicts recomputed against the new
//! data, as `scanstation import` does), and a `data` event tells the screens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;
use rusqlite::Connection;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::app::App;
use crate::config::Settings;

use super::tls::{self, error_chain};
use super::{meta_get, meta_set, WorkerError};

const ETAG_KEY: &str = "pull.etag";
const LAST_MODIFIED_KEY: &str = "pull.last_modified";
const CHECKED_KEY: &str = "pull.last_checked_at";
const IMPORTED_KEY: &str = "pull.last_imported_at";
const ERROR_KEY: &str = "pull.last_error";
const ERROR_AT_KEY: &str = "pull.last_error_at";

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
    let Some(url) = app.settings.raw.hmis.import_url.clone() else {
        return;
    };
    let client = match pull_client(&app.settings, &url) {
        Ok(c) => c,
        Err(e) => {
            log::error!("enrollment pull: {e}");
            record_failure(&app, e).await;
            return;
        }
    };
    let every = Duration::from_secs(app.settings.raw.hmis.import_interval_minutes.max(1) * 60);
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
    let up = &settings.raw.upstream;
    tls::http_client(
        url,
        &up.ca_file,
        tls::Timeouts {
            connect: Duration::from_secs(up.connect_timeout_seconds.max(1)),
            request: None,
            read: Some(Duration::from_secs(up.request_timeout_seconds.max(1))),
        },
    )
    .map_err(|e| e.to_string())
}

async fn record_failure(app: &App, msg: String) {
    let _ = app
        .store
        .call(move |c| {
            let now = super::outbox::ts(Utc::now());
            meta_set(c, ERROR_KEY, Some(&msg))?;
            meta_set(c, ERROR_AT_KEY, Some(&now))?;
            meta_set(c, CHECKED_KEY, Some(&now))?;
            Ok::<_, WorkerError>(())
        })
        .await;
}

/// One pull: fetch (conditionally), import, mark open batches, record the outcome in `meta`.
pub async fn pull_once(app: &App, client: &reqwest::Client, url: &str) -> Result<Pulled, String> {
    let r = fetch_and_import(app, client, url).await;
    match &r {
        Ok(Pulled::NotModified) => {
            log::info!("enrollment pull: not modified");
            let _ = app
                .store
                .call(|c| {
                    let now = super::outbox::ts(Utc::now());
                    meta_set(c, CHECKED_KEY, Some(&now))?;
                    meta_set(c, ERROR_KEY, None)?;
                    meta_set(c, ERROR_AT_KEY, None)?;
                    Ok::<_, WorkerError>(())
                })
                .await;
        }
        Ok(Pulled::Imported(summary)) => {
            log::info!("enrollment pull: imported ({summary})");
            app.publish(
                "data",
                serde_json::json!({"source": "pull", "summary": summary}),
            );
        }
        Err(e) => {
            log::error!("enrollment pull failed, the current data stays: {e}");
            record_failure(app, e.clone()).await;
        }
    }
    r
}

async fn fetch_and_import(
    app: &App,
    client: &reqwest::Client,
    url: &str,
) -> Result<Pulled, String> {
    let (etag, last_modified) = app
        .store
        .call(|c| Ok::<_, WorkerError>((meta_get(c, ETAG_KEY)?, meta_get(c, LAST_MODIFIED_KEY)?)))
        .await
        .map_err(|e| e.to_string())?;
    let mut req = client.get(url);
    if let Some(e) = &etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    if let Some(lm) = &last_modified {
        req = req.header(IF_MODIFIED_SINCE, lm);
    }
    if let Some(path) = &app.settings.raw.hmis.import_token_file {
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

    let settings = app.settings.clone();
    let path = tmp.0.clone();
    let source = url.to_string();
    let summary = app
        .store
        .call(move |c| {
            Ok::<_, WorkerError>(import_file(c, &path, &settings, &source, |c| {
                let now = super::outbox::ts(Utc::now());
                meta_set(c, ETAG_KEY, new_etag.as_deref())?;
                meta_set(c, LAST_MODIFIED_KEY, new_last_modified.as_deref())?;
                meta_set(c, IMPORTED_KEY, Some(&now))?;
                meta_set(c, CHECKED_KEY, Some(&now))?;
                meta_set(c, ERROR_KEY, None)?;
                meta_set(c, ERROR_AT_KEY, None)
            }))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e:#}"))?;
    Ok(Pulled::Imported(summary))
}

/// Import a downloaded zip through the station's normal (atomic) import (a refused file changes
/// nothing), record it (`record`), then reload the open batches.
fn import_file(
    conn: &mut Connection,
    path: &Path,
    settings: &Settings,
    source: &str,
    record: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> anyhow::Result<String> {
    let opts = crate::import::ImportOptions {
        projects: settings.raw.hmis.projects.clone(),
    };
    let report = crate::import::import_path(conn, path, &opts)?;
    record(conn)?;
    // The data came from the URL, not from the temporary file.
    meta_set(conn, "source", Some(source))?;
    let reloaded = match crate::store::reload_open_batches(conn, settings) {
        Ok(n) => n.to_string(),
        Err(e) => {
            log::error!("enrollment pull: reloading open batches after the import: {e}");
            "not all".into()
        }
    };
    Ok(format!(
        "export {}, {:?}, {reloaded} open batches reloaded",
        report.export_id, report.mode
    ))
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

/// The pull's state for `/status`: null when no pull is configured.
pub fn status(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<serde_json::Value> {
    let imported = meta_get(conn, IMPORTED_KEY)?;
    let data_imported_at = meta_get(conn, "imported_at")?;
    let age = data_imported_at
        .as_deref()
        .and_then(super::outbox::parse_any_ts)
        .map(|t| (now - t).num_seconds().max(0));
    let checked = meta_get(conn, CHECKED_KEY)?;
    let error = meta_get(conn, ERROR_KEY)?;
    if imported.is_none() && checked.is_none() && error.is_none() {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::json!({
        "last_imported_at": imported,
        "data_imported_at": data_imported_at,
        "data_age_seconds": age,
        "last_checked_at": checked,
        "last_error": error,
        "last_error_at": meta_get(conn, ERROR_AT_KEY)?,
        "ok": error.is_none(),
    }))
}
