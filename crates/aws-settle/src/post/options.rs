//! [`SettleOptions`]: how long and how often read-backs poll, and whether unconfirmed writes may
//! pass.

use std::time::Duration;

use super::schedule::Pacing;
use crate::wait::Delays;

/// The first delay between read-backs by default: most changes become visible within a second
/// or two, so the first polls are fast.
pub const DEFAULT_MIN_DELAY: Duration = Duration::from_millis(200);
/// The longest delay between read-backs by default.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(4);

/// How a settle step reads back: per enforcer ([`EnforcerBuilder::with_options`]) and per call
/// ([`SettleExt::settled_with`], [`Enforcer::scope_with`]). What a call sets overrides the
/// enforcer, which overrides each rule's own defaults.
///
/// Defaults: the rule's max wait (2 minutes; 3 for IAM), reads paced by the enforcer's
/// [`LearnedSchedule`](super::LearnedSchedule) once it has learned the operation, and before that
/// (or with [`Pacing::Fixed`]) delays growing from 200 ms to 4 s (Smithy's jittered exponential
/// backoff); not lenient.
///
/// [`EnforcerBuilder::with_options`]: super::EnforcerBuilder::with_options
/// [`SettleExt::settled_with`]: super::SettleExt::settled_with
/// [`Enforcer::scope_with`]: super::Enforcer::scope_with
///
/// ```
/// use aws_settle::post::SettleOptions;
/// use std::time::Duration;
///
/// let patient = SettleOptions::new()
///     .with_max_wait(Duration::from_secs(600))
///     .with_delays(Duration::from_secs(1), Duration::from_secs(30));
/// assert_eq!(patient.max_wait(), Some(Duration::from_secs(600)));
/// assert!(!patient.is_lenient());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettleOptions {
    max_wait: Option<Duration>,
    delays: Option<(Duration, Duration)>,
    lenient: Option<bool>,
    pacing: Option<Pacing>,
}

impl SettleOptions {
    /// Nothing set: the enforcer's options, or the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits at most `max_wait` for each change.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
    }

    /// Delays between read-backs grow from `min` to `max` (jittered). A zero `min` is raised to
    /// 1 ms and a `max` below `min` is raised to it.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        self.delays = Some((min, max.max(min)));
        self
    }

    /// Lenient: a write no rule checks, or a call no enforcer recorded, passes with one `tracing`
    /// warning and a count ([`Stats::lenient_passes`](super::Stats::lenient_passes)) instead of
    /// failing. Off by default: settling fails closed.
    pub fn with_lenient(mut self, lenient: bool) -> Self {
        self.lenient = Some(lenient);
        self
    }

    /// How reads are paced: learned (the default) or fixed.
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = Some(pacing);
        self
    }

    /// The pacing ([`Pacing::Learned`] unless set).
    pub fn pacing(&self) -> Pacing {
        self.pacing.unwrap_or_default()
    }

    /// The max wait, if set.
    pub fn max_wait(&self) -> Option<Duration> {
        self.max_wait
    }

    /// The delays between read-backs, `(min, max)`, if set.
    pub fn delay_bounds(&self) -> Option<(Duration, Duration)> {
        self.delays
    }

    /// Whether unconfirmed writes pass (false unless set).
    pub fn is_lenient(&self) -> bool {
        self.lenient.unwrap_or(false)
    }

    /// These options, with what they leave unset taken from `fallback`.
    pub(crate) fn or(&self, fallback: &SettleOptions) -> SettleOptions {
        SettleOptions {
            max_wait: self.max_wait.or(fallback.max_wait),
            delays: self.delays.or(fallback.delays),
            lenient: self.lenient.or(fallback.lenient),
            pacing: self.pacing.or(fallback.pacing),
        }
    }

    /// The read-back delays, with `rule_max_wait` unless a max wait is set.
    pub(crate) fn delays(&self, rule_max_wait: Duration) -> Delays {
        let (min, max) = self.delays.unwrap_or((DEFAULT_MIN_DELAY, DEFAULT_MAX_DELAY));
        Delays::smithy(min, max).max_wait(self.max_wait.unwrap_or(rule_max_wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_overrides_what_it_sets_and_keeps_the_rest() {
        let enforcer = SettleOptions::new().with_max_wait(Duration::from_secs(30)).with_lenient(true);
        let call = SettleOptions::new().with_lenient(false);
        let merged = call.or(&enforcer);
        assert_eq!(merged.max_wait(), Some(Duration::from_secs(30)));
        assert!(!merged.is_lenient());
        assert_eq!(merged.delays(Duration::from_secs(120)).max_wait_time(), Duration::from_secs(30));
        assert_eq!(
            SettleOptions::new().delays(Duration::from_secs(120)).max_wait_time(),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn delay_bounds_are_made_sane() {
        let o = SettleOptions::new().with_delays(Duration::ZERO, Duration::ZERO);
        assert_eq!(o.delay_bounds(), Some((Duration::from_millis(1), Duration::from_millis(1))));
    }
}
