//! Client lookups for the supervisor: lost card search and the roster of a batch.
//! Answers carry the client ID and the display name (first name, last initial) only.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::policy::Policy;
use crate::domain::rules;
use crate::store::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHit {
    pub client_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub client_id: String,
    pub display_name: String,
    pub enrollment_id: String,
    pub in_batch: bool,
}

/// The display name of a row whose columns 0, 1, 2 are personal_id, first_name, last_initial.
fn label(r: &rusqlite::Row) -> rusqlite::Result<String> {
    Ok(rules::display_name_or_label(
        &r.get::<_, String>(1)?,
        &r.get::<_, String>(2)?,
        &r.get::<_, String>(0)?,
    ))
}

fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Search by PersonalID, or by first-name and last-name prefixes ("mar gon"), optionally with a
/// date of birth (the caller makes sure one of them is given). The last name is only kept as its
/// first three letters, so a longer last-name prefix is matched on its first three. An exact
/// client ID comes first, then name matches by first name.
///
/// Each case is its own query so that each reads only its index: the name prefixes a range of
/// `clients_first` (which covers every column read), a DOB alone `clients_dob`. The time does
/// not grow with the station's clients, only with how many share the prefix.
pub fn search(conn: &Connection, q: &str, dob: Option<NaiveDate>) -> StoreResult<Vec<ClientHit>> {
    const LIMIT: usize = 50;
    let q = q.trim();
    let dob = dob.map(|d| d.to_string());
    let row = |r: &rusqlite::Row| {
        Ok(ClientHit {
            client_id: r.get(0)?,
            display_name: label(r)?,
        })
    };
    let mut hits: Vec<ClientHit> = Vec::new();
    if !q.is_empty() {
        hits.extend(
            conn.prepare_cached(
                "SELECT personal_id, first_name, last_initial FROM clients
                  WHERE personal_id = ?1 AND (?2 IS NULL OR dob = ?2)",
            )?
            .query_row(params![q, dob], row)
            .optional()?,
        );
    }
    let words: Vec<&str> = q.split_whitespace().collect();
    let rest = LIMIT - hits.len();
    let more: Vec<ClientHit> = match (words.first(), &dob) {
        (Some(first), _) => {
            let last = words
                .get(1)
                .map(|w| like_prefix(&w.to_lowercase().chars().take(3).collect::<String>()))
                .unwrap_or_else(|| "%".into());
            let sql = if dob.is_some() {
                "SELECT personal_id, first_name, last_initial FROM clients
                  WHERE first_name LIKE ?1 ESCAPE '\\' AND last_name_key LIKE ?2 ESCAPE '\\'
                    AND dob = ?4 AND personal_id <> ?3
                  ORDER BY first_name COLLATE NOCASE, personal_id LIMIT ?5"
            } else {
                "SELECT personal_id, first_name, last_initial FROM clients
                  WHERE first_name LIKE ?1 ESCAPE '\\' AND last_name_key LIKE ?2 ESCAPE '\\'
                    AND ?4 IS NULL AND personal_id <> ?3
                  ORDER BY first_name COLLATE NOCASE, personal_id LIMIT ?5"
            };
            let mut st = conn.prepare_cached(sql)?;
            let rows = st.query_map(params![like_prefix(first), last, q, dob, rest as i64], row)?;
            rows.collect::<Result<_, _>>()?
        }
        (None, Some(dob)) => {
            let mut st = conn.prepare_cached(
                "SELECT personal_id, first_name, last_initial FROM clients
                  WHERE dob = ?1 ORDER BY first_name COLLATE NOCASE, personal_id LIMIT ?2",
            )?;
            let rows = st.query_map(params![dob, rest as i64], row)?;
            rows.collect::<Result<_, _>>()?
        }
        (None, None) => Vec::new(),
    };
    hits.extend(more);
    Ok(hits)
}

/// Clients with an open enrollment in the batch's project on its date ("quick services").
pub fn roster(conn: &Connection, policy: &Policy, batch_id: &str) -> StoreResult<Vec<RosterRow>> {
    let (project, code, date): (String, String, String) = conn
        .query_row(
            "SELECT project_id, service_code, service_date FROM batches WHERE id = ?1",
            [batch_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found("batch", batch_id))?;
    let bed_night = policy.is_bed_night(&code);
    // Same rule as the verdict: open when entry <= date and (no exit, or date <= exit; bed
    // nights date < exit). Latest entry date wins, ties by greatest EnrollmentID.
    let mut stmt = conn.prepare(
        "WITH open AS (
             SELECT e.personal_id, e.enrollment_id, e.entry_date
               FROM enrollments e
              WHERE e.project_id = ?1 AND e.entry_date <= ?2
                AND NOT EXISTS (
                    SELECT 1 FROM exits x WHERE x.enrollment_id = e.enrollment_id
                       AND (x.exit_date < ?2 OR (?3 AND x.exit_date = ?2))
                       AND x.exit_date = (SELECT max(y.exit_date) FROM exits y
                                           WHERE y.enrollment_id = e.enrollment_id))
         ), best AS (
             SELECT personal_id, enrollment_id,
                    row_number() OVER (PARTITION BY personal_id
                                       ORDER BY entry_date DESC, enrollment_id DESC) AS n
               FROM open
         )
         SELECT c.personal_id, c.first_name, c.last_initial, best.enrollment_id,
                EXISTS (SELECT 1 FROM entries en WHERE en.batch_id = ?4
                         AND en.client_id = c.personal_id AND en.removed_at IS NULL)
           FROM best JOIN clients c ON c.personal_id = best.personal_id
          WHERE best.n = 1
          ORDER BY c.first_name COLLATE NOCASE, c.personal_id
          LIMIT 2000",
    )?;
    let rows = stmt.query_map(params![project, date, bed_night, batch_id], |r| {
        Ok(RosterRow {
            client_id: r.get(0)?,
            display_name: label(r)?,
            enrollment_id: r.get(3)?,
            in_batch: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Clients already served on the batch's service and date: an ok, non-removed entry for the same
/// service code and date in any batch (this one too), open or posted. A supervisor adding one of
/// them would create a `duplicate`, so the screens mark them first.
pub fn served_on_batch_day(conn: &Connection, batch_id: &str) -> StoreResult<HashSet<String>> {
    let (code, date): (String, String) = conn
        .query_row(
            "SELECT service_code, service_date FROM batches WHERE id = ?1",
            [batch_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found("batch", batch_id))?;
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT e.client_id FROM entries e JOIN batches b ON b.id = e.batch_id
          WHERE b.service_code = ?1 AND b.service_date = ?2
            AND e.verdict = 'ok' AND e.removed_at IS NULL AND e.client_id IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![code, date], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The display names of these client IDs (those the station knows).
pub fn display_names<'a>(
    conn: &Connection,
    ids: impl IntoIterator<Item = &'a str>,
) -> StoreResult<HashMap<String, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT personal_id, first_name, last_initial FROM clients WHERE personal_id = ?1",
    )?;
    let mut out = HashMap::new();
    for id in ids {
        if let Some(name) = stmt.query_row([id], label).optional()? {
            out.insert(id.to_string(), name);
        }
    }
    Ok(out)
}
