//! Stage 3, **retry budget**: retries may be at most a set share of calls (the SDK's retry token
//! bucket idea, measured in calls rather than tokens, and fleet-wide with the shared backend).
//!
//! Both counts decay with a half-life, so the budget follows recent traffic: after a quiet
//! hour a burst of failures gets the same budget as at the start. The shared backend keeps the
//! same two sums on the server (see `shared.rs`) and hands each member its part of the allowance.

use std::time::Duration;

/// The retry budget's settings. Defaults: retries ≤ 10% of calls, plus 10 retries of headroom,
/// counts halving every 10 s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// Retries allowed per call made (0.1: one retry per ten calls).
    pub share: f64,
    /// Retries allowed with no traffic yet (so a first failure can be retried).
    pub headroom: f64,
    /// How fast old traffic stops counting.
    pub half_life: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget { share: 0.1, headroom: 10.0, half_life: Duration::from_secs(10) }
    }
}

/// Decayed sums of calls and retries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Spent {
    pub calls: f64,
    pub retries: f64,
}

impl RetryBudget {
    /// `spent` aged by `elapsed`.
    pub(crate) fn decay(&self, spent: Spent, elapsed: Duration) -> Spent {
        let half = self.half_life.as_secs_f64().max(1e-3);
        let k = 0.5f64.powf(elapsed.as_secs_f64() / half);
        Spent { calls: spent.calls * k, retries: spent.retries * k }
    }

    /// Whether one more retry fits: retries + 1 ≤ share × calls + headroom.
    pub(crate) fn allows(&self, spent: Spent) -> bool {
        spent.retries + 1.0 <= self.share * spent.calls + self.headroom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_a_share_of_calls() {
        let b = RetryBudget { share: 0.1, headroom: 2.0, half_life: Duration::from_secs(10) };
        let table: &[(f64, f64, bool)] = &[
            (0.0, 0.0, true),    // headroom: a first failure may be retried
            (0.0, 1.0, true),    // 2nd retry with no calls: 2 ≤ 0 + 2
            (0.0, 2.0, false),   // 3rd: over the headroom
            (100.0, 11.0, true), // 12 ≤ 10 + 2
            (100.0, 12.0, false),
        ];
        for &(calls, retries, want) in table {
            assert_eq!(b.allows(Spent { calls, retries }), want, "calls {calls}, retries {retries}");
        }
        let aged = b.decay(Spent { calls: 100.0, retries: 12.0 }, Duration::from_secs(10));
        assert_eq!(aged, Spent { calls: 50.0, retries: 6.0 });
        assert!(b.allows(aged) && !b.allows(Spent { retries: 7.0, ..aged }), "aged: 6 + 1 ≤ 5 + 2, 8 > 7");
    }
}
