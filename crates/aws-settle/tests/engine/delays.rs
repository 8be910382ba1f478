//! Smithy delays in virtual time: 10,000 seeded runs stay within the spec's bounds.

use std::time::Duration;

use aws_settle::wait::{Clock, Delays, ErrorResponse, VirtualClock, WaitError, Waiter};

const MIN: Duration = Duration::from_secs(2);
const MAX: Duration = Duration::from_secs(120);
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Checks one sequence of sleeps against the Smithy waiter-retry rules.
fn check(sleeps: &[Duration], seed: u64) {
    let mut elapsed = Duration::ZERO;
    for (i, delay) in sleeps.iter().enumerate() {
        let attempt = i as u32 + 1;
        let remaining = MAX_WAIT - elapsed;
        assert!(remaining > MIN, "seed {seed}: slept with only {remaining:?} left");
        let ceiling = (MIN * 2u32.pow((attempt - 1).min(20))).min(MAX);
        let trimmed = remaining - MIN;
        assert!(*delay <= ceiling, "seed {seed}: sleep {attempt} = {delay:?} > ceiling {ceiling:?}");
        assert!(*delay <= MAX, "seed {seed}: sleep {attempt} = {delay:?} > max delay");
        assert!(
            *delay >= MIN || *delay == trimmed,
            "seed {seed}: sleep {attempt} = {delay:?} < min delay and not the trimmed last sleep"
        );
        if *delay == trimmed {
            assert_eq!(i, sleeps.len() - 1, "seed {seed}: a trimmed sleep must be the last");
        }
        elapsed += *delay;
        assert!(elapsed <= MAX_WAIT, "seed {seed}: slept past the max wait ({elapsed:?})");
    }
    // It stops only when no more than min delay is left.
    assert!(MAX_WAIT - elapsed <= MIN, "seed {seed}: stopped early at {elapsed:?}");
}

#[test]
fn ten_thousand_seeded_schedules_stay_within_the_smithy_bounds() {
    let delays = Delays::smithy(MIN, MAX).max_wait(MAX_WAIT);
    let mut lengths = std::collections::BTreeSet::new();
    let mut jittered = false;
    for seed in 0..10_000u64 {
        let sleeps = delays.schedule(seed);
        check(&sleeps, seed);
        lengths.insert(sleeps.len());
        jittered |= sleeps.first() != Some(&MIN);
    }
    // Exponential with jitter: the first sleep is exactly min delay ([2, 2]); later ones vary.
    assert!(!jittered, "the first sleep is in [min, min]");
    assert!(lengths.len() > 1, "jitter changes the number of attempts across seeds: {lengths:?}");
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    let delays = Delays::smithy(MIN, MAX).max_wait(MAX_WAIT);
    assert_eq!(delays.schedule(42), delays.schedule(42));
    assert_ne!(delays.schedule(42), delays.schedule(43));
}

#[test]
fn equal_min_and_max_give_constant_sleeps_and_a_trimmed_last_one() {
    // With a tiny jitter range (min = max) every sleep is min until the last trimmed one.
    let flat =
        Delays::smithy(Duration::from_secs(5), Duration::from_secs(5)).max_wait(Duration::from_secs(23));
    assert_eq!(
        flat.schedule(1),
        [5, 5, 5, 3].map(Duration::from_secs).to_vec(),
        "23 s: 5+5+5 then trimmed to 23-15-5 = 3, leaving exactly min delay"
    );
}

#[test]
fn fixed_delays_are_botocore_delay_times_max_attempts() {
    let fixed = Delays::fixed(Duration::from_secs(20), 25);
    let sleeps = fixed.schedule(0);
    assert_eq!(sleeps.len(), 24);
    assert!(sleeps.iter().all(|d| *d == Duration::from_secs(20)));
    // A max wait shorter than delay × attempts ends the wait rather than sleep up to it: a call
    // made at the max wait would have no time left (calls are cut off there).
    let capped = Delays::fixed(Duration::from_secs(20), 25).max_wait(Duration::from_secs(50));
    assert_eq!(capped.schedule(0), [20, 20].map(Duration::from_secs).to_vec());
    let exact = Delays::fixed(Duration::from_secs(20), 25).max_wait(Duration::from_secs(40));
    assert_eq!(exact.schedule(0), [20].map(Duration::from_secs).to_vec());
}

#[tokio::test]
async fn a_waiter_in_virtual_time_never_waits_past_max_wait() {
    for seed in 0..200u64 {
        let clock = VirtualClock::new();
        let request_time = Duration::from_millis(300);
        let result = Waiter::new(Delays::smithy(MIN, MAX).max_wait(MAX_WAIT))
            .retry_on_error_code("NotYet")
            .clock(clock.clone())
            .seed(seed)
            .wait(|| {
                clock.advance(request_time); // each call takes 300 ms of virtual time
                async { Err::<(), _>(ErrorResponse::new("NotYet", 404)) }
            })
            .await;
        let Err(WaitError::Timeout { attempts, elapsed, last, .. }) = result else { panic!("{result:?}") };
        assert!(clock.now() <= MAX_WAIT, "seed {seed}: {:?}", clock.now());
        assert!(elapsed <= MAX_WAIT);
        assert_eq!(attempts as usize, clock.sleeps().len() + 1);
        assert!(last.unwrap().contains("NotYet"));
    }
}
