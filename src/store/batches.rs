//! Batches, entries, lanes, the scan log, reload and post: the store side of the rules.
//!
//! Each function gathers facts with SQL, asks the pure rules in [`crate::domain::rules`], and
//! writes the outcome in one transaction.

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::rules::{
    self, BatchState, BatchTerms, ClientFacts, Decision, EnrollmentFact, Verdict,
};
use crate::error::{AppError, AppResult};
use crate::store::now_text;

/// One entry as the API shows it: the client only by first name and last initial.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub id: String,
    pub batch_id: String,
    pub code: String,
    pub client_id: Option<String>,
    pub display_name: Option<String>,
    pub verdict: Verdict,
    /// Why a duplicate is one (`batch`, `service_day`); None unless the verdict is duplicate.
    pub reason: Option<String>,
    /// Where the earlier service is, when not at the station: `hmis`.
    pub reason_detail: Option<String>,
    pub enrollment_id: Option<String>,
    pub source: String,
    pub scanned_at: String,
    pub removed: bool,
    pub removed_at: Option<String>,
    pub removed_by: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub total: i64,
    pub ok: i64,
    pub flagged: i64,
    pub removed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub service_code: String,
    pub service_name: Option<String>,
    pub service_date: String,
    pub units: f64,
    pub unit_value: String,
    pub state: BatchState,
    pub lane: Option<String>,
    pub counts: Counts,
    pub created_at: String,
    pub created_by: Option<String>,
    pub posted_at: Option<String>,
    pub posted_by: Option<String>,
    pub delivery: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<EntryView>>,
}

/// `POST /batches` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    pub project_id: String,
    pub service_code: String,
    pub service_date: Option<String>,
    pub units: Option<f64>,
    pub unit_value: Option<String>,
    pub name: Option<String>,
    pub lane: Option<String>,
}

/// What a scan turned into.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ScanOutcome {
    /// The lane feeds a batch: the new entry, and the batch's served count.
    Entry { entry: EntryView, served: i64 },
    /// The lane has no open batch: kept in the scan log as unassigned.
    Unassigned(UnassignedScan),
}

#[derive(Debug, Clone, Serialize)]
pub struct UnassignedScan {
    pub scan_id: i64,
    pub lane: Option<String>,
    pub code: String,
    pub source: String,
    pub scanned_at: String,
}

/// What a manual entry names: a code as a scanner would send it, or a client ID.
#[derive(Debug, Clone)]
pub enum EntryInput {
    Code(String),
    ClientId(String),
}

struct BatchRow {
    id: String,
    project_id: String,
    service_code: String,
    service_date: NaiveDate,
    state: BatchState,
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn load_batch_row(conn: &Connection, id: &str) -> AppResult<BatchRow> {
    conn.query_row(
        "SELECT id, project_id, service_code, service_date, state FROM batches WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )
    .optional()?
    .map(|(id, project_id, service_code, date, state)| BatchRow {
        id,
        project_id,
        service_code,
        service_date: parse_date(&date).unwrap_or_default(),
        state: BatchState::parse(&state).unwrap_or(BatchState::Posted),
    })
    .ok_or_else(|| AppError::NotFound(format!("batch {id}")))
}

fn terms<'a>(settings: &Settings, b: &'a BatchRow) -> BatchTerms<'a> {
    BatchTerms {
        project_id: &b.project_id,
        service_date: b.service_date,
        bed_night: settings
            .service(&b.service_code)
            .map(|s| s.is_bed_night())
            .unwrap_or(false),
        scope: settings.duplicate_scope,
    }
}

/// Facts about one client for an entry of batch `b`. `entry_seq`: the entry being recomputed
/// (reload); other batches' entries count against it when they came earlier, or are posted.
/// For a new scan (None) every other batch's entry counts.
fn client_facts(
    conn: &Connection,
    b: &BatchRow,
    client_id: Option<&str>,
    entry_seq: Option<i64>,
) -> rusqlite::Result<ClientFacts> {
    let Some(client_id) = client_id else {
        return Ok(ClientFacts::default());
    };
    let known = conn
        .prepare_cached("SELECT 1 FROM clients WHERE personal_id = ?1")?
        .exists([client_id])?;
    let served_elsewhere = known
        && conn
            .prepare_cached(
                "SELECT 1 FROM entries e JOIN batches b ON b.id = e.batch_id
                 WHERE e.client_id = ?1 AND e.removed_at IS NULL AND b.id <> ?2
                   AND b.service_code = ?3 AND b.service_date = ?4
                   AND (?5 IS NULL OR e.seq < ?5 OR b.state = 'posted')
                 LIMIT 1",
            )?
            .exists(params![
                client_id,
                b.id,
                b.service_code,
                b.service_date.to_string(),
                entry_seq
            ])?;
    let hmis_bed_night =
        known && crate::store::hmis::hmis_bed_night_on(conn, client_id, b.service_date)?;
    let mut enrollments = Vec::new();
    if known {
        let mut stmt = conn.prepare_cached(
            "SELECT e.enrollment_id, e.project_id, e.entry_date,
                    (SELECT max(x.exit_date) FROM exits x WHERE x.enrollment_id = e.enrollment_id)
             FROM enrollments e WHERE e.personal_id = ?1 AND e.project_id = ?2",
        )?;
        let rows = stmt.query_map([client_id, b.project_id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (enrollment_id, project_id, entry, exit) = row?;
            // Dates were validated at import; a row that still does not parse cannot count.
            let Some(entry_date) = parse_date(&entry) else {
                continue;
            };
            enrollments.push(EnrollmentFact {
                enrollment_id,
                project_id,
                entry_date,
                exit_date: exit.as_deref().and_then(parse_date),
            });
        }
    }
    Ok(ClientFacts {
        client_id: Some(client_id.to_string()),
        known,
        served_elsewhere,
        enrollments,
        hmis_bed_night,
    })
}

const ENTRY_SELECT: &str =
    "SELECT e.id, e.batch_id, e.code, e.client_id, c.first_name, c.last_initial,
        e.verdict, e.enrollment_id, e.source, e.scanned_at, e.removed_at, e.removed_by,
        e.reason, e.reason_detail
     FROM entries e LEFT JOIN clients c ON c.personal_id = e.client_id";

fn entry_from_row(r: &rusqlite::Row) -> rusqlite::Result<EntryView> {
    let first: Option<String> = r.get(4)?;
    let initial: Option<String> = r.get(5)?;
    let removed_at: Option<String> = r.get(10)?;
    let client_id: Option<String> = r.get(3)?;
    Ok(EntryView {
        id: r.get(0)?,
        batch_id: r.get(1)?,
        code: r.get(2)?,
        display_name: first.map(|f| {
            rules::display_name_or_label(
                &f,
                initial.as_deref().unwrap_or(""),
                client_id.as_deref().unwrap_or(""),
            )
        }),
        client_id,
        verdict: Verdict::parse(&r.get::<_, String>(6)?).unwrap_or(Verdict::InvalidCode),
        reason: r.get(12)?,
        reason_detail: r.get(13)?,
        enrollment_id: r.get(7)?,
        source: r.get(8)?,
        scanned_at: r.get(9)?,
        removed: removed_at.is_some(),
        removed_at,
        removed_by: r.get(11)?,
    })
}

pub fn get_entry(conn: &Connection, entry_id: &str) -> AppResult<EntryView> {
    conn.query_row(
        &format!("{ENTRY_SELECT} WHERE e.id = ?1"),
        [entry_id],
        entry_from_row,
    )
    .optional()?
    .ok_or_else(|| AppError::NotFound(format!("entry {entry_id}")))
}

pub fn batch_entries(conn: &Connection, batch_id: &str) -> AppResult<Vec<EntryView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ENTRY_SELECT} WHERE e.batch_id = ?1 ORDER BY e.seq"
    ))?;
    let rows = stmt.query_map([batch_id], entry_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn served_count(conn: &Connection, batch_id: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM entries WHERE batch_id = ?1 AND removed_at IS NULL AND verdict = 'ok'",
    )?
    .query_row([batch_id], |r| r.get(0))
}

fn counts(conn: &Connection, batch_id: &str) -> rusqlite::Result<Counts> {
    conn.prepare_cached(
        "SELECT count(*),
                coalesce(sum(removed_at IS NULL AND verdict = 'ok'), 0),
                coalesce(sum(removed_at IS NULL AND verdict <> 'ok'), 0),
                coalesce(sum(removed_at IS NOT NULL), 0)
         FROM entries WHERE batch_id = ?1",
    )?
    .query_row([batch_id], |r| {
        Ok(Counts {
            total: r.get(0)?,
            ok: r.get(1)?,
            flagged: r.get(2)?,
            removed: r.get(3)?,
        })
    })
}

pub fn get_batch(
    conn: &Connection,
    settings: &Settings,
    id: &str,
    with_entries: bool,
) -> AppResult<BatchView> {
    let row = conn
        .query_row(
            "SELECT b.id, b.name, b.project_id, b.service_code, b.service_date, b.units,
                    b.unit_value, b.state, b.created_at, b.created_by, b.posted_at, b.posted_by,
                    (SELECT min(l.lane) FROM lanes l WHERE l.batch_id = b.id)
             FROM batches b WHERE b.id = ?1",
            [id],
            |r| {
                Ok(BatchView {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    project_id: r.get(2)?,
                    service_code: r.get(3)?,
                    service_name: None,
                    service_date: r.get(4)?,
                    units: r.get(5)?,
                    unit_value: r.get(6)?,
                    state: BatchState::parse(&r.get::<_, String>(7)?).unwrap_or(BatchState::Open),
                    created_at: r.get(8)?,
                    created_by: r.get(9)?,
                    posted_at: r.get(10)?,
                    posted_by: r.get(11)?,
                    lane: r.get(12)?,
                    counts: Counts::default(),
                    delivery: None,
                    entries: None,
                })
            },
        )
        .optional()?;
    let mut b = row.ok_or_else(|| AppError::NotFound(format!("batch {id}")))?;
    b.service_name = settings.service(&b.service_code).map(|s| s.name.clone());
    b.counts = counts(conn, id)?;
    if b.state == BatchState::Posted {
        b.delivery = crate::upstream::batch_delivery(conn, id)?;
    }
    if with_entries {
        b.entries = Some(batch_entries(conn, id)?);
    }
    Ok(b)
}

pub fn list_batches(
    conn: &Connection,
    settings: &Settings,
    state: Option<BatchState>,
) -> AppResult<Vec<BatchView>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM batches WHERE (?1 IS NULL OR state = ?1)
         ORDER BY service_date DESC, created_at DESC LIMIT 500",
    )?;
    let ids: Vec<String> = stmt
        .query_map([state.map(|s| s.as_str())], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter()
        .map(|id| get_batch(conn, settings, id, false))
        .collect()
}

/// Create a batch (and bind it to `lane` if given).
pub fn create_batch(
    conn: &mut Connection,
    settings: &Settings,
    today: NaiveDate,
    nb: NewBatch,
    by: Option<&str>,
) -> AppResult<BatchView> {
    let service = settings.service(&nb.service_code).ok_or_else(|| {
        AppError::Invalid(format!(
            "service_code {:?} is not in the service catalogue",
            nb.service_code
        ))
    })?;
    let date = match nb.service_date.as_deref() {
        None | Some("") => today,
        Some(s) => parse_date(s).ok_or_else(|| {
            AppError::Invalid(format!("service_date {s:?} is not a date yyyy-mm-dd"))
        })?,
    };
    rules::check_service_date(date, today, settings.raw.hmis.max_backdate_days)?;
    let units = nb.units.unwrap_or(service.units);
    if !(units.is_finite() && units > 0.0) {
        return Err(AppError::Invalid("units must be a number above 0".into()));
    }
    let unit_value = match nb.unit_value.as_deref() {
        None => service.unit_value.clone(),
        Some(v) => crate::domain::money::parse_money(v)
            .map_err(|e| AppError::Invalid(format!("unit_value: {e}")))?,
    };
    if let Some(lane) = &nb.lane {
        check_lane(lane)?;
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let project_name: Option<String> = tx
        .query_row(
            "SELECT name FROM projects WHERE project_id = ?1",
            [&nb.project_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(project_name) = project_name else {
        return Err(AppError::Invalid(format!(
            "project_id {:?} is not in the enrollment data",
            nb.project_id
        )));
    };
    let id = uuid::Uuid::new_v4().to_string();
    let name = nb
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{} - {} - {}", service.name, project_name, date));
    tx.execute(
        "INSERT INTO batches (id, name, project_id, service_code, service_date, units, unit_value,
                              state, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9)",
        params![
            id,
            name.trim(),
            nb.project_id,
            nb.service_code,
            date.to_string(),
            units,
            unit_value,
            now_text(),
            by
        ],
    )?;
    if let Some(lane) = &nb.lane {
        bind_lane_tx(&tx, lane, Some(&id))?;
    }
    tx.commit()?;
    get_batch(conn, settings, &id, true)
}

pub fn check_lane(lane: &str) -> AppResult<()> {
    if crate::domain::lane::valid_lane_name(lane) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "{lane:?} is not a lane name (1-32 of a-z A-Z 0-9 _ -)"
        )))
    }
}

fn bind_lane_tx(tx: &Transaction, lane: &str, batch_id: Option<&str>) -> AppResult<()> {
    if let Some(id) = batch_id {
        let state: Option<String> = tx
            .query_row("SELECT state FROM batches WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        match state.as_deref() {
            None => return Err(AppError::NotFound(format!("batch {id}"))),
            Some("open") => {}
            Some(_) => {
                return Err(AppError::Conflict(format!(
                    "batch {id} is posted; a lane can only feed an open batch"
                )))
            }
        }
    }
    tx.execute(
        "INSERT INTO lanes (lane, batch_id) VALUES (?1, ?2)
         ON CONFLICT (lane) DO UPDATE SET batch_id = excluded.batch_id",
        params![lane, batch_id],
    )?;
    Ok(())
}

/// Bind `lane` to an open batch, or unbind it (None).
pub fn bind_lane(conn: &mut Connection, lane: &str, batch_id: Option<&str>) -> AppResult<()> {
    check_lane(lane)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    bind_lane_tx(&tx, lane, batch_id)?;
    tx.commit()?;
    Ok(())
}

/// The batch a lane feeds, if any.
pub fn lane_batch(conn: &Connection, lane: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT batch_id FROM lanes WHERE lane = ?1 AND batch_id IS NOT NULL")?
        .query_row([lane], |r| r.get(0))
        .optional()
}

/// All lanes with a row (bound or not).
pub fn lanes(conn: &Connection) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    let mut stmt = conn.prepare("SELECT lane, batch_id FROM lanes ORDER BY lane")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

fn log_scan(
    tx: &Transaction,
    lane: Option<&str>,
    source: &str,
    raw: &str,
    batch_id: Option<&str>,
) -> rusqlite::Result<(i64, String)> {
    let at = now_text();
    tx.prepare_cached(
        "INSERT INTO scan_log (scanned_at, lane, source, raw, batch_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at, lane, source, raw, batch_id])?;
    Ok((tx.last_insert_rowid(), at))
}

/// Add an entry to an open batch inside `tx`; returns the new entry's id.
fn insert_entry(
    tx: &Transaction,
    settings: &Settings,
    b: &BatchRow,
    input: &EntryInput,
    source: &str,
    scan_seq: Option<i64>,
    scanned_at: &str,
) -> AppResult<String> {
    rules::ensure_open(b.state)?;
    let (code, client_id) = match input {
        EntryInput::Code(raw) => (raw.clone(), settings.barcode.client_id(raw).ok()),
        EntryInput::ClientId(id) => (id.clone(), Some(id.trim().to_string())),
    };
    let client_id = client_id.filter(|c| !c.is_empty());
    let facts = client_facts(tx, b, client_id.as_deref(), None)?;
    let earlier = match &client_id {
        Some(c) => tx
            .prepare_cached(
                "SELECT 1 FROM entries WHERE batch_id = ?1 AND client_id = ?2 AND removed_at IS NULL",
            )?
            .exists([b.id.as_str(), c.as_str()])?,
        None => false,
    };
    let Decision {
        verdict,
        enrollment_id,
        duplicate,
    } = rules::verdict(&facts, earlier, &terms(settings, b));
    let id = uuid::Uuid::new_v4().to_string();
    tx.prepare_cached(
        "INSERT INTO entries (id, batch_id, scan_seq, code, client_id, verdict, enrollment_id,
                              source, scanned_at, reason, reason_detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id,
        b.id,
        scan_seq,
        code,
        client_id,
        verdict.as_str(),
        enrollment_id,
        source,
        scanned_at,
        duplicate.map(rules::Duplicate::reason),
        duplicate.and_then(rules::Duplicate::detail)
    ])?;
    Ok(id)
}

/// A scan on a lane: written to the scan log, then (if the lane feeds a batch) judged and added,
/// all in one durable transaction.
pub fn record_scan(
    conn: &mut Connection,
    settings: &Settings,
    lane: &str,
    raw: &str,
    source: &str,
) -> AppResult<ScanOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let batch_id = lane_batch(&tx, lane)?;
    let (seq, at) = log_scan(&tx, Some(lane), source, raw, batch_id.as_deref())?;
    let outcome = match batch_id {
        Some(batch_id) => {
            let b = load_batch_row(&tx, &batch_id)?;
            let entry_id = insert_entry(
                &tx,
                settings,
                &b,
                &EntryInput::Code(raw.to_string()),
                source,
                Some(seq),
                &at,
            )?;
            ScanOutcome::Entry {
                entry: get_entry(&tx, &entry_id)?,
                served: served_count(&tx, &batch_id)?,
            }
        }
        None => ScanOutcome::Unassigned(UnassignedScan {
            scan_id: seq,
            lane: Some(lane.to_string()),
            code: raw.to_string(),
            source: source.to_string(),
            scanned_at: at,
        }),
    };
    tx.commit()?;
    Ok(outcome)
}

/// A manual entry (typed code, lost-card lookup, roster tick): logged, judged, added.
pub fn add_entry(
    conn: &mut Connection,
    settings: &Settings,
    batch_id: &str,
    input: EntryInput,
    source: &str,
) -> AppResult<(EntryView, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let raw = match &input {
        EntryInput::Code(c) | EntryInput::ClientId(c) => c.clone(),
    };
    let (seq, at) = log_scan(&tx, None, source, &raw, Some(batch_id))?;
    let id = insert_entry(&tx, settings, &b, &input, source, Some(seq), &at)?;
    let out = (get_entry(&tx, &id)?, served_count(&tx, batch_id)?);
    tx.commit()?;
    Ok(out)
}

/// Move an unassigned scan into a batch, judged as it would have been on arrival.
pub fn assign_scan(
    conn: &mut Connection,
    settings: &Settings,
    batch_id: &str,
    scan_id: i64,
    by: &str,
) -> AppResult<(EntryView, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let scan = unassigned_scan(&tx, scan_id)?;
    let id = insert_entry(
        &tx,
        settings,
        &b,
        &EntryInput::Code(scan.code),
        &scan.source,
        Some(scan_id),
        &scan.scanned_at,
    )?;
    tx.execute(
        "INSERT INTO scan_resolutions (scan_seq, resolution, entry_id, resolved_at, resolved_by)
         VALUES (?1, 'moved', ?2, ?3, ?4)",
        params![scan_id, id, now_text(), by],
    )?;
    let out = (get_entry(&tx, &id)?, served_count(&tx, batch_id)?);
    tx.commit()?;
    Ok(out)
}

/// Scans that reached no batch and were neither moved nor dismissed, oldest first.
pub fn unassigned_scans(conn: &Connection) -> rusqlite::Result<Vec<UnassignedScan>> {
    let mut stmt = conn.prepare(
        "SELECT s.seq, s.lane, s.raw, s.source, s.scanned_at FROM scan_log s
         WHERE s.batch_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM scan_resolutions r WHERE r.scan_seq = s.seq)
         ORDER BY s.seq LIMIT 1000",
    )?;
    let rows = stmt.query_map([], unassigned_from_row)?;
    rows.collect()
}

pub fn dismiss_scan(conn: &mut Connection, scan_id: i64, by: &str) -> AppResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    unassigned_scan(&tx, scan_id)?;
    tx.execute(
        "INSERT INTO scan_resolutions (scan_seq, resolution, resolved_at, resolved_by)
         VALUES (?1, 'dismissed', ?2, ?3)",
        params![scan_id, now_text(), by],
    )?;
    tx.commit()?;
    Ok(())
}

/// One scan that reached no batch and was neither moved nor dismissed, or NotFound.
fn unassigned_scan(conn: &Connection, scan_id: i64) -> AppResult<UnassignedScan> {
    conn.query_row(
        "SELECT s.seq, s.lane, s.raw, s.source, s.scanned_at FROM scan_log s
         WHERE s.seq = ?1 AND s.batch_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM scan_resolutions r WHERE r.scan_seq = s.seq)",
        [scan_id],
        unassigned_from_row,
    )
    .optional()?
    .ok_or_else(|| AppError::NotFound(format!("unassigned scan {scan_id}")))
}

fn unassigned_from_row(r: &rusqlite::Row) -> rusqlite::Result<UnassignedScan> {
    Ok(UnassignedScan {
        scan_id: r.get(0)?,
        lane: r.get(1)?,
        code: r.get(2)?,
        source: r.get(3)?,
        scanned_at: r.get(4)?,
    })
}

/// Remove (X): a soft delete with who and when.
pub fn remove_entry(
    conn: &mut Connection,
    batch_id: &str,
    entry_id: &str,
    by: &str,
) -> AppResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let n = tx.execute(
        "UPDATE entries SET removed_at = ?1, removed_by = ?2
         WHERE id = ?3 AND batch_id = ?4 AND removed_at IS NULL",
        params![now_text(), by, entry_id, batch_id],
    )?;
    if n == 0 {
        let exists = tx
            .prepare("SELECT 1 FROM entries WHERE id = ?1 AND batch_id = ?2")?
            .exists([entry_id, batch_id])?;
        if !exists {
            return Err(AppError::NotFound(format!(
                "entry {entry_id} in batch {batch_id}"
            )));
        }
        // Already removed: removing again changes nothing.
    }
    tx.commit()?;
    Ok(())
}

/// Remove every flagged (not ok) entry still in the batch.
pub fn remove_flagged(conn: &mut Connection, batch_id: &str, by: &str) -> AppResult<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let n = tx.execute(
        "UPDATE entries SET removed_at = ?1, removed_by = ?2
         WHERE batch_id = ?3 AND removed_at IS NULL AND verdict <> 'ok'",
        params![now_text(), by, batch_id],
    )?;
    tx.commit()?;
    Ok(n)
}

fn reload_tx(tx: &Transaction, settings: &Settings, b: &BatchRow) -> AppResult<()> {
    rules::ensure_open(b.state)?;
    let mut stmt = tx.prepare_cached(
        "SELECT seq, client_id FROM entries WHERE batch_id = ?1 AND removed_at IS NULL ORDER BY seq",
    )?;
    let live: Vec<(i64, Option<String>)> = stmt
        .query_map([&b.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let facts = live
        .iter()
        .map(|(seq, client)| client_facts(tx, b, client.as_deref(), Some(*seq)))
        .collect::<Result<Vec<_>, _>>()?;
    let decisions = rules::verdicts_in_order(&facts, &terms(settings, b));
    let mut update = tx.prepare_cached(
        "UPDATE entries SET verdict = ?1, enrollment_id = ?2, reason = ?3, reason_detail = ?4
         WHERE seq = ?5",
    )?;
    for ((seq, _), d) in live.iter().zip(decisions) {
        update.execute(params![
            d.verdict.as_str(),
            d.enrollment_id,
            d.duplicate.map(rules::Duplicate::reason),
            d.duplicate.and_then(rules::Duplicate::detail),
            seq
        ])?;
    }
    Ok(())
}

/// Reload: recompute every non-removed entry in scan order against the current data.
pub fn reload_batch(conn: &mut Connection, settings: &Settings, batch_id: &str) -> AppResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    reload_tx(&tx, settings, &b)?;
    tx.commit()?;
    Ok(())
}

/// Reload every open batch (after an import); returns how many.
pub fn reload_open_batches(conn: &mut Connection, settings: &Settings) -> AppResult<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM batches WHERE state = 'open' ORDER BY created_at")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        let b = load_batch_row(&tx, id)?;
        reload_tx(&tx, settings, &b)?;
    }
    tx.commit()?;
    Ok(ids.len())
}

/// Why a post was refused, with the entries that block it.
#[derive(Debug)]
pub enum PostError {
    Flagged(Vec<EntryView>),
    Other(AppError),
}

impl<E: Into<AppError>> From<E> for PostError {
    fn from(e: E) -> Self {
        PostError::Other(e.into())
    }
}

/// Who posts: the supervisor's name and optional HMIS user id.
pub struct Poster<'a> {
    pub name: &'a str,
    pub hmis_user_id: Option<&'a str>,
}

/// Post: every ok entry becomes a service with a stable UUID, the batch freezes, and the
/// services are queued for upstream, all in one transaction. Returns the number posted.
pub fn post_batch(
    conn: &mut Connection,
    settings: &Settings,
    today: NaiveDate,
    batch_id: &str,
    poster: Poster,
) -> Result<usize, PostError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    let live: Vec<(String, Verdict, Option<String>, Option<String>)> = tx
        .prepare(
            "SELECT id, verdict, client_id, enrollment_id FROM entries
             WHERE batch_id = ?1 AND removed_at IS NULL ORDER BY seq",
        )?
        .query_map([batch_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Verdict::parse(&r.get::<_, String>(1)?).unwrap_or(Verdict::InvalidCode),
                r.get(2)?,
                r.get(3)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let verdicts: Vec<Verdict> = live.iter().map(|e| e.1).collect();
    match rules::check_post(b.state, &verdicts) {
        Ok(_) => {}
        Err(rules::BatchRefusal::Flagged(_)) => {
            let flagged = live
                .iter()
                .filter(|e| e.1 != Verdict::Ok)
                .map(|e| get_entry(&tx, &e.0))
                .collect::<Result<Vec<_>, _>>()?;
            return Err(PostError::Flagged(flagged));
        }
        Err(other) => return Err(other.into()),
    }
    rules::check_service_date(b.service_date, today, settings.raw.hmis.max_backdate_days)?;
    let service = settings.service(&b.service_code).ok_or_else(|| {
        AppError::Conflict(format!(
            "service {} is no longer in the catalogue; it cannot be posted",
            b.service_code
        ))
    })?;
    let (units, unit_value): (f64, String) = tx.query_row(
        "SELECT units, unit_value FROM batches WHERE id = ?1",
        [batch_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let now = now_text();
    let mut service_ids = Vec::with_capacity(live.len());
    {
        let mut insert = tx.prepare(
            "INSERT INTO services (id, batch_id, entry_id, personal_id, enrollment_id, project_id,
                service_code, date_provided, unit, units, unit_value, hud_record_type,
                hud_type_provided, posted_by, posted_by_user_id, posted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for (entry_id, _, client_id, enrollment_id) in &live {
            let id = uuid::Uuid::new_v4().to_string();
            insert.execute(params![
                id,
                batch_id,
                entry_id,
                client_id,
                enrollment_id,
                b.project_id,
                b.service_code,
                b.service_date.to_string(),
                service.unit.as_str(),
                units,
                unit_value,
                service.hud_record_type,
                service.hud_type_provided,
                poster.name,
                poster.hmis_user_id,
                now
            ])?;
            service_ids.push(id);
        }
    }
    queue_deliveries(&tx, settings, batch_id, &service_ids, &now)?;
    tx.execute(
        "UPDATE batches SET state = 'posted', posted_at = ?1, posted_by = ?2 WHERE id = ?3",
        params![now, poster.name, batch_id],
    )?;
    tx.execute(
        "UPDATE lanes SET batch_id = NULL WHERE batch_id = ?1",
        [batch_id],
    )?;
    tx.commit()?;
    Ok(service_ids.len())
}

/// Outbox rows for a post: `http-json` in chunks of `upstream.batch_size` services, one row per
/// batch for `clienttrack-csv`, none for `none`. Each row keeps its idempotency key for ever.
fn queue_deliveries(
    tx: &Transaction,
    settings: &Settings,
    batch_id: &str,
    service_ids: &[String],
    now: &str,
) -> rusqlite::Result<()> {
    let kind = settings.raw.upstream.kind.as_str();
    let chunk = match kind {
        "http-json" => settings.raw.upstream.batch_size.max(1),
        "clienttrack-csv" => service_ids.len().max(1),
        _ => return Ok(()),
    };
    let mut insert = tx.prepare(
        "INSERT INTO outbox (batch_id, kind, idempotency_key, service_ids, state, created_at)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
    )?;
    for ids in service_ids.chunks(chunk) {
        let ids_json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        insert.execute(params![
            batch_id,
            kind,
            uuid::Uuid::new_v4().to_string(),
            ids_json,
            now
        ])?;
    }
    Ok(())
}
