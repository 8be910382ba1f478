//! The estimator and planner in virtual time: seeded lags, reads simulated against them, no clock.

use super::*;
use rand::Rng;
use rand::rngs::StdRng;

fn key() -> ScheduleKey {
    ScheduleKey::new("ssm", "PutParameter", Some("us-east-1".into()))
}

fn fixed() -> Delays {
    Delays::smithy(Duration::from_millis(200), Duration::from_secs(4)).max_wait(Duration::from_secs(120))
}

/// One settle against a change that shows `lag` after the write: (overshoot, reads), reads
/// taking no time.
fn settle_once(learned: &LearnedSchedule, lag: Duration) -> (Duration, u32) {
    let wait = learned.start(key(), Duration::ZERO, fixed());
    let delays = wait.delays();
    let mut elapsed = delays.first_delay().unwrap_or_default();
    let mut reads = 1;
    let mut rng = StdRng::seed_from_u64(0);
    while elapsed < lag {
        let delay = delays.next_delay(reads, elapsed, &mut rng).expect("no timeout in these lags");
        elapsed += delay;
        reads += 1;
    }
    wait.finish(Some(elapsed));
    (elapsed - lag, reads)
}

/// Median overshoot and mean reads of `n` writes after `warm_up` writes, lags from `draw`.
fn run(
    learned: &LearnedSchedule,
    warm_up: usize,
    n: usize,
    mut draw: impl FnMut() -> Duration,
) -> (f64, f64) {
    for _ in 0..warm_up {
        settle_once(learned, draw());
    }
    let mut overshoot = Vec::new();
    let mut reads = 0;
    for _ in 0..n {
        let (o, r) = settle_once(learned, draw());
        overshoot.push(o.as_secs_f64());
        reads += r;
    }
    overshoot.sort_by(f64::total_cmp);
    (overshoot[n / 2], f64::from(reads) / n as f64)
}

#[test]
fn with_too_few_observations_it_is_the_fixed_schedule() {
    let learned = LearnedSchedule::new().with_seed(7).with_min_observations(5);
    for _ in 0..4 {
        let wait = learned.start(key(), Duration::ZERO, fixed());
        assert!(!wait.is_learned());
        assert_eq!(wait.delays().first_delay(), None, "the fixed schedule reads at once");
        let first = wait.next_delay(1, Duration::ZERO).unwrap();
        assert_eq!(first, Duration::from_millis(200), "Smithy's first delay is the minimum");
        wait.finish(Some(Duration::from_millis(500)));
    }
    assert_eq!(learned.first_read(&key()), None);
    settle_once(&learned, Duration::from_millis(500));
    assert!(learned.first_read(&key()).is_some(), "5 observations: the plan is used");
}

#[test]
fn a_fixed_lag_is_learned_to_one_or_two_reads_and_little_overshoot() {
    let learned = LearnedSchedule::new().with_seed(7);
    let fixed_run =
        run(&LearnedSchedule::new().with_seed(7).with_min_observations(usize::MAX), 0, 100, || {
            Duration::from_secs(1)
        });
    let (median, reads) = run(&learned, 50, 200, || Duration::from_secs(1));
    assert!(median <= 0.15, "median overshoot {median} s after 50 warm-up writes");
    assert!(reads <= 2.0, "{reads} reads per write");
    assert!(reads <= fixed_run.1, "learned {reads} reads vs fixed {}", fixed_run.1);
}

#[test]
fn seeded_exponential_lags_cost_no_more_reads_than_fixed_and_less_overshoot() {
    let mut rng = StdRng::seed_from_u64(14);
    let mut exp = move || Duration::from_secs_f64(-rng.random::<f64>().max(1e-12).ln());
    let baseline = LearnedSchedule::new().with_seed(7).with_min_observations(usize::MAX);
    let (fixed_median, fixed_reads) = run(&baseline, 0, 400, &mut exp);
    let learned = LearnedSchedule::new().with_seed(7);
    let (median, reads) = run(&learned, 50, 400, &mut exp);
    assert!(median < fixed_median, "learned {median} s vs fixed {fixed_median} s");
    assert!(reads <= fixed_reads + 0.25, "learned {reads} reads vs fixed {fixed_reads}");
}

#[test]
fn a_higher_read_cost_buys_fewer_reads_with_more_overshoot() {
    let uniform = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        move || Duration::from_secs_f64(rng.random_range(0.2..3.0))
    };
    let cheap = run(
        &LearnedSchedule::new().with_seed(7).with_read_cost(Duration::from_millis(10)),
        50,
        300,
        uniform(1),
    );
    let precious =
        run(&LearnedSchedule::new().with_seed(7).with_read_cost(Duration::from_secs(2)), 50, 300, uniform(1));
    assert!(precious.1 < cheap.1, "reads: precious {} vs cheap {}", precious.1, cheap.1);
    assert!(precious.0 > cheap.0, "overshoot: precious {} vs cheap {}", precious.0, cheap.0);
}

#[test]
fn timeouts_are_right_censored_and_move_the_first_read_later() {
    let learned = LearnedSchedule::new().with_seed(7);
    for _ in 0..30 {
        learned.observe(
            &key(),
            Observation {
                invisible_at: Some(Duration::from_millis(400)),
                visible_by: Some(Duration::from_millis(600)),
            },
        );
    }
    let before = learned.first_read(&key()).unwrap();
    for _ in 0..60 {
        learned.observe(&key(), Observation { invisible_at: Some(Duration::from_secs(5)), visible_by: None });
    }
    let after = learned.first_read(&key()).unwrap();
    assert!(after > before, "{before:?} then {after:?}");
}

#[test]
fn a_wait_that_outlives_what_was_learned_falls_back_to_the_fixed_schedule() {
    let learned = LearnedSchedule::new().with_seed(7);
    for _ in 0..30 {
        settle_once(&learned, Duration::from_secs(1));
    }
    let wait = learned.start(key(), Duration::ZERO, fixed());
    // Not visible at 3 s, long past every lag seen: the fixed schedule's first delay.
    assert_eq!(wait.next_delay(2, Duration::from_secs(3)), Some(Duration::from_millis(200)));
}

#[test]
fn a_wait_that_starts_late_reads_at_once_when_the_first_read_is_past() {
    let learned = LearnedSchedule::new().with_seed(7);
    for _ in 0..30 {
        settle_once(&learned, Duration::from_secs(1));
    }
    let late = learned.start(key(), Duration::from_secs(2), fixed());
    assert!(late.is_learned());
    assert_eq!(late.first_delay(), None);
    let early = learned.start(key(), Duration::from_millis(500), fixed());
    let first = early.first_delay().unwrap();
    assert!(first >= Duration::from_millis(450) && first <= Duration::from_millis(600), "{first:?}");
}

#[test]
fn memory_is_bounded_by_the_window_and_the_key_count() {
    let learned = LearnedSchedule::with_max_keys(3).with_window(10);
    let observation = Observation { invisible_at: None, visible_by: Some(Duration::from_millis(5)) };
    for i in 0..5 {
        let key = ScheduleKey::new("ssm", format!("Op{i}"), None);
        for _ in 0..25 {
            learned.observe(&key, observation);
        }
        assert_eq!(learned.observations(&key), 10);
    }
    assert_eq!(lock(&learned.keys).len(), 3);
    assert_eq!(learned.observations(&ScheduleKey::new("ssm", "Op0", None)), 0, "least recently used dropped");
}

#[test]
fn a_summary_round_trips_through_json_and_merges_into_another_learner() {
    let learned = LearnedSchedule::new().with_seed(7);
    for _ in 0..30 {
        settle_once(&learned, Duration::from_millis(800));
    }
    let summary = learned.summary(&key()).unwrap();
    let json = serde_json::to_string(&summary).unwrap();
    let other = LearnedSchedule::new().with_seed(7);
    other.merge(&key(), &serde_json::from_str(&json).unwrap());
    assert_eq!(other.summary(&key()), Some(summary));
    // Estimated at once rather than step by step: near, not necessarily equal.
    let (mine, theirs) = (learned.first_read(&key()).unwrap(), other.first_read(&key()).unwrap());
    let ratio = mine.as_secs_f64() / theirs.as_secs_f64();
    assert!((0.8..1.25).contains(&ratio), "{mine:?} vs {theirs:?}");
}

#[test]
fn the_estimate_puts_the_mass_inside_the_observed_intervals() {
    let mut l = Learned::default();
    for _ in 0..40 {
        l.push(
            Observation {
                invisible_at: Some(Duration::from_secs(1)),
                visible_by: Some(Duration::from_secs(2)),
            },
            256,
        );
    }
    l.estimate();
    let (lo, hi) = interval(&l.observations[0]);
    // The 5-bin smoothing kernel spreads a little mass to the two bins either side, no further.
    let inside: f64 = l.mass[lo..=hi].iter().sum();
    assert!(inside > 0.95, "{inside}");
    let near: f64 = l.mass[lo - 2..=hi + 2].iter().sum();
    assert!(near > 0.999, "{near}");
    assert!(grid()[lo - 1] <= 1.0 && grid()[hi] >= 2.0);
}
