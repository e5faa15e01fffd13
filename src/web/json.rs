//! The API's JSON shapes, built from the application layer's plain types. The field names are
//! the contract (PRODUCT.md, README "HTTP API"); every answer goes through a `serde_json::Value`,
//! so keys come out in the same order however a struct here is laid out.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::{
    BatchInfo, DeliverySummary, LaneInfo, LaneScreen, PullState, ScannerStatus, StationStatus,
};
use crate::domain::service::ServiceDef;
use crate::store::batches::{Entry, ScanOutcome, UnassignedScan};
use crate::store::clients::{ClientHit, RosterRow};
use crate::store::outbox::{Delivery, Totals};
use crate::store::projects::Project;

/// A value as JSON; plain data always serialises (a failure would be a bug, answered as such).
fn value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| {
        log::error!("cannot serialise an answer: {e}");
        Value::Null
    })
}

#[derive(Serialize)]
struct EntryJson<'a> {
    id: &'a str,
    batch_id: &'a str,
    code: &'a str,
    client_id: Option<&'a str>,
    display_name: Option<&'a str>,
    verdict: &'static str,
    reason: Option<&'a str>,
    reason_detail: Option<&'a str>,
    enrollment_id: Option<&'a str>,
    source: &'a str,
    scanned_at: &'a str,
    removed: bool,
    removed_at: Option<&'a str>,
    removed_by: Option<&'a str>,
}

pub fn entry(e: &Entry) -> Value {
    value(&EntryJson {
        id: &e.id,
        batch_id: &e.batch_id,
        code: &e.code,
        client_id: e.client_id.as_deref(),
        display_name: e.display_name.as_deref(),
        verdict: e.verdict.as_str(),
        reason: e.reason.as_deref(),
        reason_detail: e.reason_detail.as_deref(),
        enrollment_id: e.enrollment_id.as_deref(),
        source: &e.source,
        scanned_at: &e.scanned_at,
        removed: e.removed(),
        removed_at: e.removed_at.as_deref(),
        removed_by: e.removed_by.as_deref(),
    })
}

/// An entry with its batch's served count (answers to a scan or a manual entry).
pub fn entry_served(e: &Entry, served: i64) -> Value {
    let mut v = entry(e);
    v["served"] = json!(served);
    v
}

pub fn unassigned(u: &UnassignedScan) -> Value {
    json!({
        "scan_id": u.scan_id,
        "lane": u.lane,
        "code": u.code,
        "source": u.source,
        "scanned_at": u.scanned_at,
    })
}

pub fn batch(info: &BatchInfo) -> Value {
    let b = &info.batch;
    let mut v = json!({
        "id": b.id,
        "name": b.name,
        "project_id": b.project_id,
        "service_code": b.service_code,
        "service_name": info.service_name,
        "service_date": b.service_date.to_string(),
        "units": b.units,
        "unit_value": b.unit_value,
        "state": b.state.as_str(),
        "lane": b.lane,
        "counts": {
            "total": b.counts.total,
            "ok": b.counts.ok,
            "flagged": b.counts.flagged,
            "removed": b.counts.removed,
        },
        "created_at": b.created_at,
        "created_by": b.created_by,
        "posted_at": b.posted_at,
        "posted_by": b.posted_by,
        "delivery": info.delivery.as_ref().map(delivery_summary),
    });
    if let Some(entries) = &b.entries {
        v["entries"] = Value::Array(entries.iter().map(entry).collect());
    }
    v
}

fn delivery_summary(d: &DeliverySummary) -> Value {
    let deliveries: Vec<Value> = d
        .deliveries
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "kind": r.kind.as_str(),
                "state": r.state.as_str(),
                "services": r.service_ids.len(),
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "last_error": r.last_error,
                "delivered_at": r.delivered_at,
            })
        })
        .collect();
    json!({
        "state": d.state.as_str(),
        "services": d.services,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "deliveries": deliveries,
    })
}

pub fn delivery(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "batch_id": d.batch_id,
        "kind": d.kind.as_str(),
        "idempotency_key": d.idempotency_key,
        "service_ids": d.service_ids,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    })
}

#[derive(Serialize)]
struct ScannerJson<'a> {
    name: &'a str,
    kind: &'a str,
    lane: &'a str,
    path: Option<&'a str>,
    state: &'a str,
    reason: Option<&'a str>,
    last_scan_at: Option<DateTime<Utc>>,
}

pub fn scanner(s: &ScannerStatus) -> Value {
    value(&ScannerJson {
        name: &s.name,
        kind: s.kind,
        lane: &s.lane,
        path: s.path.as_deref(),
        state: s.state.as_str(),
        reason: s.reason.as_deref(),
        last_scan_at: s.last_scan_at,
    })
}

pub fn lane_screen(l: &LaneScreen) -> Value {
    let batch = l.batch.as_ref().map(|info| {
        let b = &info.batch;
        json!({
            "id": b.id, "name": b.name, "service_name": info.service_name,
            "service_date": b.service_date.to_string(), "served": b.counts.ok,
        })
    });
    let scanners: Vec<Value> = l
        .scanners
        .iter()
        .map(|s| json!({"name": s.name, "state": s.state.as_str(), "reason": s.reason}))
        .collect();
    json!({ "lane": l.lane.as_str(), "batch": batch, "scanners": scanners })
}

pub fn lane_binding(lane: &str, batch_id: Option<&str>) -> Value {
    json!({ "lane": lane, "batch_id": batch_id })
}

/// A lane in `GET /lanes`: its binding and the defaults remembered for its next batch.
pub fn lane_info(l: &LaneInfo) -> Value {
    let mut v = lane_binding(&l.lane, l.batch_id.as_deref());
    v["defaults"] = match &l.defaults {
        Some((project_id, service_code)) => {
            json!({ "project_id": project_id, "service_code": service_code })
        }
        None => Value::Null,
    };
    v
}

/// The service dates a new batch may have: `{"earliest", "latest"}` (yyyy-mm-dd).
pub fn service_dates((earliest, latest): (NaiveDate, NaiveDate)) -> Value {
    json!({ "earliest": earliest.to_string(), "latest": latest.to_string() })
}

pub fn project(p: &Project) -> Value {
    json!({
        "project_id": p.project_id,
        "name": p.name,
        "organization_id": p.organization_id,
        "project_type": p.project_type,
    })
}

pub fn service(s: &ServiceDef) -> Value {
    let mut v = json!({
        "code": s.code,
        "name": s.name,
        "unit": s.unit.as_str(),
        "units": s.units,
        "unit_value": s.unit_value.as_str(),
    });
    if let (Some(rt), Some(tp)) = (s.hud_record_type, s.hud_type_provided) {
        v["hud_record_type"] = json!(rt);
        v["hud_type_provided"] = json!(tp);
    }
    v
}

pub fn client(c: &ClientHit) -> Value {
    json!({ "client_id": c.client_id, "display_name": c.display_name })
}

/// A lost-card hit with `served_today` (already served on the batch's service and date).
pub fn client_served(c: &ClientHit, served: &HashSet<String>) -> Value {
    let mut v = client(c);
    v["served_today"] = json!(served.contains(&c.client_id));
    v
}

pub fn roster_row(r: &RosterRow, served: &HashSet<String>) -> Value {
    json!({
        "client_id": r.client_id,
        "display_name": r.display_name,
        "enrollment_id": r.enrollment_id,
        "in_batch": r.in_batch,
        "served_today": served.contains(&r.client_id),
    })
}

fn totals(t: &Totals) -> Value {
    json!({
        "queued": t.queued,
        "delivered": t.delivered,
        "failed": t.failed,
        "queued_services": t.queued_services,
        "oldest_queued_at": t.oldest_queued_at,
        "oldest_queued_age_seconds": t.oldest_queued_age_seconds,
        "last_error": t.last_error,
        "last_delivered_at": t.last_delivered_at,
    })
}

fn pull(p: &PullState) -> Value {
    json!({
        "last_imported_at": p.last_imported_at,
        "data_imported_at": p.data_imported_at,
        "data_age_seconds": p.data_age_seconds,
        "last_checked_at": p.last_checked_at,
        "last_error": p.last_error,
        "last_error_at": p.last_error_at,
        "ok": p.last_error.is_none(),
    })
}

/// `GET /status`: `head` carries the station's own fields (id, version, today, ...).
pub fn status(mut head: Value, s: &StationStatus) -> Value {
    let mut data = value(&s.data);
    data["age_seconds"] = json!(s.data_age_seconds);
    let mut outbox = totals(&s.outbox);
    outbox["setup_error"] = json!(s.setup_error);
    outbox["enrollment_pull"] = s.pull.as_ref().map(pull).unwrap_or(Value::Null);
    head["scanners"] = Value::Array(s.scanners.iter().map(scanner).collect());
    head["data"] = data;
    head["outbox"] = outbox;
    head["unassigned"] = json!(s.unassigned);
    head["disk"] = s.disk.as_ref().map(disk).unwrap_or(Value::Null);
    head
}

/// `/status` `disk`: space where the database lives; `low_space` warns before it runs out.
fn disk(d: &crate::store::DiskSpace) -> Value {
    let warning = if d.read_only {
        Some("the database's filesystem is read-only: scans are refused")
    } else if d.write_failed {
        Some("the database's disk refused the last write (read-only or failing): scans are refused")
    } else if d.free_bytes == 0 {
        Some("the database's disk is full: scans are refused")
    } else if d.low() {
        Some("the database's disk is nearly full: free space before scans are refused")
    } else {
        None
    };
    json!({
        "free_bytes": d.free_bytes,
        "total_bytes": d.total_bytes,
        "read_only": d.read_only,
        "write_failed": d.write_failed,
        "low_space": d.low() || d.read_only || d.write_failed,
        "warning": warning,
    })
}

/// The `data` of a `scan` event: the entry (display name only) and the batch's served count, or
/// an unassigned scan's id and time.
pub fn scan_event(lane: Option<&str>, outcome: &ScanOutcome) -> Value {
    match outcome {
        ScanOutcome::Entry { entry: e, served } => json!({
            "lane": lane,
            "entry": entry(e),
            "batch": {"id": e.batch_id, "served": served},
        }),
        ScanOutcome::Unassigned(u) => json!({
            "lane": lane,
            "unassigned": {"scan_id": u.scan_id, "scanned_at": u.scanned_at},
        }),
    }
}
