//! The enforcer's mechanics against moto without lag: what is recorded, settled and counted.

use std::time::Duration;

use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};
use aws_settle::post::{Enforcer, SettleExt, attach};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

#[tokio::test]
async fn settled_put_runs_one_read_back_per_check_and_counts_it() {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let name = format!("/settle/{}", settle_testbed::unique_name("plumbing"));

    let put = ssm
        .put_parameter()
        .name(&name)
        .value("v1")
        .r#type(ParameterType::String)
        .tags(tag("team", "a"))
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(put.version(), 1);
    // Version/value and tags: two checks, both settled.
    assert_eq!(enforcer.stats().checks_passed, 2);
    assert_eq!(enforcer.stats().checks_failed, 0);

    ssm.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(&name)
        .tags(tag("env", "dev"))
        .send()
        .settled()
        .await
        .unwrap();
    ssm.delete_parameter().name(&name).send().settled().await.unwrap();
    assert_eq!(enforcer.stats().checks_passed, 4);
}

#[tokio::test]
async fn reads_and_failed_writes_are_not_recorded_and_writes_without_a_rule_fail_closed() {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let name = format!("/settle/{}", settle_testbed::unique_name("unchecked"));

    let err = ssm.get_parameter().name(&name).send().settled().await.unwrap_err();
    assert!(err.call_error().is_some(), "a failed call is the call's own error: {err}");
    // A failed write (overwrite=false on an existing name) records nothing.
    ssm.put_parameter().name(&name).value("a").r#type(ParameterType::String).send().settled().await.unwrap();
    let failed = ssm
        .put_parameter()
        .name(&name)
        .value("b")
        .r#type(ParameterType::String)
        .send()
        .settled()
        .await
        .unwrap_err();
    assert!(failed.call_error().is_some());
    // A write without a rule is not confirmed: `.settled()` says so (and it is counted).
    let err = ssm.create_document()
        .name(settle_testbed::unique_name("doc"))
        .content(r#"{"schemaVersion":"2.2","description":"d","mainSteps":[{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["true"]}}]}"#)
        .document_type(aws_sdk_ssm::types::DocumentType::Command)
        .send()
        .settled()
        .await
        .unwrap_err();
    let unchecked = &err.read_back().expect("a write without a rule").unchecked;
    assert_eq!((unchecked[0].service, unchecked[0].operation.as_str()), ("ssm", "CreateDocument"));

    let stats = enforcer.stats();
    assert_eq!(stats.checks_passed, 1, "only the successful PutParameter settled: {stats:?}");
    assert_eq!(stats.unchecked.get("ssm:CreateDocument"), Some(&1), "{stats:?}");
    assert!(!stats.unchecked.keys().any(|k| k.contains("GetParameter")), "reads are not writes: {stats:?}");
}

#[tokio::test]
async fn writes_outside_a_settle_step_wait_in_the_enforcer_until_settle_pending() {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let name = format!("/settle/{}", settle_testbed::unique_name("pending"));
    ssm.put_parameter().name(&name).value("a").r#type(ParameterType::String).send().await.unwrap();
    assert_eq!(enforcer.stats().pending, 1);
    enforcer.settle_pending().await.unwrap();
    let stats = enforcer.stats();
    assert_eq!((stats.pending, stats.checks_passed), (0, 1));
}

#[tokio::test]
async fn scope_settles_every_write_made_inside_it() {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let prefix = format!("/settle/{}", settle_testbed::unique_name("scope"));
    let written = enforcer
        .scope(async {
            for i in 0..5 {
                ssm.put_parameter()
                    .name(format!("{prefix}/{i}"))
                    .value("x")
                    .r#type(ParameterType::String)
                    .send()
                    .await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(5)
        })
        .await
        .unwrap();
    assert_eq!(written, 5);
    assert_eq!(enforcer.stats().checks_passed, 5);
    assert_eq!(enforcer.stats().pending, 0);
}

#[tokio::test]
async fn secrets_manager_create_put_tag_delete_settle() {
    let enforcer = Enforcer::builder()
        .with_options(aws_settle::post::SettleOptions::new().with_max_wait(Duration::from_secs(20)))
        .build();
    let sm = attach(aws_sdk_secretsmanager::Client::new(&settle_testbed::moto_sdk_config()), &enforcer);
    let name = settle_testbed::unique_name("plumbing-secret");
    let created = sm
        .create_secret()
        .name(&name)
        .secret_string("v1")
        .tags(aws_sdk_secretsmanager::types::Tag::builder().key("k").value("v").build())
        .send()
        .settled()
        .await
        .unwrap();
    let arn = created.arn().unwrap();
    sm.put_secret_value().secret_id(arn).secret_string("v2").send().settled().await.unwrap();
    sm.untag_resource().secret_id(arn).tag_keys("k").send().settled().await.unwrap();
    sm.delete_secret().secret_id(arn).recovery_window_in_days(7).send().settled().await.unwrap();
    sm.restore_secret().secret_id(arn).send().settled().await.unwrap();
    sm.delete_secret().secret_id(arn).force_delete_without_recovery(true).send().settled().await.unwrap();
    // create: 2 checks; then one each.
    assert_eq!(enforcer.stats().checks_passed, 7, "{:?}", enforcer.stats());
}

#[tokio::test]
async fn attaching_again_moves_the_client_to_the_new_enforcer_instead_of_recording_twice() {
    let (first, second) = (Enforcer::new(), Enforcer::new());
    let once = attach(aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config()), &first);
    let twice = attach(once.clone(), &first);
    let moved = attach(once, &second);
    let name = format!("/settle/{}", settle_testbed::unique_name("reattach"));

    let put = twice.put_parameter().name(&name).value("a").r#type(ParameterType::String);
    put.send().settled().await.unwrap();
    assert_eq!(first.stats().checks_passed, 1, "one check, not one per attach: {:?}", first.stats());

    moved.put_parameter().name(&name).value("b").overwrite(true).send().settled().await.unwrap();
    assert_eq!((first.stats().checks_passed, second.stats().checks_passed), (1, 1));
}
