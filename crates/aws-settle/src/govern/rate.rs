//! Stage 1, **pace**: one GCRA limiter (the `governor` crate) per key, at a rate that adapts.
//!
//! The limiter reads tokio's clock, so a test with paused time drives it exactly. Adapting is a
//! plain function of the last rate, what the last attempts saw and how long ago the last cut
//! was: a throttle cuts the rate by a factor (at most once per cool-down, so one burst of
//! throttles is one cut), a second without one raises it by a fixed step, never above the
//! ceiling nor below the floor. The shared backend runs the same rule in its server-side script.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// How the rate adapts. Defaults: cut to 0.7× on a throttle at most once a second, raise by 5%
/// of the ceiling per throttle-free second, floor 1% of the ceiling (at least 0.1/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adapt {
    /// Multiplicative decrease on a throttle (0 < factor < 1).
    pub decrease: f64,
    /// Additive increase, in requests per second, per throttle-free second.
    pub increase_per_sec: f64,
    /// The least time between two cuts.
    pub cooldown: Duration,
    /// The lowest rate, requests per second.
    pub floor: f64,
}

impl Adapt {
    /// The defaults for a ceiling of `ceiling` requests per second.
    pub fn for_ceiling(ceiling: f64) -> Adapt {
        Adapt {
            decrease: 0.7,
            increase_per_sec: ceiling * 0.05,
            cooldown: Duration::from_secs(1),
            floor: (ceiling * 0.01).max(0.1),
        }
    }
}

/// What a key's attempts saw since the rate last changed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Seen {
    /// Attempts answered with a throttling error.
    pub throttles: u32,
    /// Attempts that were not throttled.
    pub successes: u32,
}

/// The next rate: `rate` after `seen`, `since_cut` after the last cut and `since_raise` after the
/// last raise. Returns the rate and whether it was a cut (the caller restarts its cool-down).
pub(crate) fn adapt(
    rate: f64,
    ceiling: f64,
    adapt: &Adapt,
    seen: Seen,
    since_cut: Duration,
    since_raise: Duration,
) -> (f64, bool) {
    if seen.throttles > 0 {
        if since_cut >= adapt.cooldown {
            return ((rate * adapt.decrease).max(adapt.floor.min(ceiling)), true);
        }
        return (rate, false);
    }
    if seen.successes > 0 {
        let up = adapt.increase_per_sec * since_raise.as_secs_f64();
        return ((rate + up).min(ceiling), false);
    }
    (rate, false)
}

/// tokio's clock for the `governor` crate: paused time in tests moves the limiter too.
#[derive(Debug, Clone)]
pub(crate) struct TokioClock {
    base: tokio::time::Instant,
}

impl TokioClock {
    pub(crate) fn new() -> Self {
        TokioClock { base: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        Nanos::from(self.base.elapsed())
    }
}

/// A GCRA limiter at a fixed rate; a new rate is a new limiter (rates change at most once a
/// second, so a fresh limiter's one-request burst is negligible).
#[derive(Debug)]
pub(crate) struct Pace {
    rate: f64,
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>,
    clock: TokioClock,
}

impl Pace {
    /// A limiter admitting `rate` requests per second with a burst of one.
    pub(crate) fn new(rate: f64) -> Pace {
        let clock = TokioClock::new();
        // Quota::with_period: one cell every 1/rate seconds (clamped to [1 ns, 1 day]).
        let period = Duration::from_secs_f64((1.0 / rate.max(1e-5)).clamp(1e-9, 86_400.0));
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        let limiter = RateLimiter::direct_with_clock(quota, clock.clone());
        Pace { rate, limiter, clock }
    }

    /// A limiter at a new `rate` replacing one in use: its first slot is taken at once, so the
    /// swap never lets an extra request through (it costs at most one interval of delay).
    pub(crate) fn replacing(rate: f64) -> Pace {
        let pace = Pace::new(rate);
        let _ = pace.limiter.check();
        pace
    }

    /// The rate in requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes a slot now, or says how long until one is free (the caller sleeps, then asks again).
    pub(crate) fn take(&self) -> Option<Duration> {
        match self.limiter.check() {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(self.clock.now())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn aimd_table() {
        let a = Adapt::for_ceiling(100.0);
        let seen = |throttles, successes| Seen { throttles, successes };
        // (rate, seen, since last cut, since last raise) → (rate, cut)
        let table: &[(f64, Seen, Duration, Duration, f64, bool)] = &[
            (100.0, seen(1, 0), S, S, 70.0, true),              // throttle: ×0.7
            (70.0, seen(3, 9), Duration::ZERO, S, 70.0, false), // within the cool-down: one cut per burst
            (70.0, seen(0, 5), S, S, 75.0, false),              // a throttle-free second: +5% of ceiling
            (98.0, seen(0, 5), S, S, 100.0, false),             // never above the ceiling
            (70.0, seen(0, 5), S * 2, S / 2, 72.5, false),      // raise in proportion to the time
            (1.2, seen(1, 0), S, S, 1.0, true),                 // never below the floor
            (50.0, seen(0, 0), S, S, 50.0, false),              // nothing seen: unchanged
        ];
        for &(rate, seen, since_cut, since_raise, want, cut) in table {
            let got = adapt(rate, 100.0, &a, seen, since_cut, since_raise);
            assert!((got.0 - want).abs() < 1e-9 && got.1 == cut, "{rate} {seen:?}: got {got:?}, want {want}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pace_admits_the_rate_on_the_virtual_clock() {
        let pace = Pace::new(10.0);
        assert_eq!(pace.take(), None, "the first request goes at once");
        let wait = pace.take().expect("the second waits");
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(pace.take(), None);
        // From here, 20 more admissions take 2 virtual seconds: one every 100 ms.
        let start = tokio::time::Instant::now();
        let mut admitted = 0;
        while admitted < 20 {
            match pace.take() {
                None => admitted += 1,
                Some(wait) => tokio::time::advance(wait).await,
            }
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1900) && took <= Duration::from_millis(2000), "{took:?}");
    }
}
