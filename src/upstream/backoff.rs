//! Retry timing: exponential backoff with jitter, and the `Retry-After` header.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How long to wait between attempts of one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failed attempts (1 = first failure): `base * 2^(failures-1)`,
    /// capped, then scaled by `jitter` in [0, 1) to between half and all of it ("equal jitter"),
    /// so stations that lost the link together do not retry in lock-step.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp.min(31));
        let capped = raw.min(self.cap);
        let j = jitter.clamp(0.0, 1.0);
        capped.mul_f64(0.5 + 0.5 * j)
    }

    /// [`Backoff::delay`] with a random jitter.
    pub fn delay_random(&self, failures: u32) -> Duration {
        self.delay(failures, rand::random::<f64>())
    }
}

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
    fn grows_exponentially_with_cap_and_jitter() {
        let b = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(2, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(4, 1.0), Duration::from_secs(8));
        assert_eq!(b.delay(40, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(4, 0.0), Duration::from_secs(4));
        let r = b.delay_random(3);
        assert!(
            r >= Duration::from_secs(2) && r <= Duration::from_secs(4),
            "{r:?}"
        );
    }

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
