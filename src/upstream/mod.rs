//! Delivery of posted services to the HMIS, and exports. (Stub: built by the upstream work.)

use axum::Router;
use rusqlite::Connection;
use tokio::sync::watch;

use crate::app::App;

/// The outbox worker (and the scheduled enrollment pull), until `shutdown` turns true.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let _ = app;
    let _ = shutdown.wait_for(|s| *s).await;
}

/// Extra supervisor routes under /api/v1 (retry parked deliveries, ...).
pub fn routes() -> Router<App> {
    Router::new()
}

/// Outbox totals for `GET /status`.
pub fn status(conn: &Connection) -> rusqlite::Result<serde_json::Value> {
    let mut stmt = conn.prepare("SELECT state, count(*) FROM outbox GROUP BY state")?;
    let mut out = serde_json::json!({"queued": 0, "delivered": 0, "failed": 0});
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        out[state] = n.into();
    }
    Ok(out)
}

/// Delivery state of one posted batch for the batch JSON (None: nothing queued).
pub fn batch_delivery(
    conn: &Connection,
    batch_id: &str,
) -> rusqlite::Result<Option<serde_json::Value>> {
    let _ = (conn, batch_id);
    Ok(None)
}
