//! Scans: from any source (HID, serial, `POST /lanes/{lane}/scans`, demo stdin) through
//! [`App::scan`]: scan log first, then verdict, then the `scan` event. Unassigned scans wait for
//! a supervisor to move them into a batch or dismiss them.

use crate::domain::lane::LaneName;
use crate::store::batches::{self, ScanOutcome, UnassignedScan};
use crate::store::clients;

use super::{App, AppError, AppResult, Event};

/// Longest raw scan kept; longer input is refused with a clear error (scanners cap frames first).
pub const MAX_SCAN_LEN: usize = 1024;

impl App {
    /// A scan from any source on `lane`, durable before it returns.
    /// `source`: "hid", "serial", "api" (lane scan API), "stdin" (demo).
    pub async fn scan(&self, lane: &str, raw: &str, source: &str) -> AppResult<ScanOutcome> {
        let lane = parse_lane(lane)?;
        if raw.len() > MAX_SCAN_LEN {
            return Err(AppError::invalid(
                "scan_too_long",
                format!(
                    "a scan is at most {MAX_SCAN_LEN} bytes; this one has {}",
                    raw.len()
                ),
            ));
        }
        let (l, raw, source) = (lane.clone(), raw.to_string(), source.to_string());
        let recorded = self
            .with_store(move |app, conn| {
                Ok(batches::record_scan(
                    conn,
                    &app.settings.policy,
                    &l,
                    &raw,
                    &source,
                )?)
            })
            .await;
        let outcome = match recorded {
            Ok(outcome) => outcome,
            Err(e @ AppError::Disk { .. }) => {
                // Loudly: the lane screen shows that this card was not recorded.
                self.publish(Event::ScanRefused {
                    lane,
                    code: e.code(),
                });
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.publish_scan(Some(lane), &outcome);
        Ok(outcome)
    }

    /// Log a recorded scan (ids and verdict only) and publish its `scan` event.
    pub(super) fn publish_scan(&self, lane: Option<LaneName>, outcome: &ScanOutcome) {
        let lane_name = lane.as_ref().map(LaneName::as_str).unwrap_or("(manual)");
        match outcome {
            ScanOutcome::Entry { entry, .. } => {
                let (verdict, batch_id) = (entry.verdict.as_str(), entry.batch_id.as_str());
                log::debug!(target: "scanstation::scan", lane = lane_name, batch_id, verdict;
                            "scan on lane {lane_name}: {verdict} (batch {batch_id}, entry {})", entry.id);
            }
            ScanOutcome::Unassigned(u) => {
                log::info!(target: "scanstation::scan", lane = lane_name, scan_id = u.scan_id;
                           "scan on lane {lane_name} kept as unassigned (scan {}): no batch open", u.scan_id);
            }
        }
        self.publish(Event::Scan {
            lane,
            outcome: outcome.clone(),
        });
    }

    /// Scans that reached no batch and were neither moved nor dismissed, oldest first.
    pub async fn unassigned_scans(&self) -> AppResult<Vec<UnassignedScan>> {
        self.with_store(|_, conn| Ok(batches::unassigned_scans(conn)?))
            .await
    }

    /// [`App::unassigned_scans`], each with the display name of its client when the code names
    /// one the station knows (barcode rules, then the client table).
    pub async fn unassigned_scans_named(&self) -> AppResult<Vec<(UnassignedScan, Option<String>)>> {
        self.with_store(|app, conn| {
            let scans = batches::unassigned_scans(conn)?;
            let rules = &app.settings.policy.barcode;
            let ids: Vec<Option<String>> = scans
                .iter()
                .map(|s| rules.client_id(&s.code).ok())
                .collect();
            let names = clients::display_names(conn, ids.iter().flatten().map(String::as_str))?;
            Ok(scans
                .into_iter()
                .zip(ids)
                .map(|(s, id)| {
                    let name = id.and_then(|id| names.get(&id).cloned());
                    (s, name)
                })
                .collect())
        })
        .await
    }

    /// Dismiss an unassigned scan (it stays in the scan log, marked dismissed by `by`).
    pub async fn dismiss_scan(&self, scan_id: i64, by: &str) -> AppResult<()> {
        let by = by.to_string();
        self.with_store(move |_, conn| Ok(batches::dismiss_scan(conn, scan_id, &by)?))
            .await?;
        log::info!(target: "scanstation::scan", scan_id; "unassigned scan {scan_id} dismissed");
        Ok(())
    }
}

/// A lane name from outside, or a clear error.
pub(super) fn parse_lane(lane: &str) -> AppResult<LaneName> {
    LaneName::parse(lane).map_err(|e| AppError::invalid("bad_lane", e.to_string()))
}
