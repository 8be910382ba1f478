//! Regression tests of the defects issue 16 reports (each fails on the code before the fix).

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, attach};

use crate::{Lagged, unique};

/// AWS keeps a parameter's type when an overwrite omits `Type`: the read-back must not compare
/// the plaintext written with the ciphertext GetParameter answers.
#[tokio::test]
async fn overwriting_a_secure_string_without_its_type_settles() {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let name = format!("/settle/defects/{}", unique("secure"));
    let create = ssm.put_parameter().name(&name).value("s3cret-1").r#type(ParameterType::SecureString);
    create.send().settled().await.unwrap();
    let overwrite = ssm.put_parameter().name(&name).value("s3cret-2").overwrite(true);
    let put = overwrite.send().settled_within(Duration::from_secs(5)).await.unwrap();
    assert_eq!(put.version(), 2);
    assert_eq!(enforcer.stats().checks_passed, 2);
}

/// A failed call shows its error code and message, not only "service error".
#[tokio::test]
async fn a_failed_call_displays_its_error_code_and_message() {
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &Enforcer::new());
    let name = format!("/settle/defects/{}", unique("missing"));
    let err = ssm.get_parameter().name(&name).send().settled().await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("the call failed: ParameterNotFound"), "{shown}");
    assert!(err.call_error().is_some());
}

/// Secrets Manager read-backs prove a new version by DescribeSecret's `VersionIdsToStages`:
/// no GetSecretValue, which needs permission to read the secret and brings its value back.
#[tokio::test]
async fn secrets_manager_read_backs_never_call_get_secret_value() {
    let env = Lagged::new("0s");
    let sm = attach(aws_sdk_secretsmanager::Client::new(&env.config), &env.enforcer);
    let name = unique("settle-defects-secret");
    let created = sm.create_secret().name(&name).secret_string("v1").send().settled().await.unwrap();
    let arn = created.arn().unwrap();
    sm.put_secret_value().secret_id(arn).secret_string("v2").send().settled().await.unwrap();
    sm.update_secret().secret_id(arn).secret_string("v3").send().settled().await.unwrap();
    let counters = env.proxy.counters();
    assert_eq!(counters.per_operation.get("secretsmanager:GetSecretValue"), None, "{counters:?}");
    assert!(
        counters.per_operation.get("secretsmanager:DescribeSecret").is_some_and(|n| *n >= 3),
        "{counters:?}"
    );
    assert_eq!(env.enforcer.stats().checks_passed, 4);
}
