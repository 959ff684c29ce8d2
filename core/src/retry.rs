//! Whether a failed attempt may be tried again, and how long to wait before it: the rules shared
//! by every retry loop of the crate (the item writer's and the legacy clean-up's).

use std::time::Duration;

/// Whether retrying the same request may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Throttling, 5xx, timeouts, connection resets.
    Transient,
    /// Everything else (validation errors, missing table, access denied).
    Permanent,
}

/// Capped exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The cap before the first retry; doubled each retry.
    pub base_delay: Duration,
    /// The cap never grows past this.
    pub max_delay: Duration,
}

impl Backoff {
    /// The upper bound of the delay before retry number `retry` (0 for the first retry):
    /// `min(max_delay, base_delay * 2^retry)`.
    pub fn cap(&self, retry: u32) -> Duration {
        2u32.checked_pow(retry)
            .and_then(|factor| self.base_delay.checked_mul(factor))
            .map_or(self.max_delay, |delay| delay.min(self.max_delay))
    }

    /// Full jitter: a uniformly random delay between zero and the cap, so that callers throttled
    /// together do not come back together.
    pub fn delay(&self, retry: u32) -> Duration {
        self.cap(retry).mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(1),
    };

    #[test]
    fn the_cap_doubles_from_the_base_and_stops_at_the_max() {
        let caps: Vec<u64> = (0..8)
            .map(|retry| BACKOFF.cap(retry).as_millis() as u64)
            .collect();
        assert_eq!(caps, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(BACKOFF.cap(40), Duration::from_secs(1));
        assert_eq!(BACKOFF.cap(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn the_delay_never_exceeds_the_cap() {
        for retry in 0..12 {
            for _ in 0..100 {
                assert!(BACKOFF.delay(retry) <= BACKOFF.cap(retry), "retry {retry}");
            }
        }
    }

    #[test]
    fn the_delay_is_jittered_over_the_whole_range() {
        let delays: Vec<Duration> = (0..200).map(|_| BACKOFF.delay(3)).collect();
        // Out of 200 uniform draws, none falls in the lower or upper quarter with chance 2 * 0.75^200.
        let cap = BACKOFF.cap(3);
        assert!(delays.iter().any(|delay| *delay < cap / 4), "{delays:?}");
        assert!(
            delays.iter().any(|delay| *delay > cap * 3 / 4),
            "{delays:?}"
        );
    }
}
