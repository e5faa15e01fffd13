//! Delivery of one outbox row to the `http-json` upstream: `POST {url}/services`.

use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Serialize;

use super::retry_after::parse_retry_after;
use super::tls::error_chain;
use crate::store::outbox::{Delivery, PostedService};

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The HMIS has it (2xx, or 409: it had it already).
    Delivered,
    /// Try again later; `after` is the server's Retry-After if it gave one.
    Retry {
        reason: String,
        log: String,
        after: Option<Duration>,
    },
    /// The HMIS refused it; a person must look (other 4xx, unexpected answers).
    Park { reason: String, log: String },
}

/// The request body of the `http-json` upstream (the brief's contract).
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    pub station_id: &'a str,
    pub batch_id: &'a str,
    pub services: Vec<ServiceJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ServiceJson<'a> {
    pub id: &'a str,
    pub personal_id: &'a str,
    pub enrollment_id: &'a str,
    pub project_id: &'a str,
    pub service_code: &'a str,
    pub date_provided: &'a str,
    pub unit: &'a str,
    pub units: f64,
    pub unit_value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hud_record_type: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hud_type_provided: Option<u32>,
    pub posted_by: &'a str,
}

impl<'a> From<&'a PostedService> for ServiceJson<'a> {
    fn from(s: &'a PostedService) -> Self {
        ServiceJson {
            id: &s.id,
            personal_id: &s.personal_id,
            enrollment_id: &s.enrollment_id,
            project_id: &s.project_id,
            service_code: &s.service_code,
            date_provided: &s.date_provided,
            unit: &s.unit,
            units: s.units,
            unit_value: &s.unit_value,
            hud_record_type: s.hud_record_type,
            hud_type_provided: s.hud_type_provided,
            posted_by: &s.posted_by,
        }
    }
}

/// The JSON body for one delivery.
pub fn body_json(station_id: &str, delivery: &Delivery, services: &[PostedService]) -> Vec<u8> {
    let body = Body {
        station_id,
        batch_id: &delivery.batch_id,
        services: services.iter().map(ServiceJson::from).collect(),
    };
    serde_json::to_vec(&body).expect("plain data serialises")
}

/// `{url}/services`.
pub fn services_url(base: &str) -> String {
    format!("{}/services", base.trim_end_matches('/'))
}

/// Send one delivery and classify the answer.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    idempotency_key: &str,
    body: Vec<u8>,
) -> Outcome {
    let result = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", idempotency_key)
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    match result {
        Err(e) => {
            let msg = error_chain(&e);
            Outcome::Retry {
                reason: msg.clone(),
                log: msg,
                after: None,
            }
        }
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            // Read the answer (keeps the connection reusable; the excerpt explains a refusal).
            let text = match resp.bytes().await {
                Ok(b) => String::from_utf8_lossy(&b[..b.len().min(2000)]).into_owned(),
                Err(_) => String::new(),
            };
            classify(status, &headers, &text)
        }
    }
}

/// Map an HTTP answer to an outcome (the brief's rules).
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Outcome {
    let code = status.as_u16();
    let label = format!(
        "HTTP {code}{}",
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    );
    let excerpt = excerpt(body);
    let reason = if excerpt.is_empty() {
        label.clone()
    } else {
        format!("{label}: {excerpt}")
    };
    if status.is_success() || code == 409 {
        return Outcome::Delivered;
    }
    if code == 408 || code == 429 || status.is_server_error() {
        let after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        return Outcome::Retry {
            reason,
            log: label,
            after,
        };
    }
    if status.is_redirection() {
        let to = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        return Outcome::Park {
            reason: format!("{label}: the upstream URL redirects to {to}; fix upstream.url"),
            log: label,
        };
    }
    Outcome::Park { reason, log: label }
}

/// One line of at most 300 characters of the server's answer.
fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let t = one_line.trim();
    if t.chars().count() > 300 {
        let cut: String = t.chars().take(300).collect();
        format!("{cut}...")
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn answers_map_to_the_brief_rules() {
        let none = HeaderMap::new();
        assert_eq!(classify(StatusCode::OK, &none, ""), Outcome::Delivered);
        assert_eq!(
            classify(StatusCode::ACCEPTED, &none, ""),
            Outcome::Delivered
        );
        assert_eq!(
            classify(StatusCode::CONFLICT, &none, "dup"),
            Outcome::Delivered
        );
        for code in [408u16, 429, 500, 502, 503, 504] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(s, &none, ""), Outcome::Retry { .. }),
                "{code}"
            );
        }
        match classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h(&[("retry-after", "3")]),
            "",
        ) {
            Outcome::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(3))),
            o => panic!("{o:?}"),
        }
        for code in [400u16, 401, 403, 404, 422] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(s, &none, ""), Outcome::Park { .. }),
                "{code}"
            );
        }
        match classify(StatusCode::BAD_REQUEST, &none, "bad\nenrollment") {
            Outcome::Park { reason, log } => {
                assert_eq!(reason, "HTTP 400 Bad Request: bad enrollment");
                assert_eq!(log, "HTTP 400 Bad Request");
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(
            classify(StatusCode::FOUND, &h(&[("location", "http://x/")]), ""),
            Outcome::Park { .. }
        ));
    }
}
