//! Batches, entries, lanes, the scan log, reload and post: the store side of the rules.
//!
//! Each function gathers facts with SQL, asks the pure rules in [`crate::domain::rules`], and
//! writes the outcome in one transaction. Rows come back as plain structs; a value that does not
//! parse is a [`StoreError::BadValue`], never a default.

use std::collections::HashSet;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::domain::lane::LaneName;
use crate::domain::money::Money;
use crate::domain::policy::Policy;
use crate::domain::rules::{
    self, BatchRefusal, BatchState, BatchTerms, ClientFacts, Decision, EnrollmentFact, Verdict,
};
use crate::store::outbox::DeliveryKind;
use crate::store::{now_text, StoreError, StoreResult};

/// One entry: the client only by first name and last initial.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
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
    pub removed_at: Option<String>,
    pub removed_by: Option<String>,
}

impl Entry {
    pub fn removed(&self) -> bool {
        self.removed_at.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: i64,
    pub ok: i64,
    pub flagged: i64,
    pub removed: i64,
}

/// One batch with its counts (and its entries when asked for).
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub service_code: String,
    pub service_date: NaiveDate,
    pub units: f64,
    pub unit_value: String,
    pub state: BatchState,
    pub lane: Option<String>,
    pub counts: Counts,
    pub created_at: String,
    pub created_by: Option<String>,
    pub posted_at: Option<String>,
    pub posted_by: Option<String>,
    pub entries: Option<Vec<Entry>>,
}

/// A new batch, checked by the application layer (service in the catalogue, date allowed,
/// units and money valid); the store checks the project against the enrollment data.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub project_id: String,
    pub service_code: String,
    /// The default name's first part: the service's name.
    pub service_name: String,
    pub service_date: NaiveDate,
    pub units: f64,
    pub unit_value: Money,
    pub name: Option<String>,
    pub lane: Option<LaneName>,
    pub created_by: Option<String>,
}

/// What a scan turned into.
#[derive(Debug, Clone)]
pub enum ScanOutcome {
    /// The lane feeds a batch: the new entry, and the batch's served count.
    Entry { entry: Entry, served: i64 },
    /// The lane has no open batch: kept in the scan log as unassigned.
    Unassigned(UnassignedScan),
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A stored text that must parse; else [`StoreError::BadValue`] naming the column.
fn must<T>(column: &'static str, text: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(text).ok_or_else(|| StoreError::BadValue {
        column,
        value: text.to_string(),
    })
}

fn load_batch_row(conn: &Connection, id: &str) -> StoreResult<BatchRow> {
    let row = conn
        .prepare_cached(
            "SELECT id, project_id, service_code, service_date, state FROM batches WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((id, project_id, service_code, date, state)) = row else {
        return Err(StoreError::not_found("batch", id));
    };
    Ok(BatchRow {
        id,
        project_id,
        service_code,
        service_date: must("batches.service_date", &date, parse_date)?,
        state: must("batches.state", &state, BatchState::parse)?,
    })
}

fn terms<'a>(policy: &Policy, b: &'a BatchRow) -> BatchTerms<'a> {
    BatchTerms {
        project_id: &b.project_id,
        service_date: b.service_date,
        bed_night: policy.is_bed_night(&b.service_code),
        scope: policy.duplicate_scope,
    }
}

/// Facts about one client for an entry of batch `b`. `entry_seq`: the entry being recomputed
/// (reload); other batches' entries count against it when they came earlier, or are posted.
/// For a new scan (None) every other batch's entry counts. `bed_night`: the batch's service is a
/// bed night (only then does a bed night the HMIS already has count, so only then is it looked up).
fn client_facts(
    conn: &Connection,
    b: &BatchRow,
    bed_night: bool,
    client_id: Option<&str>,
    entry_seq: Option<i64>,
) -> StoreResult<ClientFacts> {
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
    let hmis_bed_night = bed_night
        && known
        && crate::store::hmis::hmis_bed_night_on(conn, client_id, b.service_date)?;
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
            // Dates were validated at import: one that does not parse now is a damaged file.
            let entry_date = must("enrollments.entry_date", &entry, parse_date)?;
            let exit_date = match exit {
                Some(x) => Some(must("exits.exit_date", &x, parse_date)?),
                None => None,
            };
            enrollments.push(EnrollmentFact {
                enrollment_id,
                project_id,
                entry_date,
                exit_date,
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

/// An entry row as read, before its verdict text is checked.
fn entry_from_row(r: &rusqlite::Row) -> rusqlite::Result<(Entry, String)> {
    let first: Option<String> = r.get(4)?;
    let initial: Option<String> = r.get(5)?;
    let verdict: String = r.get(6)?;
    let client_id: Option<String> = r.get(3)?;
    Ok((
        Entry {
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
            verdict: Verdict::Ok,
            reason: r.get(12)?,
            reason_detail: r.get(13)?,
            enrollment_id: r.get(7)?,
            source: r.get(8)?,
            scanned_at: r.get(9)?,
            removed_at: r.get(10)?,
            removed_by: r.get(11)?,
        },
        verdict,
    ))
}

fn checked_entry((mut e, verdict): (Entry, String)) -> StoreResult<Entry> {
    e.verdict = must("entries.verdict", &verdict, Verdict::parse)?;
    Ok(e)
}

pub fn get_entry(conn: &Connection, entry_id: &str) -> StoreResult<Entry> {
    let row = conn
        .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.id = ?1"))?
        .query_row([entry_id], entry_from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("entry", entry_id))?;
    checked_entry(row)
}

pub fn batch_entries(conn: &Connection, batch_id: &str) -> StoreResult<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ENTRY_SELECT} WHERE e.batch_id = ?1 ORDER BY e.seq"
    ))?;
    let rows = stmt.query_map([batch_id], entry_from_row)?;
    rows.map(|r| checked_entry(r?)).collect()
}

fn served_count(conn: &Connection, batch_id: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM entries WHERE batch_id = ?1 AND removed_at IS NULL AND verdict = 'ok'",
    )?
    .query_row([batch_id], |r| r.get(0))
}

/// Batches with their counts and lane, in one query: `filter` is a WHERE clause on `b` with
/// `?1` as its one parameter.
const BATCH_SELECT: &str =
    "SELECT b.id, b.name, b.project_id, b.service_code, b.service_date, b.units,
            b.unit_value, b.state, b.created_at, b.created_by, b.posted_at, b.posted_by,
            (SELECT min(l.lane) FROM lanes l WHERE l.batch_id = b.id),
            count(e.seq),
            coalesce(sum(e.removed_at IS NULL AND e.verdict = 'ok'), 0),
            coalesce(sum(e.removed_at IS NULL AND e.verdict <> 'ok'), 0),
            coalesce(sum(e.removed_at IS NOT NULL), 0)
       FROM batches b LEFT JOIN entries e ON e.batch_id = b.id";

/// A batch row as read, before its date and state texts are checked.
fn batch_from_row(r: &rusqlite::Row) -> rusqlite::Result<(Batch, String, String)> {
    Ok((
        Batch {
            id: r.get(0)?,
            name: r.get(1)?,
            project_id: r.get(2)?,
            service_code: r.get(3)?,
            service_date: NaiveDate::MIN,
            units: r.get(5)?,
            unit_value: r.get(6)?,
            state: BatchState::Open,
            created_at: r.get(8)?,
            created_by: r.get(9)?,
            posted_at: r.get(10)?,
            posted_by: r.get(11)?,
            lane: r.get(12)?,
            counts: Counts {
                total: r.get(13)?,
                ok: r.get(14)?,
                flagged: r.get(15)?,
                removed: r.get(16)?,
            },
            entries: None,
        },
        r.get(4)?,
        r.get(7)?,
    ))
}

fn checked_batch((mut b, date, state): (Batch, String, String)) -> StoreResult<Batch> {
    b.service_date = must("batches.service_date", &date, parse_date)?;
    b.state = must("batches.state", &state, BatchState::parse)?;
    Ok(b)
}

pub fn get_batch(conn: &Connection, id: &str, with_entries: bool) -> StoreResult<Batch> {
    let row = conn
        .prepare_cached(&format!("{BATCH_SELECT} WHERE b.id = ?1 GROUP BY b.id"))?
        .query_row([id], batch_from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("batch", id))?;
    let mut b = checked_batch(row)?;
    if with_entries {
        b.entries = Some(batch_entries(conn, id)?);
    }
    Ok(b)
}

/// The newest 500 batches (by service date, then creation), optionally of one state.
pub fn list_batches(conn: &Connection, state: Option<BatchState>) -> StoreResult<Vec<Batch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{BATCH_SELECT} WHERE (?1 IS NULL OR b.state = ?1) GROUP BY b.id
         ORDER BY b.service_date DESC, b.created_at DESC LIMIT 500"
    ))?;
    let rows = stmt.query_map([state.map(|s| s.as_str())], batch_from_row)?;
    rows.map(|r| checked_batch(r?)).collect()
}

/// Create a batch (and bind it to its lane if given). The project must be in the enrollment data.
pub fn create_batch(conn: &mut Connection, nb: NewBatch) -> StoreResult<Batch> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(project_name) = crate::store::projects::name(&tx, &nb.project_id)? else {
        return Err(StoreError::not_found("project", &nb.project_id));
    };
    let id = uuid::Uuid::new_v4().to_string();
    let name = nb.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
        format!(
            "{} - {} - {}",
            nb.service_name, project_name, nb.service_date
        )
    });
    tx.execute(
        "INSERT INTO batches (id, name, project_id, service_code, service_date, units, unit_value,
                              state, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9)",
        params![
            id,
            name.trim(),
            nb.project_id,
            nb.service_code,
            nb.service_date.to_string(),
            nb.units,
            nb.unit_value.as_str(),
            now_text(),
            nb.created_by
        ],
    )?;
    if let Some(lane) = &nb.lane {
        bind_lane_tx(&tx, lane, Some(&id))?;
    }
    tx.commit()?;
    get_batch(conn, &id, true)
}

/// Bind or unbind `lane` inside `tx`; binding it also remembers the batch's project and service
/// as the lane's defaults for its next batch.
fn bind_lane_tx(tx: &Transaction, lane: &LaneName, batch_id: Option<&str>) -> StoreResult<()> {
    if let Some(id) = batch_id {
        let b = load_batch_row(tx, id)?;
        rules::ensure_open(b.state)?;
        crate::store::meta::remember_lane_defaults(
            tx,
            lane.as_str(),
            &b.project_id,
            &b.service_code,
        )?;
    }
    tx.execute(
        "INSERT INTO lanes (lane, batch_id) VALUES (?1, ?2)
         ON CONFLICT (lane) DO UPDATE SET batch_id = excluded.batch_id",
        params![lane.as_str(), batch_id],
    )?;
    Ok(())
}

/// Bind `lane` to an open batch, or unbind it (None).
pub fn bind_lane(
    conn: &mut Connection,
    lane: &LaneName,
    batch_id: Option<&str>,
) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    bind_lane_tx(&tx, lane, batch_id)?;
    tx.commit()?;
    Ok(())
}

/// The batch a lane feeds, if any.
pub fn lane_batch(conn: &Connection, lane: &LaneName) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT batch_id FROM lanes WHERE lane = ?1 AND batch_id IS NOT NULL")?
        .query_row([lane.as_str()], |r| r.get(0))
        .optional()?)
}

/// All lanes with a row (bound or not).
pub fn lanes(conn: &Connection) -> StoreResult<Vec<(String, Option<String>)>> {
    let mut stmt = conn.prepare_cached("SELECT lane, batch_id FROM lanes ORDER BY lane")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
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
    policy: &Policy,
    b: &BatchRow,
    input: &EntryInput,
    source: &str,
    scan_seq: Option<i64>,
    scanned_at: &str,
) -> StoreResult<String> {
    rules::ensure_open(b.state)?;
    let (code, client_id) = match input {
        EntryInput::Code(raw) => (raw.clone(), policy.barcode.client_id(raw).ok()),
        EntryInput::ClientId(id) => (id.clone(), Some(id.trim().to_string())),
    };
    let client_id = client_id.filter(|c| !c.is_empty());
    let terms = terms(policy, b);
    let facts = client_facts(tx, b, terms.bed_night, client_id.as_deref(), None)?;
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
    } = rules::verdict(&facts, earlier, &terms);
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
    policy: &Policy,
    lane: &LaneName,
    raw: &str,
    source: &str,
) -> StoreResult<ScanOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let batch_id = lane_batch(&tx, lane)?;
    let (seq, at) = log_scan(&tx, Some(lane.as_str()), source, raw, batch_id.as_deref())?;
    let outcome = match batch_id {
        Some(batch_id) => {
            let b = load_batch_row(&tx, &batch_id)?;
            let entry_id = insert_entry(
                &tx,
                policy,
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
    policy: &Policy,
    batch_id: &str,
    input: EntryInput,
    source: &str,
) -> StoreResult<(Entry, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let raw = match &input {
        EntryInput::Code(c) | EntryInput::ClientId(c) => c.clone(),
    };
    let (seq, at) = log_scan(&tx, None, source, &raw, Some(batch_id))?;
    let id = insert_entry(&tx, policy, &b, &input, source, Some(seq), &at)?;
    let out = (get_entry(&tx, &id)?, served_count(&tx, batch_id)?);
    tx.commit()?;
    Ok(out)
}

/// Move an unassigned scan into a batch, judged as it would have been on arrival.
pub fn assign_scan(
    conn: &mut Connection,
    policy: &Policy,
    batch_id: &str,
    scan_id: i64,
    by: &str,
) -> StoreResult<(Entry, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    rules::ensure_open(b.state)?;
    let scan = unassigned_scan(&tx, scan_id)?;
    let id = insert_entry(
        &tx,
        policy,
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

const UNASSIGNED_SELECT: &str = "SELECT s.seq, s.lane, s.raw, s.source, s.scanned_at
      FROM scan_log s
     WHERE s.batch_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM scan_resolutions r WHERE r.scan_seq = s.seq)";

/// Scans that reached no batch and were neither moved nor dismissed, oldest first.
pub fn unassigned_scans(conn: &Connection) -> StoreResult<Vec<UnassignedScan>> {
    let mut stmt =
        conn.prepare_cached(&format!("{UNASSIGNED_SELECT} ORDER BY s.seq LIMIT 1000"))?;
    let rows = stmt.query_map([], unassigned_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many scans wait unassigned (all of them, not only the first 1,000 listed).
pub fn unassigned_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(&format!("SELECT count(*) FROM ({UNASSIGNED_SELECT})"))?
        .query_row([], |r| r.get(0))?)
}

pub fn dismiss_scan(conn: &mut Connection, scan_id: i64, by: &str) -> StoreResult<()> {
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
fn unassigned_scan(conn: &Connection, scan_id: i64) -> StoreResult<UnassignedScan> {
    conn.prepare_cached(&format!("{UNASSIGNED_SELECT} AND s.seq = ?1"))?
        .query_row([scan_id], unassigned_from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("unassigned scan", scan_id))
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

/// Remove (X): a soft delete with who and when. Removing a removed entry changes nothing.
pub fn remove_entry(
    conn: &mut Connection,
    batch_id: &str,
    entry_id: &str,
    by: &str,
) -> StoreResult<()> {
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
            .prepare_cached("SELECT 1 FROM entries WHERE id = ?1 AND batch_id = ?2")?
            .exists([entry_id, batch_id])?;
        if !exists {
            return Err(StoreError::not_found(
                "entry",
                format!("{entry_id} in batch {batch_id}"),
            ));
        }
    }
    tx.commit()?;
    Ok(())
}

/// Remove every flagged (not ok) entry still in the batch; returns how many.
pub fn remove_flagged(conn: &mut Connection, batch_id: &str, by: &str) -> StoreResult<usize> {
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

fn reload_tx(tx: &Transaction, policy: &Policy, b: &BatchRow) -> StoreResult<()> {
    reload_range(tx, policy, b, (0, i64::MAX), i64::MAX, &mut HashSet::new())?;
    Ok(())
}

/// Recompute the non-removed entries of `b` with `after < seq <= upto`, at most `limit` of them,
/// in scan order; `seen` holds the clients of the batch's entries before them (an entry of a client seen
/// is a duplicate). Returns the last entry's seq, None when there was none.
fn reload_range(
    tx: &Transaction,
    policy: &Policy,
    b: &BatchRow,
    (after, upto): (i64, i64),
    limit: i64,
    seen: &mut HashSet<String>,
) -> StoreResult<Option<i64>> {
    rules::ensure_open(b.state)?;
    let mut stmt = tx.prepare_cached(
        "SELECT seq, client_id FROM entries WHERE batch_id = ?1 AND removed_at IS NULL
            AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
    )?;
    let live: Vec<(i64, Option<String>)> = stmt
        .query_map(params![&b.id, after, upto, limit], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let terms = terms(policy, b);
    let mut update = tx.prepare_cached(
        "UPDATE entries SET verdict = ?1, enrollment_id = ?2, reason = ?3, reason_detail = ?4
         WHERE seq = ?5",
    )?;
    for (seq, client) in &live {
        let facts = client_facts(tx, b, terms.bed_night, client.as_deref(), Some(*seq))?;
        let d = rules::verdict_in_order(&facts, seen, &terms);
        update.execute(params![
            d.verdict.as_str(),
            d.enrollment_id,
            d.duplicate.map(rules::Duplicate::reason),
            d.duplicate.and_then(rules::Duplicate::detail),
            seq
        ])?;
    }
    Ok(live.last().map(|(seq, _)| *seq))
}

/// The open batches, oldest first, and the last entry's seq now: a reload after an import goes
/// up to it (entries after it were judged against the new data when they came).
pub fn open_batch_ids(conn: &Connection) -> StoreResult<(Vec<String>, i64)> {
    let ids = conn
        .prepare_cached("SELECT id FROM batches WHERE state = 'open' ORDER BY created_at")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM entries", [], |r| {
        r.get(0)
    })?;
    Ok((ids, last))
}

/// Reload part of an open batch in one short transaction (after an import, so that scans go on
/// between the parts): the next `limit` entries with `after < seq <= upto`, `seen` as for
/// [`reload_range`] (carried from part to part). Returns where to go on, None when the batch is
/// done or no longer open. An entry removed meanwhile from an earlier part still counts in
/// `seen` until the next reload.
pub fn reload_part(
    conn: &mut Connection,
    policy: &Policy,
    batch_id: &str,
    range: (i64, i64),
    limit: usize,
    seen: &mut HashSet<String>,
) -> StoreResult<Option<i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    if b.state != BatchState::Open {
        return Ok(None);
    }
    let last = reload_range(&tx, policy, &b, range, limit as i64, seen)?;
    tx.commit()?;
    Ok(last)
}

/// Reload: recompute every non-removed entry in scan order against the current data.
pub fn reload_batch(conn: &mut Connection, policy: &Policy, batch_id: &str) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    reload_tx(&tx, policy, &b)?;
    tx.commit()?;
    Ok(())
}

/// Who posts: the supervisor's name and optional HMIS user id.
pub struct Poster<'a> {
    pub name: &'a str,
    pub hmis_user_id: Option<&'a str>,
}

/// How the posted services go upstream: one outbox row per chunk of `chunk` services.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPlan {
    pub kind: DeliveryKind,
    pub chunk: usize,
}

/// What a post did.
#[derive(Debug)]
pub enum Posted {
    /// The batch is frozen: this many services, queued in this many deliveries.
    Done { services: usize, deliveries: usize },
    /// Refused: these non-removed entries are not ok.
    Flagged(Vec<Entry>),
}

/// Post: refused while an entry is flagged, nothing is ok, or the service date (against `today`)
/// is no longer allowed. Else every ok entry becomes a service with a stable UUID, the batch
/// freezes, its lane is unbound, and the services are queued for upstream (`plan` gets the number
/// of services; None: not delivered), all in one transaction.
pub fn post_batch(
    conn: &mut Connection,
    policy: &Policy,
    today: NaiveDate,
    batch_id: &str,
    poster: Poster,
    plan: impl FnOnce(usize) -> Option<DeliveryPlan>,
) -> StoreResult<Posted> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let b = load_batch_row(&tx, batch_id)?;
    let mut live: Vec<(String, Verdict, Option<String>, Option<String>)> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, verdict, client_id, enrollment_id FROM entries
             WHERE batch_id = ?1 AND removed_at IS NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([batch_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        })?;
        for row in rows {
            let (id, verdict, client, enrollment) = row?;
            let verdict = must("entries.verdict", &verdict, Verdict::parse)?;
            live.push((id, verdict, client, enrollment));
        }
    }
    let verdicts: Vec<Verdict> = live.iter().map(|e| e.1).collect();
    match rules::check_post(b.state, &verdicts) {
        Ok(_) => {}
        Err(BatchRefusal::Flagged(_)) => {
            let flagged = live
                .iter()
                .filter(|e| e.1 != Verdict::Ok)
                .map(|e| get_entry(&tx, &e.0))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Posted::Flagged(flagged));
        }
        Err(other) => return Err(other.into()),
    }
    rules::check_service_date(b.service_date, today, policy.max_backdate_days)?;
    let Some(service) = policy.service(&b.service_code) else {
        return Err(BatchRefusal::UnknownService(b.service_code.clone()).into());
    };
    let (units, unit_value): (f64, String) = tx.query_row(
        "SELECT units, unit_value FROM batches WHERE id = ?1",
        [batch_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let now = now_text();
    let mut service_ids = Vec::with_capacity(live.len());
    {
        let mut insert = tx.prepare_cached(
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
    let deliveries = match plan(service_ids.len()) {
        Some(p) => crate::store::outbox::queue(
            &tx,
            batch_id,
            p.kind,
            service_ids.chunks(p.chunk.max(1)),
            &now,
        )?,
        None => 0,
    };
    tx.execute(
        "UPDATE batches SET state = 'posted', posted_at = ?1, posted_by = ?2 WHERE id = ?3",
        params![now, poster.name, batch_id],
    )?;
    tx.execute(
        "UPDATE lanes SET batch_id = NULL WHERE batch_id = ?1",
        [batch_id],
    )?;
    tx.commit()?;
    Ok(Posted::Done {
        services: service_ids.len(),
        deliveries,
    })
}
