//! Enrollment data and the station's state: import-and-reload (the CLI and the scheduled pull),
//! `/status`, lost-card search, projects.

use std::path::PathBuf;

use chrono::{NaiveDate, Utc};

use crate::import::{DataStatus, ImportOptions, ImportReport};
use crate::store::clients::{self, ClientHit};
use crate::store::outbox::{self, parse_any_ts, Totals};
use crate::store::projects::{self, Project};
use crate::store::{batches, meta};

use super::{App, AppError, AppResult, Event, ScannerStatus};

/// How many entries a reload after an import recomputes per transaction (a few milliseconds).
const RELOAD_PART: usize = 200;
/// The pause between two parts of that reload.
const RELOAD_PAUSE: std::time::Duration = std::time::Duration::from_millis(30);

/// What an import did: the import's report and how many open batches were reloaded.
#[derive(Debug, Clone)]
pub struct DataSummary {
    pub report: ImportReport,
    pub reloaded: usize,
    /// The data is in, but reloading the open batches failed (their verdicts are from before).
    pub reload_error: Option<String>,
}

/// The scheduled pull's last outcome (None when no pull ever ran).
#[derive(Debug, Clone, Default)]
pub struct PullState {
    pub last_imported_at: Option<String>,
    pub data_imported_at: Option<String>,
    pub data_age_seconds: Option<i64>,
    pub last_checked_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

/// What one scheduled pull came to, as the station remembers it.
#[derive(Debug, Clone)]
pub enum PullOutcome {
    /// 304: nothing new.
    NotModified,
    /// A new file was imported; its validators for the next conditional request.
    Imported {
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// The pull failed (the old data stays), for this reason.
    Failed(String),
}

/// Everything `GET /status` shows.
#[derive(Debug, Clone)]
pub struct StationStatus {
    pub data: DataStatus,
    pub data_age_seconds: Option<i64>,
    pub outbox: Totals,
    /// Why the upstream worker cannot deliver as configured.
    pub setup_error: Option<String>,
    pub pull: Option<PullState>,
    pub unassigned: i64,
    pub scanners: Vec<ScannerStatus>,
    /// Space where the database lives (None when the filesystem cannot be asked).
    pub disk: Option<crate::store::DiskSpace>,
}

impl App {
    /// Import a HUD HMIS CSV export (folder or zip) through the atomic import (a refused file
    /// changes nothing), then reload every open batch against the new data and tell the screens.
    /// `origin`: where the data came from when `path` is only a download (the pull's URL).
    pub async fn import_and_reload(
        &self,
        path: PathBuf,
        origin: Option<String>,
        event_source: &'static str,
    ) -> AppResult<DataSummary> {
        // The import runs on its own connection (and file): scans, the watchdog and every other
        // use case go on meanwhile. Only the reload below takes the station's connection.
        let db = self.store.path().to_path_buf();
        let opts = ImportOptions {
            projects: self.settings.projects.clone(),
            origin,
        };
        let report =
            tokio::task::spawn_blocking(move || crate::import::import_station(&db, &path, &opts))
                .await
                .map_err(|_| AppError::Store(crate::store::StoreError::Gone))??;
        // The data is in; a failed reload leaves verdicts as they were until the next reload,
        // which is logged and said, not hidden.
        let reloaded = self.reload_open_batches().await;
        let (reloaded, reload_error) = match reloaded {
            Ok(ids) => {
                for id in &ids {
                    self.publish(Event::Batch { id: id.clone() });
                }
                (ids.len(), None)
            }
            Err(e) => {
                log::error!("reloading open batches after the import: {e}");
                (0, Some(e.to_string()))
            }
        };
        let summary = match &reload_error {
            None => format!(
                "export {}, {:?}, {reloaded} open batches reloaded",
                report.export_id, report.mode
            ),
            Some(_) => format!(
                "export {}, {:?}, open batches not reloaded",
                report.export_id, report.mode
            ),
        };
        log::info!(target: "scanstation::data", count = reloaded; "enrollment data imported ({summary})");
        self.publish(Event::Data {
            source: event_source,
            summary,
        });
        Ok(DataSummary {
            report,
            reloaded,
            reload_error,
        })
    }

    /// Reload every open batch against new data, [`RELOAD_PART`] entries per transaction so that
    /// scans go on between the parts; returns the batches reloaded.
    async fn reload_open_batches(&self) -> Result<Vec<String>, AppError> {
        let (ids, upto) = self
            .with_store(|_, conn| Ok(batches::open_batch_ids(conn)?))
            .await?;
        for id in &ids {
            let mut seen = std::collections::HashSet::new();
            let mut after = 0;
            loop {
                let batch = id.clone();
                let (next, back) = self
                    .with_store(move |app, conn| {
                        let next = batches::reload_part(
                            conn,
                            &app.settings.policy,
                            &batch,
                            (after, upto),
                            RELOAD_PART,
                            &mut seen,
                        )?;
                        Ok((next, seen))
                    })
                    .await?;
                seen = back;
                match next {
                    Some(seq) => after = seq,
                    None => break,
                }
                // Let a writer waiting in another process in between parts (SQLite's busy
                // handler sleeps, so back-to-back parts could starve it): `scanstation import`
                // reloads while the daemon takes scans.
                tokio::time::sleep(RELOAD_PAUSE).await;
            }
        }
        Ok(ids)
    }

    /// The validators of the last imported pull (ETag, Last-Modified) for a conditional request.
    pub async fn pull_validators(&self) -> AppResult<(Option<String>, Option<String>)> {
        self.with_store(|_, conn| {
            Ok((
                meta::get(conn, meta::PULL_ETAG)?,
                meta::get(conn, meta::PULL_LAST_MODIFIED)?,
            ))
        })
        .await
    }

    /// Remember what a scheduled pull came to (shown by `/status`), in one transaction.
    pub async fn record_pull(&self, outcome: PullOutcome) -> AppResult<()> {
        let now = outbox::ts(Utc::now());
        self.with_store(move |_, conn| {
            let now = Some(now.as_str());
            match &outcome {
                PullOutcome::NotModified => meta::set_all(
                    conn,
                    &[
                        (meta::PULL_CHECKED_AT, now),
                        (meta::PULL_ERROR, None),
                        (meta::PULL_ERROR_AT, None),
                    ],
                )?,
                PullOutcome::Imported {
                    etag,
                    last_modified,
                } => meta::set_all(
                    conn,
                    &[
                        (meta::PULL_ETAG, etag.as_deref()),
                        (meta::PULL_LAST_MODIFIED, last_modified.as_deref()),
                        (meta::PULL_IMPORTED_AT, now),
                        (meta::PULL_CHECKED_AT, now),
                        (meta::PULL_ERROR, None),
                        (meta::PULL_ERROR_AT, None),
                    ],
                )?,
                PullOutcome::Failed(reason) => meta::set_all(
                    conn,
                    &[
                        (meta::PULL_ERROR, Some(reason)),
                        (meta::PULL_ERROR_AT, now),
                        (meta::PULL_CHECKED_AT, now),
                    ],
                )?,
            }
            Ok(())
        })
        .await
    }

    /// The station's state for `/status`.
    pub async fn status(&self) -> AppResult<StationStatus> {
        let now = Utc::now();
        let mut status = self
            .with_store(move |_, conn| {
                let data =
                    crate::import::data_status(conn).map_err(crate::store::StoreError::from)?;
                let age = |t: &Option<String>| {
                    t.as_deref()
                        .and_then(parse_any_ts)
                        .map(|t| (now - t).num_seconds().max(0))
                };
                let pull = PullState {
                    last_imported_at: meta::get(conn, meta::PULL_IMPORTED_AT)?,
                    data_age_seconds: age(&data.imported_at),
                    data_imported_at: data.imported_at.clone(),
                    last_checked_at: meta::get(conn, meta::PULL_CHECKED_AT)?,
                    last_error: meta::get(conn, meta::PULL_ERROR)?,
                    last_error_at: meta::get(conn, meta::PULL_ERROR_AT)?,
                };
                let pulled = pull.last_imported_at.is_some()
                    || pull.last_checked_at.is_some()
                    || pull.last_error.is_some();
                Ok(StationStatus {
                    data_age_seconds: age(&data.imported_at),
                    data,
                    outbox: outbox::totals(conn, now)?,
                    setup_error: meta::get(conn, meta::UPSTREAM_SETUP_ERROR)?,
                    pull: pulled.then_some(pull),
                    unassigned: batches::unassigned_count(conn)?,
                    scanners: Vec::new(),
                    disk: None,
                })
            })
            .await?;
        status.scanners = self.scanners.snapshot();
        status.disk = self.store.disk_space();
        Ok(status)
    }

    /// Lost-card search: a PersonalID, first- and last-name prefixes ("mar gon"), and/or a DOB.
    pub async fn search_clients(
        &self,
        text: &str,
        dob: Option<NaiveDate>,
    ) -> AppResult<Vec<ClientHit>> {
        if text.trim().is_empty() && dob.is_none() {
            return Err(AppError::invalid(
                "search_empty",
                "give a client ID, name prefixes (\"mar gon\") or a date of birth",
            ));
        }
        let text = text.trim().to_string();
        self.with_store(move |_, conn| {
            let hits = clients::search(conn, &text, dob)?;
            // A hashed export left no names to match (DOB search and client IDs still work).
            if hits.is_empty() && !text.is_empty() {
                let hashed = crate::store::hmis::hashed_names(conn)
                    .map_err(crate::store::StoreError::from)?;
                if let Some(h) = hashed {
                    return Err(AppError::invalid(
                        "name_search_unavailable",
                        format!(
                            "name search is unavailable for this data: the HMIS export is \
                             hashed (HashStatus {h}), so the station holds no names; search by \
                             client ID or date of birth"
                        ),
                    ));
                }
            }
            Ok(hits)
        })
        .await
    }

    /// Write the posted services with `from <= date <= to` to `out` (one file per program for
    /// ClientTrack); returns how many and the files.
    pub async fn export(
        &self,
        kind: crate::export::ExportKind,
        out: PathBuf,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<crate::export::ExportOutcome> {
        let done = self
            .with_store(move |app, conn| {
                crate::export::export(conn, &app.settings, kind, &out, from, to)
                    .map_err(AppError::Export)
            })
            .await?;
        let n = done.services;
        log::info!(target: "scanstation::export", count = n; "export {kind:?}: {n} services");
        Ok(done)
    }

    pub async fn projects(&self) -> AppResult<Vec<Project>> {
        self.with_store(|_, conn| Ok(projects::list(conn)?)).await
    }
}
