//! The catalogue and the clients, under `/api/v1` (supervisor only): `GET /projects`,
//! `GET /services`, `GET /clients?q=...&dob=...&batch=...` (lost-card search).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Supervisor;
use super::{json, ApiError, ApiQuery, ApiResult, WebState};
use crate::app::App;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/projects", get(projects))
        .route("/services", get(services))
        .route("/clients", get(search_clients))
}

async fn projects(State(app): State<App>, _s: Supervisor) -> ApiResult<Json<Value>> {
    let list = app.projects().await?;
    Ok(Json(Value::Array(list.iter().map(json::project).collect())))
}

async fn services(State(app): State<App>, _s: Supervisor) -> Json<Value> {
    Json(Value::Array(
        app.settings
            .policy
            .services
            .iter()
            .map(json::service)
            .collect(),
    ))
}

#[derive(Deserialize)]
struct ClientQuery {
    q: Option<String>,
    dob: Option<String>,
    /// With a batch: each hit says whether it was served on that batch's service and date.
    batch: Option<String>,
}

async fn search_clients(
    State(app): State<App>,
    _s: Supervisor,
    ApiQuery(q): ApiQuery<ClientQuery>,
) -> ApiResult<Json<Value>> {
    let dob = match q.dob.as_deref() {
        None | Some("") => None,
        Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request("bad_date", format!("dob {d:?} is not a date yyyy-mm-dd"))
        })?),
    };
    let hits = app
        .search_clients(q.q.as_deref().unwrap_or(""), dob)
        .await?;
    let list = match q.batch.as_deref() {
        None | Some("") => hits.iter().map(json::client).collect(),
        Some(batch) => {
            let served = app.served_today(batch).await?;
            hits.iter()
                .map(|c| json::client_served(c, &served))
                .collect()
        }
    };
    Ok(Json(Value::Array(list)))
}
