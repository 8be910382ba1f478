//! The opt-in Resource Groups Tagging API view under held visibility: tag writes also wait for
//! GetResources.

use aws_sdk_resourcegroupstagging::Client as Tagging;
use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};
use aws_settle::post::{Enforcer, SettleExt, attach};

use crate::{Held, Lagged, s3, unique};

/// The tags GetResources shows for ARNs ending in `suffix`.
async fn view_tags(tagging: &Tagging, resource_type: &str, suffix: &str) -> Vec<String> {
    let out = tagging.get_resources().resource_type_filters(resource_type).send().await.unwrap();
    out.resource_tag_mapping_list()
        .iter()
        .filter(|m| m.resource_arn().is_some_and(|a| a.ends_with(suffix)))
        .flat_map(|m| m.tags().iter().map(|t| format!("{}={}", t.key(), t.value())))
        .collect()
}

#[tokio::test]
async fn ssm_tag_writes_wait_for_the_tagging_api_view() {
    let env = Held::new();
    let tagging = Tagging::new(&env.config);
    let enforcer = Enforcer::builder().with_tagging_view(tagging.clone()).build();
    let plain = aws_sdk_ssm::Client::new(&env.config);
    let ssm = attach(plain.clone(), &enforcer);
    let direct = aws_sdk_ssm::Client::new(&settle_testbed::moto_sdk_config());
    let (naive, settled) = (format!("/settle/view/{}", unique("n")), format!("/settle/view/{}", unique("s")));
    for name in [&naive, &settled] {
        direct.put_parameter().name(name).value("v").r#type(ParameterType::String).send().await.unwrap();
    }
    let add = |client: &aws_sdk_ssm::Client, name: &str| {
        client
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .tags(Tag::builder().key("cost-center").value("42").build().unwrap())
            .send()
    };
    add(&plain, &naive).await.unwrap();
    assert!(view_tags(&tagging, "ssm:parameter", &naive).await.is_empty(), "naive: the view is held");

    let release = env.release_after_blocked_reads(2);
    add(&ssm, &settled).settled().await.unwrap();
    assert!(release.is_finished(), "the settled tag write returned only after the release");
    assert_eq!(view_tags(&tagging, "ssm:parameter", &settled).await, ["cost-center=42"]);
    // The parameter's own tags and the tagging view: two checks for the tag write.
    let stats = enforcer.stats();
    assert_eq!((stats.checks_passed, stats.checks_failed), (2, 0), "{stats:?}");
    assert!(env.proxy.counters().tagging_view_rewrites > 0, "the proxy held the view");

    let release = env.release_after_blocked_reads(2);
    let remove = ssm
        .remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(&settled)
        .tag_keys("cost-center");
    remove.send().settled().await.unwrap();
    assert!(release.is_finished(), "the settled untag returned only after the release");
    assert!(view_tags(&tagging, "ssm:parameter", &settled).await.is_empty());
}

#[tokio::test]
async fn without_the_view_tag_writes_do_not_query_the_tagging_api() {
    let env = Lagged::new("0s");
    let ssm = attach(aws_sdk_ssm::Client::new(&env.config), &env.enforcer);
    let name = format!("/settle/view/{}", unique("off"));
    ssm.put_parameter()
        .name(&name)
        .value("v")
        .r#type(ParameterType::String)
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .settled()
        .await
        .unwrap();
    let counters = env.proxy.counters();
    assert!(!counters.per_operation.keys().any(|k| k.contains("GetResources")), "{counters:?}");
    assert_eq!(env.enforcer.stats().checks_passed, 2);
}

#[tokio::test]
async fn secrets_and_buckets_tag_writes_wait_for_the_view() {
    let env = Held::new();
    let tagging = Tagging::new(&env.config);
    let enforcer = Enforcer::builder().with_tagging_view(tagging.clone()).build();
    let sm = attach(aws_sdk_secretsmanager::Client::new(&env.config), &enforcer);
    let name = unique("view-secret");
    let release = env.release_after_blocked_reads(2);
    let created = sm
        .create_secret()
        .name(&name)
        .secret_string("x")
        .tags(aws_sdk_secretsmanager::types::Tag::builder().key("team").value("a").build())
        .send()
        .settled()
        .await
        .unwrap();
    assert!(release.is_finished(), "the settled create returned only after the release");
    assert_eq!(view_tags(&tagging, "secretsmanager:secret", created.arn().unwrap()).await, ["team=a"]);

    let bucket = unique("view-bucket").to_lowercase();
    s3(&settle_testbed::moto_sdk_config()).create_bucket().bucket(&bucket).send().await.unwrap();
    let s3 = attach(s3(&env.config), &enforcer);
    let tagging_set = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("env").value("prod").build().unwrap())
        .build()
        .unwrap();
    let release = env.release_after_blocked_reads(2);
    s3.put_bucket_tagging().bucket(&bucket).tagging(tagging_set).send().settled().await.unwrap();
    assert!(release.is_finished(), "the settled bucket tagging returned only after the release");
    assert_eq!(view_tags(&tagging, "s3", &format!(":::{bucket}")).await, ["env=prod"]);
    assert_eq!(enforcer.stats().checks_failed, 0);
}
