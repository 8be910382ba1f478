//! Settling fails closed: a call no enforcer recorded, a write without a rule and a write made in
//! a spawned task are never passed silently; lenient mode lets them through with a warning.
//!
//! Every test runs against a proxy that holds writes invisible until released, so "the naive
//! read fails" is certain.

use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleError, SettleExt, SettleOptions, attach};

use crate::{Held, capture_warnings, s3, unique};

fn parameter() -> String {
    format!("/settle/failclosed/{}", unique("p"))
}

async fn parameter_missing(ssm: &aws_sdk_ssm::Client, name: &str) -> bool {
    ssm.get_parameter()
        .name(name)
        .send()
        .await
        .is_err_and(|e| e.into_service_error().is_parameter_not_found())
}

#[tokio::test]
async fn settled_on_a_client_that_was_never_attached_is_an_error_naming_the_call() {
    let env = Held::new();
    let plain = aws_sdk_ssm::Client::new(&env.config);
    let name = parameter();
    let put = plain.put_parameter().name(&name).value("v").r#type(ParameterType::String);
    let err = put.send().settled().await.unwrap_err();
    let SettleError::NotRecorded(not_recorded) = &err else { panic!("expected NotRecorded, got {err}") };
    assert_eq!(not_recorded.call, "ssm PutParameter");
    let message = err.to_string();
    assert!(
        message.contains("ssm PutParameter") && message.contains("aws_settle::post::attach"),
        "{message}"
    );
    assert!(message.contains("with_lenient(true)"), "says how to opt out: {message}");
    assert!(parameter_missing(&plain, &name).await, "and indeed nothing confirmed the write: it is held");
    assert_eq!(env.proxy.release_all(), 1);
}

#[tokio::test]
async fn a_read_on_an_attached_client_settles_at_once_and_costs_nothing() {
    let env = Held::new();
    let name = parameter();
    let direct = aws_sdk_ssm::Client::new(&settle_emulator::moto_sdk_config());
    direct.put_parameter().name(&name).value("v").r#type(ParameterType::String).send().await.unwrap();
    let ssm = attach(aws_sdk_ssm::Client::new(&env.config), &env.enforcer);
    let got = ssm.get_parameter().name(&name).send().settled().await.unwrap();
    assert_eq!(got.parameter().and_then(|p| p.value()), Some("v"));
    let counters = env.proxy.counters();
    assert_eq!(counters.per_operation.get("ssm:GetParameter"), Some(&1), "no read-back: {counters:?}");
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_passed, stats.unchecked.len(), stats.pending), (0, 0, 0), "{stats:?}");
}

#[tokio::test]
async fn a_write_without_a_rule_is_an_error_while_its_change_is_not_visible() {
    let env = Held::new();
    let role = unique("settle-fc-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let direct = aws_sdk_iam::Client::new(&settle_emulator::moto_sdk_config());
    direct
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .description("old")
        .send()
        .await
        .unwrap();
    let plain = aws_sdk_iam::Client::new(&env.config);
    let iam = attach(plain.clone(), &env.enforcer);
    // A write the proxy lags and no rule checks.
    let err =
        iam.update_role_description().role_name(&role).description("new").send().settled().await.unwrap_err();
    let unchecked = &err.read_back().expect("a read-back error").unchecked;
    assert_eq!((unchecked[0].service, unchecked[0].operation.as_str()), ("iam", "UpdateRoleDescription"));
    let message = err.to_string();
    assert!(message.contains("iam:UpdateRoleDescription has no read-back rule"), "{message}");
    assert!(message.contains("EnforcerBuilder::with_rule"), "says how to add one: {message}");
    let read = plain.get_role().role_name(&role).send().await.unwrap();
    assert_eq!(
        read.role().and_then(|r| r.description()),
        Some("old"),
        "the change is still invisible: an Ok would have been a lie"
    );
    assert_eq!(env.enforcer.stats().unchecked.get("iam:UpdateRoleDescription"), Some(&1));
    assert_eq!(env.proxy.release_all(), 1);
}

#[tokio::test]
async fn writes_from_a_task_spawned_inside_a_scope_are_settled_by_the_scope() {
    let env = Held::new();
    let (plain, ssm) =
        (aws_sdk_ssm::Client::new(&env.config), attach(aws_sdk_ssm::Client::new(&env.config), &env.enforcer));
    let name = parameter();
    let release = env.release_after_a_blocked_read();
    let written = env
        .enforcer
        .scope(async {
            let (ssm, n) = (ssm.clone(), name.clone());
            let spawned = tokio::spawn(async move {
                ssm.put_parameter().name(&n).value("v").r#type(ParameterType::String).send().await
            });
            spawned.await??;
            assert!(parameter_missing(&plain, &name).await, "held: invisible until released");
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(1)
        })
        .await
        .unwrap();
    assert_eq!(written, 1);
    assert_eq!(release.await.unwrap(), 1, "the scope's read-back waited for the release");
    assert!(!parameter_missing(&plain, &name).await, "readable once the scope returned");
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_passed, stats.pending), (1, 0), "{stats:?}");
}

/// A bucket write no rule checks.
fn cors() -> aws_sdk_s3::types::CorsConfiguration {
    let rule = aws_sdk_s3::types::CorsRule::builder().allowed_methods("GET").allowed_origins("*").build();
    aws_sdk_s3::types::CorsConfiguration::builder().cors_rules(rule.unwrap()).build().unwrap()
}

#[tokio::test]
async fn an_unchecked_write_from_a_spawned_task_fails_the_scope() {
    let env = Held::new();
    let bucket = crate::bucket_with_object("settle-fc").await;
    let attached = attach(s3(&env.config), &env.enforcer);
    let result = env
        .enforcer
        .scope(async {
            let (s3, b) = (attached.clone(), bucket.clone());
            let write = s3.put_bucket_cors().bucket(&b).cors_configuration(cors());
            tokio::spawn(async move { write.send().await.map(|_| ()) }).await??;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("has no read-back rule"), "{message}");
    env.proxy.release_all();
}

#[tokio::test]
async fn lenient_mode_passes_with_one_warning_and_a_count_per_enforcer_and_per_call() {
    let (captured, _guard) = capture_warnings();
    let lenient = Enforcer::builder().with_options(SettleOptions::new().with_lenient(true)).build();
    let env = Held::with_enforcer(lenient);
    let bucket = crate::bucket_with_object("settle-fc").await;
    let attached = attach(s3(&env.config), &env.enforcer);
    let put = attached.put_bucket_cors().bucket(&bucket).cors_configuration(cors());
    put.send().settled().await.unwrap();
    let stats = env.enforcer.stats();
    assert_eq!((stats.lenient_passes, stats.unchecked.get("s3:PutBucketCors")), (1, Some(&1)));
    let warnings = captured.text().lines().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("WARN") && warnings[0].contains("s3:PutBucketCors"), "{warnings:?}");

    // Per call: lenient on an unattached client, and strict again on a lenient enforcer.
    let plain = aws_sdk_ssm::Client::new(&env.config);
    let name = parameter();
    let put = plain.put_parameter().name(&name).value("v").r#type(ParameterType::String);
    put.send().settled_with(SettleOptions::new().with_lenient(true)).await.unwrap();
    let warnings = captured.text().lines().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[1].contains("ssm PutParameter"), "{warnings:?}");
    let put = attached.put_bucket_cors().bucket(&bucket).cors_configuration(cors());
    let strict = put.send().settled_with(SettleOptions::new().with_lenient(false)).await.unwrap_err();
    assert!(strict.read_back().is_some_and(|e| e.unchecked.len() == 1), "{strict}");
    env.proxy.release_all();
}
