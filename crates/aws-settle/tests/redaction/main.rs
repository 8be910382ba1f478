//! Secret values never reach a settle error or a tracing event.
//!
//! A test binary of its own: it installs a global tracing subscriber at TRACE level, which must not
//! race with other tests' callsite interest.

use std::time::Duration;

use aws_settle::post::{Enforcer, SettleExt, attach};

#[tokio::test]
async fn a_secret_that_does_not_settle_is_reported_without_its_values() {
    let logs = settle_testbed::LogCapture::default();
    tracing::subscriber::set_global_default(logs.subscriber(tracing::Level::TRACE)).unwrap();

    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::held());
    let sm = aws_sdk_secretsmanager::Client::new(&settle_testbed::sdk_config(&proxy.endpoint()));
    let name = settle_testbed::unique_name("redaction");
    // Create straight at moto, so the secret reads back at once, with its first value.
    let direct = aws_sdk_secretsmanager::Client::new(&settle_testbed::sdk_config(
        &settle_testbed::shared_moto().endpoint(),
    ));
    direct.create_secret().name(&name).secret_string("first-TOPSECRET-1111").send().await.unwrap();

    // Through the proxy holding writes, a new value is never current: DescribeSecret keeps
    // answering the first version, which the error then reports as "last seen".
    let enforcer = Enforcer::builder()
        .with_options(aws_settle::post::SettleOptions::new().with_max_wait(Duration::from_millis(800)))
        .build();
    let sm = attach(sm, &enforcer);
    let err = sm
        .put_secret_value()
        .secret_id(&name)
        .secret_string("second-TOPSECRET-2222")
        .send()
        .settled()
        .await
        .unwrap_err();
    let message = format!("{err} {err:?}");
    assert!(message.contains("PutSecretValue") && message.contains("last seen"), "{message}");
    assert!(message.contains("DescribeSecretOutput"), "the last output is reported: {message}");
    let logged = logs.text();
    assert!(logged.contains("waiter attempt"), "attempts were traced: {logged}");
    for secret in ["TOPSECRET", "first-", "second-"] {
        assert!(!message.contains(secret), "the error leaks {secret}: {message}");
        assert!(!logged.contains(secret), "a tracing event leaks {secret}");
    }
}
