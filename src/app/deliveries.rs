//! Deliveries of posted services: their state per batch, and a supervisor's retry.

use chrono::{DateTime, Utc};

use crate::store::meta;
use crate::store::outbox::{self, Attempt, Delivery, DeliveryState, PostedService};

use super::{App, AppError, AppResult, Event};

/// A due delivery with its services, or why they cannot be sent as queued (a service missing).
pub type DueDelivery = (Delivery, Result<Vec<PostedService>, String>);

/// The delivery state of one posted batch.
#[derive(Debug, Clone)]
pub struct DeliverySummary {
    /// `failed` if any delivery is parked, else `queued` if any is on its way, else `delivered`.
    pub state: DeliveryState,
    pub services: usize,
    /// Why a delivery is parked or being retried; None once everything is delivered.
    pub last_error: Option<String>,
    /// When the next queued delivery is tried.
    pub next_attempt_at: Option<String>,
    /// Every delivery of the batch, oldest first.
    pub deliveries: Vec<Delivery>,
}

/// Sum up the deliveries of one batch (given newest first); None when nothing was queued.
pub fn summarise(rows: &[Delivery]) -> Option<DeliverySummary> {
    if rows.is_empty() {
        return None;
    }
    let any = |s: DeliveryState| rows.iter().any(|d| d.state == s);
    let state = if any(DeliveryState::Failed) {
        DeliveryState::Failed
    } else if any(DeliveryState::Queued) {
        DeliveryState::Queued
    } else {
        DeliveryState::Delivered
    };
    // Old errors of delivered rows stay in `deliveries`, not in the summary.
    let last_error = rows
        .iter()
        .filter(|d| d.state == state && state != DeliveryState::Delivered)
        .find_map(|d| d.last_error.clone());
    let next_attempt_at = rows
        .iter()
        .filter(|d| d.state == DeliveryState::Queued)
        .filter_map(|d| d.next_attempt_at.clone())
        .min();
    Some(DeliverySummary {
        state,
        services: rows.iter().map(|d| d.service_ids.len()).sum(),
        last_error,
        next_attempt_at,
        deliveries: rows.iter().rev().cloned().collect(),
    })
}

impl App {
    /// Queued deliveries due now with an id above `after`, oldest first, with their services.
    pub async fn due_deliveries(&self, after: i64, limit: usize) -> AppResult<Vec<DueDelivery>> {
        self.with_store(move |_, conn| {
            let rows = outbox::due(conn, Utc::now(), after, limit)?;
            let mut out = Vec::with_capacity(rows.len());
            for d in rows {
                let services = outbox::services(conn, &d.service_ids)?;
                out.push((d, services));
            }
            Ok(out)
        })
        .await
    }

    /// Record the attempts of a group of deliveries in one transaction, then tell the screens.
    pub async fn record_attempts(&self, attempts: Vec<(Delivery, Attempt)>) -> AppResult<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let rows: Vec<(i64, Attempt)> = attempts.iter().map(|(d, a)| (d.id, a.clone())).collect();
        self.with_store(move |_, conn| Ok(outbox::record(conn, &rows)?))
            .await?;
        for (d, _) in attempts {
            self.publish(Event::Delivery {
                batch_id: d.batch_id,
                delivery_id: d.id,
            });
        }
        Ok(())
    }

    /// When the next queued delivery is due (None: nothing queued).
    pub async fn next_delivery_due(&self) -> AppResult<Option<DateTime<Utc>>> {
        self.with_store(|_, conn| Ok(outbox::next_due(conn)?)).await
    }

    /// Remember why the upstream cannot deliver as configured (None: it can), for `/status`.
    pub async fn record_upstream_setup(&self, problem: Option<String>) -> AppResult<()> {
        self.with_store(move |_, conn| {
            Ok(meta::set(
                conn,
                meta::UPSTREAM_SETUP_ERROR,
                problem.as_deref(),
            )?)
        })
        .await
    }

    /// Deliveries, newest first, optionally of one state or one batch.
    pub async fn deliveries(
        &self,
        state: Option<DeliveryState>,
        batch_id: Option<String>,
        limit: usize,
    ) -> AppResult<Vec<Delivery>> {
        self.with_store(move |_, conn| Ok(outbox::list(conn, state, batch_id.as_deref(), limit)?))
            .await
    }

    pub async fn delivery(&self, id: i64) -> AppResult<Delivery> {
        self.with_store(move |_, conn| Ok(outbox::get(conn, id)?))
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "delivery",
                id: id.to_string(),
            })
    }

    /// Queue a parked delivery again (same key, same services), or make a queued one due now.
    pub async fn retry_delivery(&self, id: i64, by: &str) -> AppResult<Delivery> {
        let (changed, row) = self
            .with_store(move |_, conn| {
                let changed = outbox::retry(conn, id)? || outbox::hurry(conn, id)?;
                Ok((changed, outbox::get(conn, id)?))
            })
            .await?;
        match (changed, row) {
            (_, None) => Err(AppError::NotFound {
                what: "delivery",
                id: id.to_string(),
            }),
            (false, Some(_)) => Err(AppError::Conflict {
                code: "already_delivered",
                message: format!("delivery {id} is already delivered"),
            }),
            (true, Some(d)) => {
                log::info!(
                    "upstream: delivery {id} of batch {} queued again by supervisor {by}",
                    d.batch_id
                );
                self.outbox_notify.notify_one();
                Ok(d)
            }
        }
    }

    /// Queue every parked delivery of a batch again; returns how many.
    pub async fn retry_batch_delivery(&self, batch_id: &str, by: &str) -> AppResult<usize> {
        let b = batch_id.to_string();
        let (exists, n) = self
            .with_store(move |_, conn| {
                Ok((
                    outbox::batch_has_deliveries(conn, &b)?,
                    outbox::retry_batch(conn, &b)?,
                ))
            })
            .await?;
        if !exists {
            return Err(AppError::NotFound {
                what: "deliveries of batch",
                id: batch_id.to_string(),
            });
        }
        if n > 0 {
            log::info!(
                "upstream: {n} deliveries of batch {batch_id} queued again by supervisor {by}"
            );
            self.outbox_notify.notify_one();
        }
        Ok(n)
    }
}
