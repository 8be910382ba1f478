//! The learned settle schedule: where to put each read-back so a settled write returns soon after
//! its change is visible, with few reads.
//!
//! Stages, each a plain function or type below:
//! 1. **Observe**: every read-back ends as a censored observation of the time-to-visible `T`
//!    (from the write to the change showing): "not yet at `a`, visible by `b`", or only "not yet
//!    at `a`" when it timed out. Kept per [`ScheduleKey`] in a bounded window.
//! 2. **Estimate**: the distribution of `T` on a fixed log-spaced grid (1 ms to 10 min, 5% steps), by the
//!    self-consistency (Turnbull EM) estimate for interval-censored data, warm-started from the
//!    previous estimate.
//! 3. **Plan**: backward induction over the grid picks, for "not yet at `t`", the next read that
//!    minimises expected overshoot (time from visible to the read that sees it) plus the read
//!    cost × expected reads. Past what the observations cover, and below the minimum number of
//!    observations, the fixed schedule (Smithy delays) takes over.
//!
//! The learner state is shareable: [`LearnedSchedule::summary`] exports one key's observations
//! as a serialisable [`Summary`] and [`LearnedSchedule::merge`] adds another process's, so a
//! fleet backend can pool them.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::wait::{Delays, Schedule};

/// Grid points: 0, then log-spaced from [`GRID_MIN`] to [`GRID_MAX`] seconds.
const GRID: usize = 256;
const GRID_MIN: f64 = 0.001;
const GRID_MAX: f64 = 600.0;
/// EM rounds per re-estimate (warm-started, so few are needed).
const EM_ROUNDS: usize = 60;
/// Below this conditional probability of "still to come", the plan knows nothing useful and
/// the fixed schedule takes over.
const SUPPORT_EPSILON: f64 = 0.02;
/// A plan is re-made once this many observations came since the last.
const REPLAN_EVERY: usize = 4;
/// The share of waits that look earlier than planned (see [`LearnedWait`]).
const EXPLORE: f64 = 0.1;

/// How reads are paced: the learned schedule (the default) or the fixed one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pacing {
    /// Learned per service, operation and region; the fixed schedule until it has enough
    /// observations, and past what they cover.
    #[default]
    Learned,
    /// Smithy's jittered delays between the settle options' bounds (200 ms to 4 s by default).
    Fixed,
}

/// What a learned schedule is kept per: service, operation and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScheduleKey {
    /// The service, as in the rule tables (`ssm`).
    pub service: String,
    /// The write (`PutParameter`).
    pub operation: String,
    /// The region of the client that wrote, if known.
    pub region: Option<String>,
}

impl ScheduleKey {
    /// A key for `service`'s `operation` in `region`.
    pub fn new(service: impl Into<String>, operation: impl Into<String>, region: Option<String>) -> Self {
        Self { service: service.into(), operation: operation.into(), region }
    }
}

impl fmt::Display for ScheduleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)?;
        match &self.region {
            Some(region) => write!(f, "@{region}"),
            None => Ok(()),
        }
    }
}

/// One censored observation of the time-to-visible, both times from the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The last read that did not see the change, if any read missed it.
    pub invisible_at: Option<Duration>,
    /// The read that saw it; `None` when the wait timed out.
    pub visible_by: Option<Duration>,
}

/// One key's observations, to share with other processes (serialisable with serde).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Oldest first, at most the learner's window.
    pub observations: Vec<Observation>,
}

/// Learns, per [`ScheduleKey`], when a write's change becomes visible, and places read-backs
/// accordingly.
///
/// Cheap to clone (clones share what was learned). Defaults: read cost 50 ms (a read is worth
/// 50 ms of overshoot), 20 observations before the plan is used, a window of the last 256
/// observations per key, at most 256 keys (least recently used dropped).
///
/// ```
/// use aws_settle::post::{LearnedSchedule, Observation, ScheduleKey};
/// use std::time::Duration;
///
/// let learned = LearnedSchedule::new().with_read_cost(Duration::from_millis(20));
/// let key = ScheduleKey::new("ssm", "PutParameter", None);
/// for _ in 0..30 {
///     learned.observe(&key, Observation {
///         invisible_at: Some(Duration::from_millis(900)),
///         visible_by: Some(Duration::from_millis(1_100)),
///     });
/// }
/// // The first read goes where the change shows, not at once.
/// let first = learned.first_read(&key).unwrap();
/// assert!(first >= Duration::from_millis(900) && first <= Duration::from_millis(1_200), "{first:?}");
/// ```
#[derive(Clone)]
pub struct LearnedSchedule {
    config: Config,
    keys: Arc<Mutex<lru::LruCache<ScheduleKey, Learned>>>,
    /// Seeds each wait's own random source (which waits explore, the fixed schedule's jitter).
    rng: Arc<Mutex<rand::rngs::StdRng>>,
}

#[derive(Debug, Clone, Copy)]
struct Config {
    read_cost: f64,
    min_observations: usize,
    window: usize,
}

impl fmt::Debug for LearnedSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LearnedSchedule")
            .field("read_cost_s", &self.config.read_cost)
            .field("min_observations", &self.config.min_observations)
            .field("window", &self.config.window)
            .field("keys", &lock(&self.keys).len())
            .finish()
    }
}

impl Default for LearnedSchedule {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LearnedSchedule {
    /// A learner with the defaults.
    pub fn new() -> Self {
        Self::with_max_keys(256)
    }

    /// A learner that keeps at most `max_keys` keys (at least 1), dropping the least recently
    /// used.
    pub fn with_max_keys(max_keys: usize) -> Self {
        let cap = NonZeroUsize::new(max_keys.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            config: Config { read_cost: 0.05, min_observations: 20, window: 256 },
            keys: Arc::new(Mutex::new(lru::LruCache::new(cap))),
            rng: Arc::new(Mutex::new(rand::rngs::StdRng::from_rng(&mut rand::rng()))),
        }
    }

    /// Seeds the random choices of its waits (which look early, the fixed schedule's jitter), so
    /// a run over the same lags repeats exactly (a random seed otherwise).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)));
        self
    }

    /// What one read costs, in overshoot it is worth: small when reads are cheap (SSM against an
    /// emulator), large when they are precious (a throttled API). Negative values count as zero.
    pub fn with_read_cost(mut self, cost: Duration) -> Self {
        self.config.read_cost = cost.as_secs_f64();
        self
    }

    /// Uses the plan only once a key has this many observations (at least 1).
    pub fn with_min_observations(mut self, n: usize) -> Self {
        self.config.min_observations = n.max(1);
        self
    }

    /// Keeps the last `n` observations per key (at least 1).
    pub fn with_window(mut self, n: usize) -> Self {
        self.config.window = n.max(1);
        self
    }

    /// The read cost.
    pub fn read_cost(&self) -> Duration {
        Duration::from_secs_f64(self.config.read_cost.max(0.0))
    }

    /// Adds one observation for `key`.
    pub fn observe(&self, key: &ScheduleKey, observation: Observation) {
        let mut keys = lock(&self.keys);
        let learned = keys.get_or_insert_mut(key.clone(), Learned::default);
        learned.push(observation, self.config.window);
    }

    /// Adds another process's observations of `key` (e.g. read from a fleet backend).
    pub fn merge(&self, key: &ScheduleKey, summary: &Summary) {
        let mut keys = lock(&self.keys);
        let learned = keys.get_or_insert_mut(key.clone(), Learned::default);
        for observation in &summary.observations {
            learned.push(*observation, self.config.window);
        }
    }

    /// `key`'s observations, to share.
    pub fn summary(&self, key: &ScheduleKey) -> Option<Summary> {
        let keys = lock(&self.keys);
        keys.peek(key).map(|l| Summary { observations: l.observations.iter().copied().collect() })
    }

    /// How many observations `key` has.
    pub fn observations(&self, key: &ScheduleKey) -> usize {
        lock(&self.keys).peek(key).map_or(0, |l| l.observations.len())
    }

    /// When the plan puts the first read after a write of `key`, or `None` while `key` has too
    /// few observations (the fixed schedule reads at once).
    pub fn first_read(&self, key: &ScheduleKey) -> Option<Duration> {
        self.plan(key).map(|plan| Duration::from_secs_f64(grid()[plan.first]))
    }

    /// Folds one wait's mean read time into `key`'s moving average.
    fn read_took(&self, key: &ScheduleKey, read_time: Duration) {
        let mut keys = lock(&self.keys);
        if let Some(learned) = keys.get_mut(key) {
            learned.read_time = if learned.read_time.is_zero() {
                read_time
            } else {
                learned.read_time.mul_f64(0.9) + read_time.mul_f64(0.1)
            };
        }
    }

    /// The plan for `key`, re-estimated if observations came since the last one.
    fn plan(&self, key: &ScheduleKey) -> Option<Arc<Plan>> {
        let mut keys = lock(&self.keys);
        let learned = keys.get_mut(key)?;
        if learned.observations.len() < self.config.min_observations {
            return None;
        }
        if learned.plan.is_none() || learned.since_plan >= REPLAN_EVERY {
            learned.since_plan = 0;
            learned.estimate();
            learned.plan = Some(Arc::new(Plan::new(&learned.mass, self.config.read_cost.max(0.0))));
        }
        let plan = learned.plan.as_mut()?;
        if plan.read_time != learned.read_time {
            Arc::make_mut(plan).read_time = learned.read_time;
        }
        learned.plan.clone()
    }

    /// The schedule of one read-back of a write of `key` that happened `since_write` ago;
    /// `fallback` is the fixed schedule. Give the wait's outcome to [`LearnedWait::finish`].
    pub fn start(&self, key: ScheduleKey, since_write: Duration, fallback: Delays) -> Arc<LearnedWait> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(lock(&self.rng).random());
        Arc::new(LearnedWait {
            explore: rng.random_bool(EXPLORE),
            plan: self.plan(&key),
            learner: self.clone(),
            key,
            since_write,
            fallback: fallback.clone(),
            state: Mutex::new(WaitState {
                last_invisible: None,
                slept: Duration::ZERO,
                attempts: 0,
                fallback_attempts: 0,
                rng,
            }),
        })
    }
}

/// The mean time of one read in a wait of `attempts` reads that took `elapsed`, `slept` of it
/// asleep.
fn read_time(elapsed: Duration, slept: Duration, attempts: u32) -> Duration {
    elapsed.saturating_sub(slept) / attempts.max(1)
}

/// One key's window of observations and its current estimate.
#[derive(Default)]
struct Learned {
    /// A moving average of how long one read takes.
    read_time: Duration,
    observations: VecDeque<Observation>,
    /// Probability mass per bin (see [`bin_of`]); empty before the first estimate.
    mass: Vec<f64>,
    /// `None` before the first plan.
    plan: Option<Arc<Plan>>,
    /// Observations since the plan was made.
    since_plan: usize,
}

impl Learned {
    fn push(&mut self, observation: Observation, window: usize) {
        while self.observations.len() >= window {
            self.observations.pop_front();
        }
        self.observations.push_back(observation);
        self.since_plan += 1;
    }

    /// Self-consistency (EM) for interval-censored data over the grid's bins, smoothed at each
    /// round (EMS): plain EM piles the mass onto a few points, exactly where the plan then
    /// reads, so the reads could never tell more than they already know.
    fn estimate(&mut self) {
        let bins = GRID + 1;
        let intervals: Vec<(usize, usize)> = self.observations.iter().map(interval).collect();
        if self.mass.len() != bins || !self.mass.iter().all(|m| m.is_finite()) {
            self.mass = vec![1.0 / bins as f64; bins];
        }
        // A bin an observation allows never starts at zero, or EM could not move mass into it.
        let floor = 1e-6;
        for m in &mut self.mass {
            *m = m.max(floor);
        }
        let n = intervals.len() as f64;
        let mut cover = vec![0.0; bins + 1];
        for _ in 0..EM_ROUNDS {
            let prefix = prefix_sums(&self.mass);
            cover.iter_mut().for_each(|c| *c = 0.0);
            for &(lo, hi) in &intervals {
                let p = prefix[hi + 1] - prefix[lo];
                if p > 0.0 {
                    cover[lo] += 1.0 / p;
                    cover[hi + 1] -= 1.0 / p;
                }
            }
            let mut running = 0.0;
            for (m, c) in self.mass.iter_mut().zip(&cover) {
                running += c;
                *m *= running / n;
            }
            self.mass = smooth(&self.mass);
            let total: f64 = self.mass.iter().sum();
            if total > 0.0 {
                self.mass.iter_mut().for_each(|m| *m /= total);
            }
        }
    }
}

/// The smoothing kernel over neighbouring bins (each about 5% wider than the last; the kernel spans ±11% in time).
const KERNEL: [f64; 5] = [1.0, 2.0, 3.0, 2.0, 1.0];

/// `mass` convolved with [`KERNEL`] over the grid's bins (the past-the-grid bin kept apart).
fn smooth(mass: &[f64]) -> Vec<f64> {
    let half = KERNEL.len() / 2;
    let last = mass.len() - 1;
    let mut out = vec![0.0; mass.len()];
    for (i, m) in mass[..last].iter().enumerate() {
        // The taps that fall inside the grid, renormalised: no mass leaves it at either end.
        let taps = || KERNEL.iter().enumerate().filter_map(|(k, w)| Some(((i + k).checked_sub(half)?, *w)));
        let total: f64 = taps().filter(|(j, _)| *j < last).map(|(_, w)| w).sum();
        for (j, w) in taps().filter(|(j, _)| *j < last) {
            out[j] += m * w / total;
        }
    }
    out[last] = mass[last];
    out
}

/// `p[0..i]` sums: `prefix[i]` is the mass of bins before `i`.
fn prefix_sums(mass: &[f64]) -> Vec<f64> {
    let mut prefix = Vec::with_capacity(mass.len() + 1);
    prefix.push(0.0);
    for m in mass {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + m);
    }
    prefix
}

/// The grid, in seconds: `g[0] = 0`, then log-spaced up to [`GRID_MAX`].
fn grid() -> &'static [f64] {
    static GRID_POINTS: OnceLock<Vec<f64>> = OnceLock::new();
    GRID_POINTS.get_or_init(|| {
        let ratio = (GRID_MAX / GRID_MIN).powf(1.0 / (GRID - 2) as f64);
        std::iter::once(0.0).chain((0..GRID - 1).map(|i| GRID_MIN * ratio.powi(i as i32))).collect()
    })
}

/// Bin `k < GRID` holds `T` in `(g[k-1], g[k]]` (bin 0: `T <= 0`); bin `GRID` is past the grid.
/// The first bin where `T > a` is possible.
fn first_bin_after(a: f64) -> usize {
    grid().partition_point(|g| *g <= a)
}

/// The last bin where `T <= b` is possible.
fn last_bin_by(b: f64) -> usize {
    grid().partition_point(|g| *g < b)
}

/// The bins an observation allows, inclusive.
fn interval(o: &Observation) -> (usize, usize) {
    let lo = o.invisible_at.map_or(0, |a| first_bin_after(a.as_secs_f64()));
    let hi = o.visible_by.map_or(GRID, |b| last_bin_by(b.as_secs_f64()));
    (lo.min(GRID), hi.max(lo).min(GRID))
}

/// The bin index of time `t` as a state: the last grid point at or before it.
fn state_of(t: f64) -> usize {
    grid().partition_point(|g| *g <= t).saturating_sub(1)
}

/// For every state "not yet at `g[i]`", the grid point of the next read (or `None`: the fixed
/// schedule), and the first read of a wait.
#[derive(Debug, Clone)]
struct Plan {
    next: Vec<Option<usize>>,
    first: usize,
    /// How long one read takes (the key's moving average): no first sleep shorter than it.
    read_time: Duration,
}

impl Plan {
    /// Backward induction: `w[i]` = expected cost from "not yet at `g[i]`", times `P(T > g[i])`.
    fn new(mass: &[f64], read_cost: f64) -> Self {
        let g = grid();
        let p = prefix_sums(mass);
        // Mass-weighted midpoints: M[j] = sum over bins < j of mass * midpoint.
        let mut m = vec![0.0; GRID + 1];
        for j in 0..GRID {
            let mid = if j == 0 { 0.0 } else { (g[j - 1] + g[j]) / 2.0 };
            m[j + 1] = m[j] + mass[j] * mid;
        }
        let survival = |i: usize| 1.0 - p[i + 1];
        // Cost of reading next at g[j] from "not yet at g[i]" (i = None: from the start).
        let step = |from: usize, j: usize, w: &[f64]| {
            let in_between = p[j + 1] - p[from];
            g[j] * in_between - (m[j + 1] - m[from]) + w[j]
        };
        let mut w = vec![0.0; GRID];
        let mut next = vec![None; GRID];
        for i in (0..GRID - 1).rev() {
            let s = survival(i);
            if s < 1e-12 {
                continue;
            }
            let best = (i + 1..GRID).map(|j| (j, step(i + 1, j, &w))).min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((j, cost)) = best {
                w[i] = s * read_cost + cost;
                next[i] = Some(j);
            }
        }
        let first = (0..GRID).map(|j| (j, step(0, j, &w))).min_by(|a, b| a.1.total_cmp(&b.1));
        // Where little mass is left to come the plan's guess is no better than the fixed one.
        for (i, n) in next.iter_mut().enumerate() {
            if survival(i) < SUPPORT_EPSILON {
                *n = None;
            }
        }
        Plan { next, first: first.map_or(0, |(j, _)| j), read_time: Duration::ZERO }
    }

    /// The next read after "not yet at `t`" seconds, in seconds from the write.
    fn next_after(&self, t: f64) -> Option<f64> {
        let g = grid();
        let j = self.next[state_of(t)]?;
        Some(g[j].max(t))
    }
}

/// One read-back's schedule from a [`LearnedSchedule`]: the plan's reads, the fixed schedule
/// past them. A [`Schedule`] for [`Delays::custom`].
pub struct LearnedWait {
    plan: Option<Arc<Plan>>,
    learner: LearnedSchedule,
    key: ScheduleKey,
    since_write: Duration,
    fallback: Delays,
    /// This wait reads first at half the planned time: reads at the plan's own times only ever
    /// say "visible by then", so without a look earlier the estimate could only drift later.
    explore: bool,
    state: Mutex<WaitState>,
}

struct WaitState {
    last_invisible: Option<Duration>,
    /// The sleeps this schedule asked for, so the reads' own time is the rest of the wait.
    slept: Duration,
    /// Attempts so far.
    attempts: u32,
    /// Attempts since the fixed schedule took over (0: it has not).
    fallback_attempts: u32,
    rng: rand::rngs::StdRng,
}

impl fmt::Debug for LearnedWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LearnedWait")
            .field("key", &self.key)
            .field("learned", &self.plan.is_some())
            .field("since_write", &self.since_write)
            .finish_non_exhaustive()
    }
}

impl LearnedWait {
    /// The delays to wait with: this schedule, bounded by the fallback's max wait.
    pub fn delays(self: &Arc<Self>) -> Delays {
        let mut delays = Delays::custom(self.clone()).max_wait(self.fallback.max_wait_time());
        if let Some(cap) = self.fallback.max_attempts_limit() {
            delays = delays.max_attempts(cap);
        }
        delays
    }

    /// Whether the plan (not the fixed schedule) placed the first read.
    pub fn is_learned(&self) -> bool {
        self.plan.is_some()
    }

    /// Records the wait's outcome: `Some(elapsed)` when a read `elapsed` after the wait began
    /// saw the change, `None` when it timed out. Other endings (a failure state, an unexpected
    /// error) teach nothing: don't call it for them.
    pub fn finish(&self, visible_after: Option<Duration>) {
        let (last_invisible, slept, attempts) = {
            let state = lock(&self.state);
            (state.last_invisible, state.slept, state.attempts)
        };
        if let Some(elapsed) = visible_after {
            let read_time = read_time(elapsed, slept, attempts + 1);
            self.learner.read_took(&self.key, read_time);
        }
        if visible_after.is_none() && last_invisible.is_none() {
            return;
        }
        let observation = Observation {
            invisible_at: last_invisible,
            // A read sees the state of about its middle.
            visible_by: visible_after
                .map(|e| (self.since_write + e).saturating_sub(read_time(e, slept, attempts + 1) / 2)),
        };
        self.learner.observe(&self.key, observation);
    }
}

impl Schedule for LearnedWait {
    fn first_delay(&self) -> Option<Duration> {
        let plan = self.plan.as_ref()?;
        let mut first = Duration::from_secs_f64(grid()[plan.first]);
        if self.explore {
            first /= 2;
        }
        // Waiting less than a read takes buys nothing a read could tell apart: read at once.
        let delay = first.checked_sub(self.since_write).filter(|d| *d > plan.read_time)?;
        lock(&self.state).slept += delay;
        Some(delay)
    }

    fn next_delay(&self, _attempt: u32, elapsed: Duration) -> Option<Duration> {
        let mut state = lock(&self.state);
        state.attempts += 1;
        let now = self.since_write + elapsed;
        // A read sees the state of about its middle.
        let read_time = read_time(elapsed, state.slept, state.attempts);
        state.last_invisible = Some(now.saturating_sub(read_time / 2));
        let planned = if state.fallback_attempts == 0 {
            self.plan.as_ref().and_then(|plan| plan.next_after(now.as_secs_f64()))
        } else {
            None
        };
        let delay = match planned {
            Some(at) => Some((Duration::from_secs_f64(at) - now).max(Duration::from_millis(1))),
            None => {
                state.fallback_attempts += 1;
                let attempt = state.fallback_attempts;
                self.fallback.next_delay(attempt, elapsed, &mut state.rng)
            }
        };
        state.slept += delay.unwrap_or_default();
        delay
    }
}

#[cfg(test)]
mod tests;
