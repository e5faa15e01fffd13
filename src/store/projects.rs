//! Projects from the enrollment data, for the new-batch screen.

use rusqlite::Connection;

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub project_id: String,
    pub name: String,
    pub organization_id: Option<String>,
    pub project_type: Option<i64>,
}

/// Every project, by name (case-insensitive).
pub fn list(conn: &Connection) -> StoreResult<Vec<Project>> {
    let mut stmt = conn.prepare_cached(
        "SELECT project_id, name, organization_id, project_type FROM projects
         ORDER BY name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Project {
            project_id: r.get(0)?,
            name: r.get(1)?,
            organization_id: r.get(2)?,
            project_type: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The name of one project, if the enrollment data has it.
pub fn name(conn: &Connection, project_id: &str) -> StoreResult<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT name FROM projects WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))
        .optional()?)
}
