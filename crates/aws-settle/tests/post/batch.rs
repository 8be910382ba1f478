//! Batch settling, bounded waits and the cost of settling, on held visibility (no assertion
//! depends on time).

use std::time::Duration;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, SettleOptions, attach};
use aws_settle::wait::WaitError;

use crate::{Held, Lagged, unique};

#[tokio::test]
async fn fifty_writes_in_one_scope_are_read_back_concurrently() {
    let env = Held::new();
    let ssm = attach(Client::new(&env.config), &env.enforcer);
    let prefix = format!("/settle/batch/{}", unique("b"));
    // Released only once 50 read-backs were answered from the pre-write state. Serial read-backs
    // could not get there: the first would poll its own held write at most ~10 times in its 30 s
    // (delays of at least 1 s) and fail.
    let release = env.release_after_blocked_reads(50);
    let options = SettleOptions::new()
        .with_max_wait(Duration::from_secs(30))
        .with_delays(Duration::from_secs(1), Duration::from_secs(4));
    env.enforcer
        .scope_with(options, async {
            for i in 0..50 {
                let put = ssm.put_parameter().name(format!("{prefix}/{i}")).value(format!("v{i}"));
                put.r#type(ParameterType::String).send().await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .await
        .unwrap();
    assert_eq!(release.await.unwrap(), 50, "every write was held until the 50 read-backs had run");
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_passed, stats.checks_failed), (50, 0), "{stats:?}");
}

#[tokio::test]
async fn a_held_write_ends_in_the_typed_timeout_with_a_bounded_summary_of_what_was_seen() {
    let env = Held::new();
    let options = SettleOptions::new().with_max_wait(Duration::from_secs(1));
    let enforcer = Enforcer::builder().with_options(options).build();
    let ssm = attach(Client::new(&env.config), &enforcer);
    let name = format!("/settle/timeout/{}", unique("t"));
    let err = ssm
        .put_parameter()
        .name(&name)
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .settled()
        .await
        .unwrap_err();

    let failed = err.read_back().expect("the write succeeded but was not confirmed");
    assert_eq!((failed.passed, failed.failed.len()), (0, 1));
    let failure = &failed.failed[0];
    assert_eq!((failure.operation, failure.resource.as_str()), ("PutParameter", name.as_str()));
    assert!(matches!(failure.source, WaitError::Timeout { .. }), "{:?}", failure.source);
    assert!(failure.source.attempts() >= 2, "{:?}", failure.source);
    // Last seen: the error's code, status and message; not the raw HTTP response.
    let last = failure.source.last().unwrap();
    assert!(last.contains("ParameterNotFound") && last.contains("400"), "{last}");
    let bound = aws_settle::wait::MAX_LAST_SEEN + 16;
    assert!(last.len() <= bound && !last.contains("headers") && !last.contains("x-amzn"), "{last}");
    let message = err.to_string();
    assert!(message.contains("PutParameter") && message.contains(&name), "{message}");
    assert!(message.contains("version ≥ 1") && message.contains("ParameterNotFound"), "{message}");
    assert!(message.len() < 1000, "bounded: {} bytes: {message}", message.len());
    assert_eq!(enforcer.stats().checks_failed, 1);

    // A per-call bound overrides the enforcer's 60 s: with delays of at least 200 ms, 300 ms
    // leave room for at most 3 attempts (60 s would make dozens).
    let patient =
        Enforcer::builder().with_options(SettleOptions::new().with_max_wait(Duration::from_secs(60))).build();
    let ssm = attach(Client::new(&env.config), &patient);
    let put = ssm.put_parameter().name(format!("{name}-2")).value("v").r#type(ParameterType::String).send();
    let err = put.settled_within(Duration::from_millis(300)).await.unwrap_err();
    let attempts = err.read_back().unwrap().failed[0].source.attempts();
    assert!((1..=3).contains(&attempts), "the per-call 300 ms bound held: {attempts} attempts");
    env.proxy.release_all();
}

#[tokio::test]
async fn without_lag_a_settled_write_costs_one_read_per_check() {
    let env = Lagged::new("0s");
    let (_, ssm) = env.clients(Client::new);
    let prefix = format!("/settle/cost/{}", unique("c"));
    for i in 0..10 {
        ssm.put_parameter()
            .name(format!("{prefix}/{i}"))
            .value("v")
            .r#type(ParameterType::String)
            .send()
            .settled()
            .await
            .unwrap();
    }
    let counters = env.proxy.counters();
    assert_eq!(counters.per_operation.get("ssm:PutParameter"), Some(&10), "{counters:?}");
    assert_eq!(
        counters.per_operation.get("ssm:GetParameter"),
        Some(&10),
        "one read-back per write: {counters:?}"
    );
    assert_eq!(env.enforcer.stats().checks_passed, 10);
}
