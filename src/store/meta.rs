//! The `meta` table: small facts about the station's data kept beside it (when the enrollment data
//! was imported and from where, the scheduled pull's ETag and last outcome, an upstream setup
//! problem). One key, one text value.

use rusqlite::{Connection, OptionalExtension};

use super::StoreResult;

/// Why the upstream worker cannot deliver as configured (bad URL, unreadable CA), for `/status`.
pub const UPSTREAM_SETUP_ERROR: &str = "upstream.setup_error";
/// The scheduled enrollment pull's conditional-request validators and last outcome.
pub const PULL_ETAG: &str = "pull.etag";
pub const PULL_LAST_MODIFIED: &str = "pull.last_modified";
pub const PULL_CHECKED_AT: &str = "pull.last_checked_at";
pub const PULL_IMPORTED_AT: &str = "pull.last_imported_at";
pub const PULL_ERROR: &str = "pull.last_error";
pub const PULL_ERROR_AT: &str = "pull.last_error_at";
/// Written by every import: when, and where the data came from.
pub const DATA_IMPORTED_AT: &str = "imported_at";
pub const DATA_SOURCE: &str = "source";

pub fn get(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Set `key` to `value`, or delete it (None).
pub fn set(conn: &Connection, key: &str, value: Option<&str>) -> StoreResult<()> {
    match value {
        Some(v) => conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, v])?,
        None => conn
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?,
    };
    Ok(())
}

/// Set several keys in one transaction (one disk flush).
pub fn set_all(conn: &mut Connection, pairs: &[(&str, Option<&str>)]) -> StoreResult<()> {
    let tx = conn.transaction()?;
    for (k, v) in pairs {
        set(&tx, k, *v)?;
    }
    tx.commit()?;
    Ok(())
}

/// The `meta` keys holding a lane's remembered project and service (the new-batch defaults).
fn lane_default_keys(lane: &str) -> (String, String) {
    (
        format!("lane.{lane}.project_id"),
        format!("lane.{lane}.service_code"),
    )
}

/// Remember the project and service last used on `lane` (kept on the station, so every tablet
/// offers the same defaults), inside the caller's transaction (the lane's binding).
pub(crate) fn remember_lane_defaults(
    conn: &Connection,
    lane: &str,
    project_id: &str,
    service_code: &str,
) -> StoreResult<()> {
    let (p, s) = lane_default_keys(lane);
    set(conn, &p, Some(project_id))?;
    set(conn, &s, Some(service_code))
}

/// The project and service last used on `lane`, if any.
pub fn lane_defaults(conn: &Connection, lane: &str) -> StoreResult<Option<(String, String)>> {
    let (p, s) = lane_default_keys(lane);
    Ok(match (get(conn, &p)?, get(conn, &s)?) {
        (Some(p), Some(s)) => Some((p, s)),
        _ => None,
    })
}
