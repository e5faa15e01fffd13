//! Retry timing shared by everything that waits before trying again: the upstream worker between
//! attempts of one delivery, and the scanner tasks between attempts to open a device.
//!
//! [`Backoff`] is the policy (first wait, longest wait); the wait doubles after each failure.
//! Upstream asks for [`Backoff::delay_random`]: stations that lost the same link together must
//! not retry in lock-step, so each wait is jittered. A scanner walks a [`Retries`] sequence without
//! jitter: a local device has no crowd to spread out, and a steady 100 ms, 200 ms, ... 1 s is
//! easier to read in the log.

use std::time::Duration;

/// How long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for Backoff {
    /// The upstream worker's timing: 2 s, doubling up to 10 minutes.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    pub const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap }
    }

    /// The wait after `failures` failed attempts (1 = first failure): `base * 2^(failures-1)`,
    /// capped, then scaled by `jitter` in [0, 1] to between half and all of it ("equal jitter").
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp);
        let capped = raw.min(self.cap);
        let j = jitter.clamp(0.0, 1.0);
        capped.mul_f64(0.5 + 0.5 * j)
    }

    /// [`Backoff::delay`] with a random jitter.
    pub fn delay_random(&self, failures: u32) -> Duration {
        self.delay(failures, rand::random::<f64>())
    }

    /// A sequence of waits without jitter, starting at `base`.
    pub fn retries(self) -> Retries {
        Retries {
            policy: self,
            failures: 0,
        }
    }
}

/// Consecutive failures counted against a [`Backoff`]: each [`Retries::next_delay`] is twice the
/// last, up to the cap; [`Retries::reset`] after a success starts again from the first wait.
#[derive(Debug, Clone)]
pub struct Retries {
    policy: Backoff,
    failures: u32,
}

impl Retries {
    /// The wait before the next attempt (counts one more failure).
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.policy.delay(self.failures, 1.0)
    }

    /// The last attempt worked: the next failure waits the first wait again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_cap_and_jitter() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
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
    fn retries_double_up_to_the_cap_and_start_over_after_reset() {
        let mut r = Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).retries();
        let ms: Vec<u128> = (0..6).map(|_| r.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        r.reset();
        assert_eq!(r.next_delay(), Duration::from_millis(100));
    }
}
