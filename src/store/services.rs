//! Posted services, read for exports (`scanstation export`).

use chrono::NaiveDate;
use rusqlite::{params, Connection};

use crate::store::outbox::{row_to_service, PostedService, SERVICE_COLS};

/// Posted services with `from <= date_provided <= to` (each bound optional), by date then
/// posting order.
pub fn services_between(
    conn: &Connection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> rusqlite::Result<Vec<PostedService>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SERVICE_COLS} FROM services WHERE (?1 IS NULL OR date_provided >= ?1) \
         AND (?2 IS NULL OR date_provided <= ?2) ORDER BY date_provided, posted_at, rowid"
    ))?;
    let f = from.map(|d| d.format("%Y-%m-%d").to_string());
    let t = to.map(|d| d.format("%Y-%m-%d").to_string());
    let rows = stmt.query_map(params![f, t], row_to_service)?;
    rows.collect()
}
