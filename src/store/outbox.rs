//! The outbox table: which deliveries are due, and what happened to each.
//!
//! One row is one delivery (one request, or one dropped file) with a fixed idempotency key and a
//! fixed list of service ids, queued by the post in the post's own transaction. A row stays
//! `queued` until the HMIS has acknowledged it, so a delivery cut short by a crash is simply sent
//! again, with the same key and the same services.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{StoreError, StoreResult};

/// Timestamps written by the worker (`next_attempt_at`, `delivered_at`): fixed-width RFC 3339 UTC,
/// so they order correctly as text.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// How a delivery travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// `POST {url}/services` with a fixed Idempotency-Key.
    HttpJson,
    /// A ClientTrack batch-upload file dropped into a folder.
    ClientTrackCsv,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::HttpJson => "http-json",
            DeliveryKind::ClientTrackCsv => "clienttrack-csv",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryKind> {
        match s {
            "http-json" => Some(DeliveryKind::HttpJson),
            "clienttrack-csv" => Some(DeliveryKind::ClientTrackCsv),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// On its way: sent at `next_attempt_at` (or now), again and again until acknowledged.
    Queued,
    Delivered,
    /// Parked: refused by the HMIS, waiting for a supervisor's retry.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "queued" => Some(DeliveryState::Queued),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One outbox row.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub batch_id: String,
    pub kind: DeliveryKind,
    pub idempotency_key: String,
    pub service_ids: Vec<String>,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

const COLS: &str = "id, batch_id, kind, idempotency_key, service_ids, state, attempts, \
                    next_attempt_at, last_error, created_at, delivered_at";

/// A text column that must parse, else a rusqlite conversion error naming the value (turned into
/// [`StoreError::BadValue`] by [`bad_value`]).
fn parsed<T>(
    r: &rusqlite::Row<'_>,
    idx: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unexpected value {text:?}").into(),
        )
    })
}

/// A conversion failure of an outbox column as [`StoreError::BadValue`]; other errors unchanged.
fn bad_value(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(idx, _, err) => StoreError::BadValue {
            column: match idx {
                2 => "outbox.kind",
                4 => "outbox.service_ids",
                5 => "outbox.state",
                _ => "outbox",
            },
            value: err.to_string(),
        },
        e => StoreError::from(e),
    }
}

fn row_to_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let service_ids: Vec<String> = parsed(r, 4, |t| serde_json::from_str(t).ok())?;
    Ok(Delivery {
        id: r.get(0)?,
        batch_id: r.get(1)?,
        kind: parsed(r, 2, DeliveryKind::parse)?,
        idempotency_key: r.get(3)?,
        service_ids,
        state: parsed(r, 5, DeliveryState::parse)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_error: r.get(8)?,
        created_at: r.get(9)?,
        delivered_at: r.get(10)?,
    })
}

/// Queued deliveries that are due at `now`, oldest first, with an id above `after` (the last one a
/// pass already took: its result may still be on its way to the disk).
pub fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE state = 'queued' AND id > ?3 \
         AND (next_attempt_at IS NULL OR next_attempt_at <= ?1) ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![ts(now), limit as i64, after], row_to_delivery)?;
    rows.collect::<Result<_, _>>().map_err(bad_value)
}

/// When the next queued delivery is due (now if one has no time), None when nothing is queued.
pub fn next_due(conn: &Connection) -> StoreResult<Option<DateTime<Utc>>> {
    let (n, unscheduled, min): (i64, i64, Option<String>) = conn.query_row(
        "SELECT count(*), count(*) - count(next_attempt_at), min(next_attempt_at) \
         FROM outbox WHERE state = 'queued'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if n == 0 {
        return Ok(None);
    }
    if unscheduled > 0 {
        return Ok(Some(Utc::now()));
    }
    Ok(Some(
        min.as_deref().and_then(parse_ts).unwrap_or_else(Utc::now),
    ))
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<Option<Delivery>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM outbox WHERE id = ?1"),
        [id],
        row_to_delivery,
    )
    .optional()
    .map_err(bad_value)
}

/// Deliveries, newest first, optionally of one state or one batch.
pub fn list(
    conn: &Connection,
    state: Option<DeliveryState>,
    batch_id: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE (?1 IS NULL OR state = ?1) \
         AND (?2 IS NULL OR batch_id = ?2) ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![state.map(DeliveryState::as_str), batch_id, limit as i64],
        row_to_delivery,
    )?;
    rows.collect::<Result<_, _>>().map_err(bad_value)
}

/// The deliveries of several batches at once (newest first), for a list of batches.
pub fn of_batches(conn: &Connection, batch_ids: &[String]) -> StoreResult<Vec<Delivery>> {
    if batch_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = serde_json::to_string(batch_ids).map_err(|e| StoreError::BadValue {
        column: "batch ids",
        value: e.to_string(),
    })?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE batch_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([ids_json], row_to_delivery)?;
    rows.collect::<Result<_, _>>().map_err(bad_value)
}

/// Queue the deliveries of a post inside its transaction: one row per chunk of service ids,
/// each with an idempotency key it keeps for ever.
pub fn queue(
    tx: &Transaction,
    batch_id: &str,
    kind: DeliveryKind,
    chunks: std::slice::Chunks<'_, String>,
    now: &str,
) -> StoreResult<usize> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (batch_id, kind, idempotency_key, service_ids, state, created_at)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
    )?;
    let mut n = 0;
    for ids in chunks {
        let ids_json = serde_json::to_string(ids).map_err(|e| StoreError::BadValue {
            column: "outbox.service_ids",
            value: e.to_string(),
        })?;
        insert.execute(params![
            batch_id,
            kind.as_str(),
            uuid::Uuid::new_v4().to_string(),
            ids_json,
            now
        ])?;
        n += 1;
    }
    Ok(n)
}

/// Whether a batch has any delivery at all.
pub fn batch_has_deliveries(conn: &Connection, batch_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox WHERE batch_id = ?1 LIMIT 1")?
        .exists([batch_id])?)
}

/// What one attempt of a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Acknowledged at this time.
    Delivered(DateTime<Utc>),
    /// Failed; tried again at this time, for this reason.
    Retry(DateTime<Utc>, String),
    /// Refused: parked for a supervisor, for this reason.
    Failed(String),
}

/// Record the attempts of a group of deliveries in one transaction (one disk flush).
pub fn record(conn: &mut Connection, attempts: &[(i64, Attempt)]) -> StoreResult<()> {
    let tx = conn.transaction()?;
    for (id, a) in attempts {
        match a {
            Attempt::Delivered(at) => mark_delivered(&tx, *id, *at)?,
            Attempt::Retry(next, reason) => mark_retry(&tx, *id, *next, reason)?,
            Attempt::Failed(reason) => mark_failed(&tx, *id, reason)?,
        }
    }
    tx.commit()?;
    Ok(())
}

/// The HMIS has the delivery.
pub fn mark_delivered(conn: &Connection, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    conn.execute(
        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?2, \
         next_attempt_at = NULL WHERE id = ?1 AND state = 'queued'",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// A failed attempt that will be tried again at `next`.
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    next: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 \
         WHERE id = ?1 AND state = 'queued'",
        params![id, ts(next), reason],
    )?;
    Ok(())
}

/// Parked: the HMIS refused the delivery; a supervisor must look at it and retry it.
pub fn mark_failed(conn: &Connection, id: i64, reason: &str) -> StoreResult<()> {
    conn.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, next_attempt_at = NULL, \
         last_error = ?2 WHERE id = ?1 AND state = 'queued'",
        params![id, reason],
    )?;
    Ok(())
}

/// Queue a parked delivery again, due now; the key and the services stay the same.
/// Returns false when the delivery does not exist or is not parked.
pub fn retry(conn: &Connection, id: i64) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = NULL WHERE id = ?1 AND state = 'failed'",
        [id],
    )?;
    Ok(n > 0)
}

/// Queue every parked delivery of a batch again; returns how many.
pub fn retry_batch(conn: &Connection, batch_id: &str) -> StoreResult<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = NULL \
         WHERE batch_id = ?1 AND state = 'failed'",
        [batch_id],
    )?)
}

/// Queued deliveries due now or earlier are also made due now (used by "retry now" of queued ones).
pub fn hurry(conn: &Connection, id: i64) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE outbox SET next_attempt_at = NULL WHERE id = ?1 AND state = 'queued'",
        [id],
    )?;
    Ok(n > 0)
}

/// One posted service, as stored by the post.
#[derive(Debug, Clone)]
pub struct PostedService {
    pub id: String,
    pub batch_id: String,
    pub personal_id: String,
    pub enrollment_id: String,
    pub project_id: String,
    pub service_code: String,
    pub date_provided: String,
    pub unit: String,
    pub units: f64,
    pub unit_value: String,
    pub hud_record_type: Option<u32>,
    pub hud_type_provided: Option<u32>,
    pub posted_by: String,
    pub posted_by_user_id: Option<String>,
    pub posted_at: String,
}

pub(crate) const SERVICE_COLS: &str = "id, batch_id, personal_id, enrollment_id, project_id, \
    service_code, date_provided, unit, units, unit_value, hud_record_type, hud_type_provided, \
    posted_by, posted_by_user_id, posted_at";

pub(crate) fn row_to_service(r: &rusqlite::Row<'_>) -> rusqlite::Result<PostedService> {
    Ok(PostedService {
        id: r.get(0)?,
        batch_id: r.get(1)?,
        personal_id: r.get(2)?,
        enrollment_id: r.get(3)?,
        project_id: r.get(4)?,
        service_code: r.get(5)?,
        date_provided: r.get(6)?,
        unit: r.get(7)?,
        units: r.get(8)?,
        unit_value: r.get(9)?,
        hud_record_type: r.get(10)?,
        hud_type_provided: r.get(11)?,
        posted_by: r.get(12)?,
        posted_by_user_id: r.get(13)?,
        posted_at: r.get(14)?,
    })
}

/// The services of a delivery, in the delivery's order. An id with no service is an error: the
/// delivery cannot be sent as queued.
pub fn services(
    conn: &Connection,
    ids: &[String],
) -> StoreResult<Result<Vec<PostedService>, String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SERVICE_COLS} FROM services WHERE id IN (SELECT value FROM json_each(?1))"
    ))?;
    let ids_json = serde_json::to_string(ids).map_err(|e| StoreError::BadValue {
        column: "service ids",
        value: e.to_string(),
    })?;
    let mut found: std::collections::HashMap<String, PostedService> = stmt
        .query_map([ids_json], row_to_service)?
        .map(|r| r.map(|s| (s.id.clone(), s)))
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match found.remove(id) {
            Some(s) => out.push(s),
            None => {
                return Ok(Err(format!(
                    "service {id} of this delivery is missing (or listed twice)"
                )))
            }
        }
    }
    Ok(Ok(out))
}

/// Totals for `/status`.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub queued: i64,
    pub delivered: i64,
    pub failed: i64,
    pub queued_services: i64,
    pub oldest_queued_at: Option<String>,
    pub oldest_queued_age_seconds: Option<i64>,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<String>,
}

pub fn totals(conn: &Connection, now: DateTime<Utc>) -> StoreResult<Totals> {
    let mut t = Totals::default();
    let mut stmt = conn.prepare_cached(
        "SELECT state, count(*), coalesce(sum(json_array_length(service_ids)), 0) \
         FROM outbox GROUP BY state",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (state, n, services) = row?;
        match state.as_str() {
            "queued" => {
                t.queued = n;
                t.queued_services = services;
            }
            "delivered" => t.delivered = n,
            "failed" => t.failed = n,
            _ => {}
        }
    }
    t.oldest_queued_at = conn.query_row(
        "SELECT min(created_at) FROM outbox WHERE state = 'queued'",
        [],
        |r| r.get::<_, Option<String>>(0),
    )?;
    t.oldest_queued_age_seconds = t
        .oldest_queued_at
        .as_deref()
        .and_then(parse_any_ts)
        .map(|at| (now - at).num_seconds().max(0));
    t.last_error = conn
        .query_row(
            "SELECT last_error FROM outbox WHERE state IN ('queued', 'failed') \
             AND last_error IS NOT NULL ORDER BY coalesce(next_attempt_at, '') DESC, id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    t.last_delivered_at = conn.query_row(
        "SELECT max(delivered_at) FROM outbox WHERE state = 'delivered'",
        [],
        |r| r.get(0),
    )?;
    Ok(t)
}

/// A timestamp in RFC 3339 or SQLite's `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn parse_any_ts(s: &str) -> Option<DateTime<Utc>> {
    parse_ts(s).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc())
    })
}
