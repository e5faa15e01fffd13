//! The `Retry-After` header: how long the server asks us to wait (the backoff itself is
//! [`crate::backoff`]).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest `Retry-After` honoured (a confused server must not stall deliveries for days).
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(6 * 3600);

/// Parse a `Retry-After` value: delay-seconds or an HTTP date. None when unreadable.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(RETRY_AFTER_MAX));
    }
    let when = DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|d| d.with_timezone(&Utc))?;
    let d = (when - now).to_std().unwrap_or(Duration::ZERO);
    Some(d.min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("99999999", now), Some(RETRY_AFTER_MAX));
    }
}
