//! Batch settling, bounded waits and the cost of settling.

use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, attach};
use aws_settle::wait::WaitError;

use crate::{Lagged, unique};

#[tokio::test]
async fn fifty_writes_in_one_scope_settle_in_about_the_longest_lag_not_the_sum() {
    let env = Lagged::new("500ms..2s");
    let (_, ssm) = env.clients(Client::new);
    let prefix = format!("/settle/batch/{}", unique("b"));
    let started = Instant::now();
    env.enforcer
        .scope(async {
            for i in 0..50 {
                ssm.put_parameter()
                    .name(format!("{prefix}/{i}"))
                    .value(format!("v{i}"))
                    .r#type(ParameterType::String)
                    .send()
                    .await
                    .unwrap();
            }
            Ok::<_, aws_settle::post::ReadBackError>(())
        })
        .await
        .unwrap();
    let elapsed = started.elapsed();

    let lags: Vec<f64> =
        env.proxy.visibility(None, Some("PutParameter")).iter().filter_map(|v| v.lag_ms).collect();
    assert_eq!(lags.len(), 50);
    let sum = Duration::from_secs_f64(lags.iter().sum::<f64>() / 1000.0);
    let max = Duration::from_secs_f64(lags.iter().cloned().fold(0.0, f64::max) / 1000.0);
    let ratio = elapsed.as_secs_f64() / sum.as_secs_f64();
    eprintln!("50 writes settled in {elapsed:?}; sum of lags {sum:?}, max {max:?}, ratio {ratio:.3}");
    assert!(ratio < 0.2, "batch took {elapsed:?}, {ratio:.2} of the summed lag {sum:?}");
    assert_eq!(env.enforcer.stats().checks_passed, 50);
}

#[tokio::test]
async fn a_lag_longer_than_the_timeout_returns_the_typed_timeout_in_bounded_time() {
    let env = Lagged::new("20s");
    let enforcer = Enforcer::builder()
        .with_options(aws_settle::post::SettleOptions::new().with_max_wait(Duration::from_secs(1)))
        .build();
    let ssm = attach(Client::new(&env.config), &enforcer);
    let name = format!("/settle/timeout/{}", unique("t"));
    let started = Instant::now();
    let err = ssm
        .put_parameter()
        .name(&name)
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .settled()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(4), "bounded: returned after {elapsed:?}");

    let unsettled = err.read_back().expect("the write succeeded but did not settle");
    assert_eq!((unsettled.passed, unsettled.failed.len()), (0, 1));
    let failure = &unsettled.failed[0];
    assert_eq!((failure.operation, failure.resource.as_str()), ("PutParameter", name.as_str()));
    assert!(matches!(failure.source, WaitError::Timeout { .. }), "{:?}", failure.source);
    assert!(failure.source.attempts() >= 2, "{:?}", failure.source);
    let message = err.to_string();
    assert!(message.contains("PutParameter") && message.contains(&name), "{message}");
    assert!(
        message.contains("version ≥ 1") && message.contains("ParameterNotFound"),
        "says what was expected and seen: {message}"
    );
    assert_eq!(enforcer.stats().checks_failed, 1);

    // A per-call bound overrides the enforcer's (here 60 s).
    let patient = attach(
        Client::new(&env.config),
        &Enforcer::builder()
            .with_options(aws_settle::post::SettleOptions::new().with_max_wait(Duration::from_secs(60)))
            .build(),
    );
    let started = Instant::now();
    let other = format!("{name}-2");
    let put = patient.put_parameter().name(&other).value("v").r#type(ParameterType::String).send();
    let err = put.settled_within(Duration::from_millis(300)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.read_back().is_some(), "{err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "the per-call 300 ms bound held, not the enforcer's 60 s: {elapsed:?}"
    );
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
