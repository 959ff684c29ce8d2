//! Whether a failed attempt may be tried again, and how long to wait before it: the rules shared
//! by every retry loop of the crate (the item writer's batches, an object's reads, the legacy
//! clean-up's deletions).

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

/// How often a request is tried and how long to wait between tries: one budget for every request
/// of an object, its `GetObject`s and body reads as well as its `BatchWriteItem`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// `max_attempts` were made.
    AttemptsSpent,
    /// The next attempt would start after the latest start allowed (the invocation's deadline
    /// less its margin).
    NoTimeLeft,
}

impl GiveUp {
    /// What a failure message says of it after the attempt count: nothing when the attempts are
    /// spent, that the deadline was near otherwise.
    pub fn note(self) -> &'static str {
        match self {
            GiveUp::AttemptsSpent => "",
            GiveUp::NoTimeLeft => " (no time left for another before the invocation's deadline)",
        }
    }
}

impl RetryPolicy {
    /// Ten attempts, 50 ms doubling to at most 5 s between them (with full jitter): at most about
    /// 19 s of backoff in all, and at a 20 % fault rate a request fails all ten times once in
    /// 10 million.
    pub const STANDARD: RetryPolicy = RetryPolicy {
        max_attempts: 10,
        backoff: Backoff {
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        },
    };

    /// After `attempts` attempts (at least one) have failed: how long to wait before the next, or
    /// why there is none. `time_left` is how long until the latest start allowed (the caller reads
    /// its clock, so the core needs none): no wait is chosen that would end at or after it.
    pub fn next_delay(
        &self,
        attempts: u32,
        time_left: Option<Duration>,
    ) -> Result<Duration, GiveUp> {
        if attempts >= self.max_attempts.max(1) {
            return Err(GiveUp::AttemptsSpent);
        }
        let delay = self.backoff.delay(attempts.saturating_sub(1));
        match time_left {
            Some(time_left) if delay >= time_left => Err(GiveUp::NoTimeLeft),
            _ => Ok(delay),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::STANDARD
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
    fn a_failure_message_names_the_deadline_only_when_it_stopped_the_attempts() {
        assert_eq!(GiveUp::AttemptsSpent.note(), "");
        let note = GiveUp::NoTimeLeft.note();
        assert!(note.starts_with(" (") && note.ends_with(')'), "{note:?}");
        assert!(note.contains("deadline"), "{note:?}");
    }

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

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        backoff: BACKOFF,
    };

    #[test]
    fn a_request_is_tried_at_most_max_attempts_times() {
        for attempts in 1..4 {
            assert!(POLICY.next_delay(attempts, None).is_ok(), "{attempts}");
        }
        assert_eq!(POLICY.next_delay(4, None), Err(GiveUp::AttemptsSpent));
        assert_eq!(POLICY.next_delay(40, None), Err(GiveUp::AttemptsSpent));
    }

    #[test]
    fn the_wait_after_the_nth_attempt_is_within_the_nth_cap() {
        for attempts in 1..4 {
            for _ in 0..50 {
                let delay = POLICY.next_delay(attempts, None).unwrap();
                assert!(delay <= BACKOFF.cap(attempts - 1), "{attempts}: {delay:?}");
            }
        }
    }

    #[test]
    fn the_standard_budget_is_ten_attempts_from_50_ms_to_5_s() {
        assert_eq!(RetryPolicy::STANDARD.max_attempts, 10);
        assert_eq!(
            RetryPolicy::STANDARD.backoff.cap(0),
            Duration::from_millis(50)
        );
        assert_eq!(
            RetryPolicy::STANDARD.backoff.cap(20),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn no_attempt_starts_at_or_after_the_latest_start() {
        // Waits of up to 50 ms: a latest start 1 s ahead leaves room, one now does not.
        assert!(POLICY.next_delay(1, Some(Duration::from_secs(1))).is_ok());
        assert_eq!(
            POLICY.next_delay(1, Some(Duration::ZERO)),
            Err(GiveUp::NoTimeLeft)
        );
        // A wait that could end past it: the cap after three attempts is 200 ms.
        let time_left = Duration::from_millis(100);
        let outcomes: Vec<_> = (0..200)
            .map(|_| POLICY.next_delay(3, Some(time_left)))
            .collect();
        assert!(outcomes.iter().all(|outcome| match outcome {
            Ok(delay) => *delay < time_left,
            Err(give_up) => *give_up == GiveUp::NoTimeLeft,
        }));
        // Both happen: the rule is applied, not one branch always taken.
        assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
        assert!(outcomes.iter().any(Result::is_err), "{outcomes:?}");
    }
}
