//! Double-read guard: the same code from the same scanner within the window counts once.
//!
//! The window runs from the last read of that code, counted or not, so a scanner in continuous
//! mode re-reading a card held under it keeps counting it once.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct DoubleReadGuard {
    window: Duration,
    last: Option<(String, Instant)>,
}

impl DoubleReadGuard {
    pub fn new(window: Duration) -> DoubleReadGuard {
        DoubleReadGuard { window, last: None }
    }

    /// True when this read counts; false when it repeats the previous code within the window.
    pub fn admit(&mut self, code: &str, at: Instant) -> bool {
        let repeat = match &self.last {
            Some((last, t)) => last == code && at.saturating_duration_since(*t) <= self.window,
            None => false,
        };
        match &mut self.last {
            Some((last, t)) if last == code => *t = at,
            _ => self.last = Some((code.to_string(), at)),
        }
        !repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_within_window_counts_once() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut g = DoubleReadGuard::new(ms(1500));
        assert!(g.admit("A1", t0));
        assert!(!g.admit("A1", t0 + ms(300)));
        // The window slides with each read of the same code.
        assert!(!g.admit("A1", t0 + ms(1700)));
        assert!(g.admit("A1", t0 + ms(3300)));
        // Another code counts, and then the first one counts again.
        assert!(g.admit("B2", t0 + ms(3400)));
        assert!(g.admit("A1", t0 + ms(3500)));
        // A zero window guards nothing.
        let mut z = DoubleReadGuard::new(Duration::ZERO);
        assert!(z.admit("A1", t0));
        assert!(z.admit("A1", t0 + ms(1)));
    }
}
