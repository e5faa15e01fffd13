//! Batches and lanes: create, review (add, remove, reload), post; bind lanes to batches.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::domain::lane::LaneName;
use crate::domain::money::Money;
use crate::domain::rules::{self, BatchState};
use crate::store::batches::{
    self, Batch, DeliveryPlan, Entry, EntryInput, NewBatch, Posted, Poster, ScanOutcome,
};
use crate::store::clients::{self, RosterRow};
use crate::store::outbox::{self, DeliveryKind};
use crate::store::{meta, StoreError};

use super::deliveries::{summarise, DeliverySummary};
use super::scans::parse_lane;
use super::{App, AppError, AppResult, Event, ScannerStatus, MAX_SCAN_LEN};
use crate::config::UpstreamKind;

/// A new batch as a supervisor asks for it (unchecked).
#[derive(Debug, Clone, Default)]
pub struct NewBatchRequest {
    pub project_id: String,
    pub service_code: String,
    /// `yyyy-mm-dd`; None or empty: today at the station.
    pub service_date: Option<String>,
    pub units: Option<f64>,
    pub unit_value: Option<String>,
    pub name: Option<String>,
    pub lane: Option<String>,
}

/// A batch with what the screens show beside it: the service's name and the delivery state.
#[derive(Debug, Clone)]
pub struct BatchInfo {
    pub batch: Batch,
    pub service_name: Option<String>,
    pub delivery: Option<DeliverySummary>,
}

/// What the public lane screen shows: the batch it feeds (counts only) and its scanners.
#[derive(Debug, Clone)]
pub struct LaneScreen {
    pub lane: LaneName,
    pub batch: Option<BatchInfo>,
    pub scanners: Vec<ScannerStatus>,
}

/// A lane as the new-batch screen shows it: the batch it feeds, and the project and service last
/// used on it (its defaults for the next batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneInfo {
    pub lane: String,
    pub batch_id: Option<String>,
    pub defaults: Option<(String, String)>,
}

fn parse_date(s: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "bad_date",
            format!("service_date {s:?} is not a date yyyy-mm-dd"),
        )
    })
}

impl App {
    fn info(&self, batch: Batch, delivery: Option<DeliverySummary>) -> BatchInfo {
        BatchInfo {
            service_name: self
                .settings
                .service(&batch.service_code)
                .map(|s| s.name.clone()),
            batch,
            delivery,
        }
    }

    /// One batch, with its entries when `with_entries`.
    pub async fn batch(&self, id: &str, with_entries: bool) -> AppResult<BatchInfo> {
        let id = id.to_string();
        let (batch, deliveries) = self
            .with_store(move |_, conn| {
                let b = batches::get_batch(conn, &id, with_entries)?;
                let d = match b.state {
                    BatchState::Posted => outbox::list(conn, None, Some(&id), 100_000)?,
                    BatchState::Open => Vec::new(),
                };
                Ok((b, d))
            })
            .await?;
        Ok(self.info(batch, summarise(&deliveries)))
    }

    /// The newest batches (two queries however many there are).
    pub async fn batches(&self, state: Option<BatchState>) -> AppResult<Vec<BatchInfo>> {
        let (list, deliveries) = self
            .with_store(move |_, conn| {
                let list = batches::list_batches(conn, state)?;
                let posted: Vec<String> = list
                    .iter()
                    .filter(|b| b.state == BatchState::Posted)
                    .map(|b| b.id.clone())
                    .collect();
                Ok((list, outbox::of_batches(conn, &posted)?))
            })
            .await?;
        Ok(list
            .into_iter()
            .map(|b| {
                let mine: Vec<_> = deliveries
                    .iter()
                    .filter(|d| d.batch_id == b.id)
                    .cloned()
                    .collect();
                self.info(b, summarise(&mine))
            })
            .collect())
    }

    /// Create a batch (bound to `lane` when given).
    pub async fn create_batch(&self, req: NewBatchRequest, by: &str) -> AppResult<BatchInfo> {
        let policy = &self.settings.policy;
        let service = policy.service(&req.service_code).ok_or_else(|| {
            AppError::invalid(
                "unknown_service",
                format!(
                    "service_code {:?} is not in the service catalogue",
                    req.service_code
                ),
            )
        })?;
        let today = self.today();
        let date = match req.service_date.as_deref() {
            None | Some("") => today,
            Some(s) => parse_date(s)?,
        };
        rules::check_service_date(date, today, policy.max_backdate_days)?;
        let units = req.units.unwrap_or(service.units);
        if !(units.is_finite() && units > 0.0) {
            return Err(AppError::invalid(
                "bad_units",
                "units must be a number above 0",
            ));
        }
        let unit_value = match req.unit_value.as_deref() {
            None => service.unit_value.clone(),
            Some(v) => Money::parse(v)
                .map_err(|e| AppError::invalid("bad_unit_value", format!("unit_value: {e}")))?,
        };
        let lane = req.lane.as_deref().map(parse_lane).transpose()?;
        let nb = NewBatch {
            project_id: req.project_id.clone(),
            service_code: req.service_code,
            service_name: service.name.clone(),
            service_date: date,
            units,
            unit_value,
            name: req.name,
            lane: lane.clone(),
            created_by: Some(by.to_string()),
        };
        let project_id = req.project_id;
        let batch = self
            .with_store(move |_, conn| match batches::create_batch(conn, nb) {
                Err(StoreError::NotFound {
                    what: "project", ..
                }) => Err(AppError::invalid(
                    "unknown_project",
                    format!("project_id {project_id:?} is not in the enrollment data"),
                )),
                other => Ok(other?),
            })
            .await?;
        let (batch_id, project_id, service_code) =
            (&batch.id, &batch.project_id, &batch.service_code);
        log::info!(target: "scanstation::batch", batch_id, project_id, service_code; "batch {batch_id} created");
        self.publish(Event::Batch {
            id: batch.id.clone(),
        });
        if let Some(lane) = lane {
            self.publish(Event::Lane {
                lane,
                batch_id: Some(batch.id.clone()),
            });
        }
        Ok(self.info(batch, None))
    }

    /// A manual entry (typed code, client ID from a lost-card search or the roster), or an
    /// unassigned scan moved into the batch (`scan_id`). Returns the entry and the served count.
    pub async fn add_entry(
        &self,
        batch_id: &str,
        what: AddEntry,
        source: &str,
        by: &str,
    ) -> AppResult<(Entry, i64)> {
        if let AddEntry::Code(c) | AddEntry::ClientId(c) = &what {
            if c.trim().is_empty() || c.len() > MAX_SCAN_LEN {
                return Err(AppError::invalid(
                    "bad_code",
                    format!("the code or client_id must have 1 to {MAX_SCAN_LEN} characters"),
                ));
            }
        }
        let (id, source, by) = (batch_id.to_string(), source.to_string(), by.to_string());
        let (entry, served) = self
            .with_store(move |app, conn| {
                let policy = &app.settings.policy;
                Ok(match what {
                    AddEntry::Code(c) => {
                        batches::add_entry(conn, policy, &id, EntryInput::Code(c), &source)?
                    }
                    AddEntry::ClientId(c) => {
                        batches::add_entry(conn, policy, &id, EntryInput::ClientId(c), &source)?
                    }
                    AddEntry::Scan(scan_id) => {
                        batches::assign_scan(conn, policy, &id, scan_id, &by)?
                    }
                })
            })
            .await?;
        self.publish_scan(
            None,
            &ScanOutcome::Entry {
                entry: entry.clone(),
                served,
            },
        );
        Ok((entry, served))
    }

    /// Remove (X) one entry: a soft delete with who and when.
    pub async fn remove_entry(&self, batch_id: &str, entry_id: &str, by: &str) -> AppResult<()> {
        let (b, e, by) = (batch_id.to_string(), entry_id.to_string(), by.to_string());
        self.with_store(move |_, conn| Ok(batches::remove_entry(conn, &b, &e, &by)?))
            .await?;
        self.publish(Event::Batch {
            id: batch_id.to_string(),
        });
        Ok(())
    }

    /// Remove every flagged entry of a batch; returns how many.
    pub async fn remove_flagged(&self, batch_id: &str, by: &str) -> AppResult<usize> {
        let (b, by) = (batch_id.to_string(), by.to_string());
        let n = self
            .with_store(move |_, conn| Ok(batches::remove_flagged(conn, &b, &by)?))
            .await?;
        log::info!(target: "scanstation::batch", batch_id, count = n; "batch {batch_id}: {n} flagged entries removed");
        self.publish(Event::Batch {
            id: batch_id.to_string(),
        });
        Ok(n)
    }

    /// Reload: recompute every non-removed entry in scan order; returns the batch with entries.
    pub async fn reload(&self, batch_id: &str) -> AppResult<BatchInfo> {
        let b = batch_id.to_string();
        let batch = self
            .with_store(move |app, conn| {
                batches::reload_batch(conn, &app.settings.policy, &b)?;
                Ok(batches::get_batch(conn, &b, true)?)
            })
            .await?;
        let (ok, flagged) = (batch.counts.ok, batch.counts.flagged);
        log::info!(target: "scanstation::batch", batch_id, ok, flagged;
                   "batch {batch_id} reloaded: {ok} ok, {flagged} flagged");
        self.publish(Event::Batch {
            id: batch_id.to_string(),
        });
        Ok(self.info(batch, None))
    }

    /// Post: refused while an entry is flagged or nothing is ok, or when the date is no longer
    /// allowed; else every ok entry becomes a service queued for upstream. Returns how many.
    pub async fn post(
        &self,
        batch_id: &str,
        by: &str,
        hmis_user_id: Option<&str>,
    ) -> AppResult<usize> {
        let today = self.today();
        let (b, by_owned, user) = (
            batch_id.to_string(),
            by.to_string(),
            hmis_user_id.map(str::to_string),
        );
        let posted = self
            .with_store(move |app, conn| {
                let policy = &app.settings.policy;
                let up = &app.settings.upstream;
                let kind = match up.kind {
                    UpstreamKind::None => None,
                    UpstreamKind::HttpJson => Some(DeliveryKind::HttpJson),
                    UpstreamKind::ClientTrackCsv => Some(DeliveryKind::ClientTrackCsv),
                };
                let plan = |services: usize| {
                    Some(DeliveryPlan {
                        kind: kind?,
                        chunk: up.kind.chunk_size(up.batch_size, services)?,
                    })
                };
                let poster = Poster {
                    name: &by_owned,
                    hmis_user_id: user.as_deref(),
                };
                Ok(batches::post_batch(conn, policy, today, &b, poster, plan)?)
            })
            .await?;
        match posted {
            Posted::Done {
                services,
                deliveries,
            } => {
                log::info!(target: "scanstation::batch", batch_id, count = services;
                           "batch {batch_id} posted: {services} services in {deliveries} deliveries");
                self.outbox_notify.notify_one();
                self.publish(Event::Batch {
                    id: batch_id.to_string(),
                });
                Ok(services)
            }
            Posted::Flagged(entries) => Err(AppError::Flagged(entries)),
        }
    }

    /// Clients with an open enrollment in the batch's project on its date.
    pub async fn roster(&self, batch_id: &str) -> AppResult<Vec<RosterRow>> {
        let b = batch_id.to_string();
        self.with_store(move |app, conn| Ok(clients::roster(conn, &app.settings.policy, &b)?))
            .await
    }

    /// Bind a lane to an open batch, or unbind it (None).
    pub async fn bind_lane(&self, lane: &str, batch_id: Option<&str>) -> AppResult<()> {
        let lane = parse_lane(lane)?;
        let (l, b) = (lane.clone(), batch_id.map(str::to_string));
        self.with_store(move |_, conn| Ok(batches::bind_lane(conn, &l, b.as_deref())?))
            .await?;
        let shown = batch_id.unwrap_or("(none)");
        log::info!(target: "scanstation::lane", lane = lane.as_str(), batch_id = batch_id.unwrap_or("");
                   "lane {lane} bound to batch {shown}");
        self.publish(Event::Lane {
            lane,
            batch_id: batch_id.map(str::to_string),
        });
        if let Some(id) = batch_id {
            self.publish(Event::Batch { id: id.to_string() });
        }
        Ok(())
    }

    /// Every lane the station knows (bound ones, configured scanners' lanes, and `main`), sorted,
    /// with the batch each feeds.
    pub async fn lanes(&self) -> AppResult<Vec<(String, Option<String>)>> {
        let mut out = self.with_store(|_, conn| Ok(batches::lanes(conn)?)).await?;
        let configured = self
            .settings
            .scanners
            .iter()
            .map(|s| s.lane.clone())
            .chain([LaneName::main()]);
        for lane in configured {
            if !out.iter().any(|(l, _)| l == lane.as_str()) {
                out.push((lane.to_string(), None));
            }
        }
        out.sort();
        Ok(out)
    }

    /// [`App::lanes`] with each lane's remembered defaults (project and service last used on it).
    pub async fn lanes_with_defaults(&self) -> AppResult<Vec<LaneInfo>> {
        let lanes = self.lanes().await?;
        self.with_store(move |_, conn| {
            lanes
                .into_iter()
                .map(|(lane, batch_id)| {
                    Ok(LaneInfo {
                        defaults: meta::lane_defaults(conn, &lane)?,
                        lane,
                        batch_id,
                    })
                })
                .collect()
        })
        .await
    }

    /// The service dates a new batch may have today (station time zone): the range
    /// [`rules::check_service_date`] accepts.
    pub fn service_dates(&self) -> (NaiveDate, NaiveDate) {
        rules::service_date_range(self.today(), self.settings.policy.max_backdate_days)
    }

    /// Clients already served on the batch's service and date (an ok entry in any batch, open or
    /// posted): adding one again would be a duplicate.
    pub async fn served_today(&self, batch_id: &str) -> AppResult<HashSet<String>> {
        let b = batch_id.to_string();
        self.with_store(move |_, conn| Ok(clients::served_on_batch_day(conn, &b)?))
            .await
    }

    /// The public lane screen's summary (no client data).
    pub async fn lane_screen(&self, lane: &str) -> AppResult<LaneScreen> {
        let lane = parse_lane(lane)?;
        let l = lane.clone();
        let batch = self
            .with_store(move |_, conn| match batches::lane_batch(conn, &l)? {
                None => Ok(None),
                Some(id) => Ok(Some(batches::get_batch(conn, &id, false)?)),
            })
            .await?;
        Ok(LaneScreen {
            scanners: self.scanners.for_lane(lane.as_str()),
            lane,
            batch: batch.map(|b| self.info(b, None)),
        })
    }
}

/// What a manual entry adds.
#[derive(Debug, Clone)]
pub enum AddEntry {
    /// A code as a scanner would send it (barcode rules apply).
    Code(String),
    /// A client ID (lost-card search, roster tick).
    ClientId(String),
    /// An unassigned scan moved into the batch.
    Scan(i64),
}
