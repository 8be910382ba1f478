//! How long to sleep between attempts: Smithy waiter delays (the default) or botocore's fixed
//! delay × max attempts, always bounded by a max wait time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

/// A schedule of your own (or a learned one, [`LearnedSchedule`]): where the next read goes,
/// given what the wait has seen so far. Plug it in with [`Delays::custom`]; the max wait and
/// attempt cap of the `Delays` still bound it.
///
/// [`LearnedSchedule`]: crate::post::LearnedSchedule
pub trait Schedule: fmt::Debug + Send + Sync {
    /// The sleep before the first attempt (none by default: the first attempt is at once).
    fn first_delay(&self) -> Option<Duration> {
        None
    }

    /// The sleep after attempt `attempt` (1-based), which ended `elapsed` after the wait began
    /// (the first delay included) without a decision, or `None` to stop.
    fn next_delay(&self, attempt: u32, elapsed: Duration) -> Option<Duration>;
}

/// The delay policy of a waiter, always bounded by a max wait time.
///
/// * [`Delays::smithy`] (the default shape): the
///   [Smithy waiter retry](https://smithy.io/2.0/additional-specs/waiters.html#waiter-retries)
///   rules. Before attempt `n + 1` the waiter sleeps a uniformly random time in
///   `[min_delay, min(max_delay, min_delay × 2^(n-1))]`; if the sleep would leave less than
///   `min_delay` before the max wait time, it is trimmed to `remaining - min_delay` (so the last
///   attempt happens just before the deadline); when no more than `min_delay` remains, the waiter stops.
/// * [`Delays::fixed`]: botocore's `delay` × `maxAttempts`: a constant sleep between at most
///   `max_attempts` attempts (the max wait defaults to `delay × max_attempts` + 300 s; a sleep that
///   would reach it ends the wait instead, as the next call would have no time left).
///
/// ```
/// use aws_settle::wait::Delays;
/// use std::time::Duration;
///
/// let delays = Delays::smithy(Duration::from_secs(2), Duration::from_secs(120))
///     .max_wait(Duration::from_secs(300));
/// let sleeps = delays.schedule(7); // one seeded run of the whole sleep sequence
/// assert!(sleeps.iter().sum::<Duration>() <= Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Delays {
    kind: Kind,
    max_wait: Duration,
    max_attempts: Option<u32>,
}

#[derive(Debug, Clone)]
enum Kind {
    Smithy { min: Duration, max: Duration },
    Fixed { delay: Duration },
    Custom(Arc<dyn Schedule>),
}

/// Custom schedules are equal when they are the same one.
impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Kind::Smithy { min, max }, Kind::Smithy { min: m, max: x }) => (min, max) == (m, x),
            (Kind::Fixed { delay }, Kind::Fixed { delay: d }) => delay == d,
            (Kind::Custom(a), Kind::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The default max wait of [`Delays::smithy`]: 300 s.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);

impl Delays {
    /// Smithy waiter delays between `min_delay` and `max_delay`, max wait 300 s unless set with
    /// [`max_wait`](Self::max_wait). A zero `min_delay` is raised to 1 ms; `max_delay` below
    /// `min_delay` is raised to it.
    pub fn smithy(min_delay: Duration, max_delay: Duration) -> Self {
        let min = min_delay.max(Duration::from_millis(1));
        Self {
            kind: Kind::Smithy { min, max: max_delay.max(min) },
            max_wait: DEFAULT_MAX_WAIT,
            max_attempts: None,
        }
    }

    /// botocore's fixed delay: sleep `delay` between at most `max_attempts` attempts (at least 1).
    /// The max wait is `delay × max_attempts` plus [`DEFAULT_MAX_WAIT`] for the calls themselves
    /// (botocore bounds only the attempts), unless set with [`max_wait`](Self::max_wait).
    pub fn fixed(delay: Duration, max_attempts: u32) -> Self {
        let max_attempts = max_attempts.max(1);
        Self {
            kind: Kind::Fixed { delay },
            max_wait: delay.saturating_mul(max_attempts).saturating_add(DEFAULT_MAX_WAIT),
            max_attempts: Some(max_attempts),
        }
    }

    /// Sleeps as `schedule` says, max wait 300 s unless set with [`max_wait`](Self::max_wait); a
    /// sleep that would reach the max wait ends the wait instead.
    pub fn custom(schedule: Arc<dyn Schedule>) -> Self {
        Self { kind: Kind::Custom(schedule), max_wait: DEFAULT_MAX_WAIT, max_attempts: None }
    }

    /// The sleep before the first attempt: only a custom schedule asks for one.
    pub fn first_delay(&self) -> Option<Duration> {
        match &self.kind {
            Kind::Custom(schedule) => schedule.first_delay().filter(|d| *d < self.max_wait),
            _ => None,
        }
    }

    /// Sets the max wait time: no sleep ends past it, and a call still running at it is cut off.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Also stops after `max_attempts` attempts (at least 1).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = Some(max_attempts.max(1));
        self
    }

    /// The max wait time.
    pub fn max_wait_time(&self) -> Duration {
        self.max_wait
    }

    /// The attempt cap, if any.
    pub fn max_attempts_limit(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The sleep after attempt `attempt` (1-based) when `elapsed` has passed since the first
    /// attempt started, or `None` when the waiter must stop (max wait or max attempts reached).
    pub fn next_delay(&self, attempt: u32, elapsed: Duration, rng: &mut impl Rng) -> Option<Duration> {
        if self.max_attempts.is_some_and(|max| attempt >= max) {
            return None;
        }
        let remaining = self.max_wait.checked_sub(elapsed)?;
        match self.kind {
            // A sleep up to the deadline would leave the next call no time at all.
            Kind::Fixed { delay } => (delay < remaining).then_some(delay),
            Kind::Custom(ref schedule) => schedule.next_delay(attempt, elapsed).filter(|d| *d < remaining),
            Kind::Smithy { min, max } => {
                if remaining <= min {
                    return None;
                }
                let exp = attempt.saturating_sub(1).min(31);
                let ceiling = min.checked_mul(1u32 << exp).unwrap_or(max).min(max);
                let (lo, hi) = (min.as_secs_f64(), ceiling.as_secs_f64());
                let mut delay =
                    if hi > lo { Duration::from_secs_f64(rng.random_range(lo..=hi)) } else { min };
                if remaining.saturating_sub(delay) <= min {
                    delay = remaining - min;
                }
                Some(delay)
            }
        }
    }

    /// The whole sequence of sleeps of a wait that never succeeds and whose attempts take no time,
    /// with a random source seeded by `seed`.
    pub fn schedule(&self, seed: u64) -> Vec<Duration> {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut sleeps = Vec::new();
        let mut elapsed = Duration::ZERO;
        let mut attempt = 1;
        while let Some(delay) = self.next_delay(attempt, elapsed, &mut rng) {
            sleeps.push(delay);
            elapsed += delay;
            attempt += 1;
        }
        sleeps
    }
}

impl Default for Delays {
    /// Smithy delays with the Smithy defaults: min 2 s, max 120 s, max wait 300 s.
    fn default() -> Self {
        Self::smithy(Duration::from_secs(2), Duration::from_secs(120))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_first_delay_is_min_and_the_ceiling_doubles_to_max() {
        let delays = Delays::smithy(Duration::from_secs(2), Duration::from_secs(20))
            .max_wait(Duration::from_secs(1000));
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert_eq!(delays.next_delay(1, Duration::ZERO, &mut rng), Some(Duration::from_secs(2)));
        for attempt in 2..40 {
            let ceiling = Duration::from_secs((2u64 << (attempt - 1).min(20)).min(20));
            let d = delays.next_delay(attempt, Duration::ZERO, &mut rng).unwrap();
            assert!(d >= Duration::from_secs(2) && d <= ceiling, "attempt {attempt}: {d:?} vs {ceiling:?}");
        }
    }

    #[test]
    fn it_stops_when_no_more_than_min_delay_is_left_or_at_max_attempts() {
        let delays =
            Delays::smithy(Duration::from_secs(2), Duration::from_secs(20)).max_wait(Duration::from_secs(10));
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert_eq!(delays.next_delay(3, Duration::from_secs(8), &mut rng), None);
        assert_eq!(delays.next_delay(3, Duration::from_secs(11), &mut rng), None);
        assert_eq!(delays.next_delay(1, Duration::from_secs(7), &mut rng), Some(Duration::from_secs(1)));
        let capped = delays.max_attempts(2);
        assert!(capped.next_delay(1, Duration::ZERO, &mut rng).is_some());
        assert_eq!(capped.next_delay(2, Duration::ZERO, &mut rng), None);
    }
}
