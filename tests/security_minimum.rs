//! Minimum necessary client data (issue 13): with a project filter, a client with no enrollment
//! in the station's projects keeps only the client ID and display name, so their scan still says
//! `no_open_enrollment`; DOB and the last-name search key stay only for enrolled clients.

mod common;

use reqwest::StatusCode;
use serde_json::json;

use common::lib::{import_projects, with_conn};
use common::{fixture, Station};

/// (dob, last_name_key) of a client, as stored.
fn stored(st: &Station, id: &str) -> (Option<String>, String) {
    with_conn(&st.app, |conn| {
        conn.query_row(
            "SELECT dob, last_name_key FROM clients WHERE personal_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    })
}

#[tokio::test]
async fn clients_enrolled_elsewhere_keep_only_id_and_display_name() {
    let st = Station::start_with("", None).await;
    import_projects(&st.app, &fixture("station"), &["P1"]);
    // C1 is enrolled in P1; C2 only in P2.
    assert_eq!(stored(&st, "C1"), (Some("1980-03-04".into()), "gon".into()));
    assert_eq!(stored(&st, "C2"), (None, String::new()));

    let api = st.supervisor().await;
    let batch = api
        .new_batch(json!({"project_id": "P1", "service_code": "484"}))
        .await;
    let (s, entry) = api
        .post(
            &format!("/batches/{batch}/entries"),
            json!({"client_id": "C2"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["verdict"], "no_open_enrollment", "{entry}");
    assert_eq!(entry["display_name"], "John S.", "{entry}");
    // Lost-card search by last name finds only clients the station serves.
    let (_, hits) = api.get("/clients?q=john%20smi").await;
    assert_eq!(hits, json!([]), "{hits}");
    let (_, hits) = api.get("/clients?q=mar%20gon").await;
    assert_eq!(hits[0]["client_id"], "C1", "{hits}");

    // Without a filter every client keeps its DOB (a station for the whole continuum).
    import_projects(&st.app, &fixture("station"), &[]);
    assert_eq!(stored(&st, "C2"), (Some("1975-07-08".into()), "smi".into()));
    st.stop().await;
}
