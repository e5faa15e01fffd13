//! The upstream's answers: `Retry-After` (`upstream::retry_after::parse_retry_after`) and the
//! status/headers/body classification of a delivery attempt (`upstream::http::classify`).
//! Properties: a Retry-After is never honoured beyond `RETRY_AFTER_MAX`; 2xx and 409 are
//! delivered, 408/429/5xx retried, every other status parked with a one-line reason.
#![no_main]

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use scanstation::upstream::http::{classify, Outcome};
use scanstation::upstream::retry_after::{parse_retry_after, RETRY_AFTER_MAX};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    status: u16,
    retry_after: &'a [u8],
    location: &'a [u8],
    body: &'a str,
    now_secs: i32,
}

fuzz_target!(|input: Input<'_>| {
    let now = Utc
        .timestamp_opt(i64::from(input.now_secs).abs(), 0)
        .single()
        .unwrap_or_else(Utc::now);
    if let Ok(text) = std::str::from_utf8(input.retry_after) {
        if let Some(d) = parse_retry_after(text, now) {
            assert!(d <= RETRY_AFTER_MAX, "Retry-After {d:?} over the cap");
        }
    }
    let Ok(status) = StatusCode::from_u16(input.status) else {
        return;
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(input.retry_after) {
        headers.insert(axum::http::header::RETRY_AFTER, v);
    }
    if let Ok(v) = HeaderValue::from_bytes(input.location) {
        headers.insert(axum::http::header::LOCATION, v);
    }
    let code = status.as_u16();
    match classify(status, &headers, input.body) {
        Outcome::Delivered => assert!(status.is_success() || code == 409),
        Outcome::Retry { reason, after, .. } => {
            assert!(code == 408 || code == 429 || status.is_server_error());
            assert!(!reason.contains('\n'), "reason spans lines");
            assert!(after.is_none_or(|a| a <= RETRY_AFTER_MAX));
        }
        Outcome::Park { reason, .. } => {
            assert!(!(status.is_success() || code == 409 || code == 408 || code == 429));
            assert!(!status.is_server_error());
            assert!(
                !reason.contains('\n') && !reason.contains('\r'),
                "reason spans lines"
            );
        }
    }
});
